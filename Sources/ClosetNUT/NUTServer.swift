import ClosetModel
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The agent's NUT-compatible server: upsd's network protocol on TCP, so a stock `upsc`,
/// `upsmon` or WinNUT on the closet's servers reads the UPS the agent reads. One thread
/// runs every connection with poll(2); a client that floods, sends over-long lines or
/// stops reading is dropped alone. The tables come from `update`, the protocol from
/// `NUTServerSession`.
public final class NUTServer: Sendable {
    public struct Settings: Sendable {
        /// Addresses to listen on (`127.0.0.1`, `192.0.2.5`, `::1`), each on `port`.
        public var addresses: [String]
        public var port: Int
        public var maxClients: Int
        /// A client silent this long is dropped (upsmon polls every 5 s).
        public var idleTimeout: Duration
        public var users: [NUTServerUser]

        public init(addresses: [String] = ["127.0.0.1"], port: Int = 3493, maxClients: Int = 32, idleTimeout: Duration = .seconds(300), users: [NUTServerUser] = []) {
            self.addresses = addresses
            self.port = port
            self.maxClients = maxClients
            self.idleTimeout = idleTimeout
            self.users = users
        }
    }

    public let settings: Settings
    private let listeners: [Int32]
    private let tables = Mutex<[String: NUTServedUPS]>([:])
    private let stopping = Atomic<Bool>(false)
    /// The bound addresses (`127.0.0.1:3493`), for the log.
    public let bound: [String]

    /// Binds every address now, so a port in use is an error at start, named.
    public init(settings: Settings) throws(NUTError) {
        self.settings = settings
        var fds: [Int32] = []
        var names: [String] = []
        for address in settings.addresses {
            do throws(NUTError) {
                let (fd, name) = try Self.listen(address, port: settings.port)
                fds.append(fd)
                names.append(name)
            } catch {
                for fd in fds { close(fd) }
                throw error
            }
        }
        listeners = fds
        bound = names
    }

    deinit { for fd in listeners { close(fd) } }

    /// The UPSes to serve from now on.
    public func update(_ upses: [String: NUTServedUPS]) {
        tables.withLock { $0 = upses }
    }

    /// Ends `run` within a quarter second.
    public func stop() { stopping.store(true, ordering: .relaxed) }

    private final class Client {
        let fd: Int32
        let peer: String
        var input: [UInt8] = []
        var output: [UInt8] = []
        var session = NUTServerSession()
        var lastHeard: ContinuousClock.Instant
        var closing = false

        init(fd: Int32, peer: String) {
            self.fd = fd
            self.peer = peer
            self.lastHeard = .now
        }
    }

    /// Serves until `stop`. Blocking: run it on a thread of its own. `onForcedShutdown` is
    /// called (on that thread) when a primary upsmon sends FSD; `log` for drops and errors.
    public func run(onForcedShutdown: (String, String) -> Void, log: (String) -> Void) {
        var clients: [Client] = []
        defer { for c in clients { close(c.fd) } }
        let maxOutput = 256 * 1024
        var chunk = [UInt8](repeating: 0, count: 4096)
        while !stopping.load(ordering: .relaxed) {
            var fds = listeners.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            for c in clients {
                fds.append(pollfd(fd: c.fd, events: Int16(POLLIN) | (c.output.isEmpty ? 0 : Int16(POLLOUT)), revents: 0))
            }
            let n = poll(&fds, nfds_t(fds.count), 250)
            if n < 0 && errno != EINTR { log("poll failed: \(String(cString: strerror(errno)))"); return }
            let now = ContinuousClock.now
            // New connections.
            for (i, listener) in listeners.enumerated() where fds[i].revents & Int16(POLLIN) != 0 {
                var address = sockaddr_storage()
                var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
                let fd = withUnsafeMutablePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { accept(listener, $0, &length) }
                }
                guard fd >= 0 else { continue }
                _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
                _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
                let peer = Self.describe(&address)
                if clients.count >= settings.maxClients {
                    let refusal = Array("ERR ACCESS-DENIED too many connections (\(settings.maxClients))\n".utf8)
                    _ = refusal.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                    close(fd)
                    log("refused \(peer): \(settings.maxClients) connections already")
                    continue
                }
                clients.append(Client(fd: fd, peer: peer))
            }
            // Reads, answers, writes.
            let upses = tables.withLock { $0 }
            for (k, c) in clients.enumerated() {
                let revents = k + listeners.count < fds.count && fds[k + listeners.count].fd == c.fd ? fds[k + listeners.count].revents : 0
                if revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 {
                    let got = chunk.withUnsafeMutableBytes { recv(c.fd, $0.baseAddress, $0.count, 0) }
                    if got <= 0 {
                        if got < 0 && (errno == EAGAIN || errno == EINTR) { continue }
                        c.closing = true
                        c.output = []
                        continue
                    }
                    c.lastHeard = now
                    c.input.append(contentsOf: chunk[..<got])
                    while let newline = c.input.firstIndex(of: 0x0A), !c.closing {
                        let line = String(decoding: c.input[..<newline], as: UTF8.self)
                        c.input.removeSubrange(...newline)
                        // Counted only for NUMLOGINS; this client's own session is being
                        // changed, so its login is read before.
                        let own = c.session.loggedIn
                        let outcome = c.session.handle(line, upses: upses, users: settings.users) { ups in
                            clients.filter { $0 !== c && $0.session.loggedIn == ups }.count + (own == ups ? 1 : 0)
                        }
                        for reply in outcome.lines {
                            c.output.append(contentsOf: reply.utf8)
                            c.output.append(0x0A)
                        }
                        if let ups = outcome.forcedShutdown { onForcedShutdown(ups, c.peer) }
                        if outcome.close { c.closing = true }
                    }
                    if c.input.count > NUTLine.maxLength && !c.closing {
                        c.output.append(contentsOf: Array("ERR INVALID-ARGUMENT line too long\n".utf8))
                        c.input = []
                        c.closing = true
                        log("dropped \(c.peer): a line longer than \(NUTLine.maxLength) bytes")
                    }
                }
                if !c.output.isEmpty {
                    let sent = c.output.withUnsafeBytes { send(c.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                    if sent > 0 {
                        c.output.removeFirst(sent)
                    } else if sent < 0 && errno != EAGAIN && errno != EINTR {
                        c.output = []
                        c.closing = true
                    }
                }
                if c.output.count > maxOutput {
                    log("dropped \(c.peer): not reading its answers")
                    c.output = []
                    c.closing = true
                }
                if c.lastHeard.duration(to: now) > settings.idleTimeout && c.output.isEmpty {
                    c.closing = true
                }
            }
            clients.removeAll { c in
                guard c.closing && c.output.isEmpty else { return false }
                close(c.fd)
                return true
            }
        }
    }

    /// A listening socket on `address`:`port` (IPv4 or IPv6 literal or a host name).
    private static func listen(_ address: String, port: Int) throws(NUTError) -> (Int32, String) {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(address, String(port), &hints, &list)
        guard rc == 0, let a = list else {
            throw NUTError("listen", "\(address): \(String(cString: gai_strerror(rc)))")
        }
        defer { freeaddrinfo(list) }
        let fd = socket(a.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw NUTError("listen", "\(address):\(port): \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        guard bind(fd, a.pointee.ai_addr, a.pointee.ai_addrlen) == 0, Glibc.listen(fd, 64) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw NUTError("listen", "\(address):\(port): \(reason)")
        }
        return (fd, a.pointee.ai_family == AF_INET6 ? "[\(address)]:\(port)" : "\(address):\(port)")
    }

    private static func describe(_ address: inout sockaddr_storage) -> String {
        var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        var service = [CChar](repeating: 0, count: Int(NI_MAXSERV))
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                getnameinfo($0, socklen_t(MemoryLayout<sockaddr_storage>.size), &host, socklen_t(host.count), &service, socklen_t(service.count), NI_NUMERICHOST | NI_NUMERICSERV)
            }
        }
        guard rc == 0 else { return "?" }
        func text(_ chars: [CChar]) -> String { String(decoding: chars.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) }
        return text(host) + ":" + text(service)
    }
}
