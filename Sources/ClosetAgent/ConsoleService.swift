#if canImport(Glibc)
import Glibc
#endif
import ClosetConfig
import ClosetConsole
import ClosetUplink
import ClosetModel
import ClosetSerial
import Dispatch
import Logging
import ServiceLifecycle

/// A byte stream a console session runs over: a serial port or a Unix socket connection.
protocol ConsoleTransport: AnyObject {
    func readSome(timeout: Duration) throws -> [UInt8]
    func write(_ bytes: [UInt8]) throws
    func close()
}

extension SerialPort: ConsoleTransport {
    func readSome(timeout: Duration) throws -> [UInt8] { try readAvailable(timeout: timeout, maxLength: 512) }
    func write(_ bytes: [UInt8]) throws { try write(bytes, timeout: .seconds(2)) }
}

/// One accepted Unix socket connection.
final class SocketConnection: ConsoleTransport {
    private var fd: Int32
    init(fd: Int32) { self.fd = fd }
    deinit { close() }

    func readSome(timeout: Duration) throws -> [UInt8] {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let r = poll(&p, 1, Int32(timeout.nanoseconds / 1_000_000))
        if r <= 0 { return [] }
        var buffer = [UInt8](repeating: 0, count: 512)
        let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        if n <= 0 { throw ConsoleClosed() }
        return Array(buffer[0..<n])
    }

    func write(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { throw ConsoleClosed() }
            offset += n
        }
    }

    func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }
}

struct ConsoleClosed: Error {}

/// The agent's data for console screens.
struct AgentConsoleSource<C: Clock>: ConsoleDataSource where C.Instant == Timestamp, C.Duration == Duration {
    let agent: Agent<C>
    let clock: C

    func view() async -> ConsoleView {
        ConsoleView(
            state: await agent.store.state, events: await agent.store.recentEvents,
            configuration: agent.configuration.devices.map { d in
                (d.name, [("kind", d.kind.rawValue), ("driver", d.driverName), ("interval", d.poll.interval.compactDescription)] + d.driver.summary)
            }, now: clock.now, version: ClosetVersion.string, uplink: uplinkLine())
    }

    /// `12 waiting, last push ok at ...` from the outbox (a read-only query of a small file).
    func uplinkLine() -> String? {
        guard let path = agent.configuration.uplink?.outboxPath else { return nil }
        guard let (stats, lastPush) = try? Outbox.inspect(path: path) else { return "outbox \(path) unreadable" }
        return "\(stats.records) waiting, last push \(lastPush ?? "none yet")"
    }

    func selftest() async -> [String] {
        let state = await agent.pollAllOnce(clock: clock)
        return state.devices.map { d in
            switch d.freshness {
            case .fresh: "  OK    \(d.name): \(d.readings.count) readings, \(d.health)"
            case .stale(let reason, _): "  FAIL  \(d.name): \(reason)"
            case .neverRead: "  ?     \(d.name): never read"
            }
        }
    }
}

/// Serial consoles and the local console socket. Each terminal runs on a thread of its own
/// (serial IO blocks); a port that vanishes (USB adapter pulled) or hangs up is reopened
/// every 2 s. Nothing here can delay the pollers.
public final class ConsoleService<C: Clock>: Service where C.Instant == Timestamp, C.Duration == Duration {
    let agent: Agent<C>
    let clock: C
    let logger: Logger

    public init(agent: Agent<C>, clock: C, logger: Logger) {
        self.agent = agent
        self.clock = clock
        self.logger = logger
    }

    public func run() async throws {
        let source = AgentConsoleSource(agent: agent, clock: clock)
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                for console in self.agent.configuration.consoles {
                    group.addTask { await self.serveSerial(console, source: source) }
                }
                if let path = self.agent.configuration.consoleSocket {
                    group.addTask { await self.serveSocket(path, source: source) }
                }
            }
        }
    }

    func serveSerial(_ console: ConsoleConfiguration, source: AgentConsoleSource<C>) async {
        let queue = DispatchQueue(label: "closet.console.\(console.device)")
        var complained = false
        while !Task.isCancelled {
            let opened: TransportBox? = await onQueue(queue) {
                (try? SerialPort(path: console.device, baud: console.speed)).map { TransportBox($0) }
            }
            guard let opened else {
                if !complained { logger.warning("console \(console.device): cannot open; retrying every 2 s") }
                complained = true
                try? await Task.sleep(for: .seconds(2))
                continue
            }
            complained = false
            logger.info("console on \(console.device) at \(console.speed) baud")
            await session(over: opened.transport, queue: queue, language: ConsoleLanguage(rawValue: console.language) ?? .en, source: source, greet: false)
            await onQueue(queue) { opened.transport.close() }
            logger.info("console \(console.device): closed; reopening")
            try? await Task.sleep(for: .seconds(2))
        }
    }

    func serveSocket(_ path: String, source: AgentConsoleSource<C>) async {
        unlink(path)
        let listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8.prefix(107)) + [0]
        withUnsafeMutableBytes(of: &address.sun_path) { raw in raw.copyBytes(from: bytes) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard listener >= 0, bound == 0, listen(listener, 4) == 0 else {
            logger.error("console socket \(path): \(String(cString: strerror(errno)))")
            return
        }
        // Owner and group only: the group is how an SSH user is allowed the console.
        chmod(path, 0o660)
        logger.info("console socket \(path)")
        defer {
            Glibc.close(listener)
            unlink(path)
        }
        await withDiscardingTaskGroup { group in
            let acceptQueue = DispatchQueue(label: "closet.console.accept")
            while !Task.isCancelled {
                let fd: Int32 = await onQueue(acceptQueue) {
                    var p = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
                    guard poll(&p, 1, 500) > 0 else { return -1 }
                    return accept(listener, nil, nil)
                }
                guard fd >= 0 else { continue }
                group.addTask {
                    let connection = SocketConnection(fd: fd)
                    let queue = DispatchQueue(label: "closet.console.socket.\(fd)")
                    await self.session(over: connection, queue: queue, language: .en, source: source, greet: true)
                    connection.close()
                }
            }
        }
    }

    /// Runs one session until the user ends it, the transport fails, or shutdown.
    func session(over transport: any ConsoleTransport, queue: DispatchQueue, language: ConsoleLanguage, source: AgentConsoleSource<C>, greet: Bool) async {
        let session = ConsoleSession(language: language, source: source)
        let box = TransportBox(transport)
        func send(_ bytes: [UInt8]) async -> Bool {
            guard !bytes.isEmpty else { return true }
            return await onQueue(queue) { (try? box.transport.write(bytes)) != nil }
        }
        if greet { guard await send(await session.greeting()) else { return } }
        var lastTick = ContinuousClock.now
        while !Task.isCancelled {
            let input: [UInt8]? = await onQueue(queue) { try? box.transport.readSome(timeout: .milliseconds(250)) }
            guard let input else { return }
            if !input.isEmpty {
                // A serial console wakes with a keypress: show the status screen first.
                let (output, ended) = await session.receive(input)
                guard await send(output) else { return }
                if ended { return }
            }
            if session.isWatching, ContinuousClock.now - lastTick >= .seconds(2) {
                lastTick = ContinuousClock.now
                guard await send(await session.tick()) else { return }
            }
        }
    }
}

/// Lets a transport cross into the queue's closures; it is only used on that queue.
final class TransportBox: @unchecked Sendable {
    let transport: any ConsoleTransport
    init(_ transport: any ConsoleTransport) { self.transport = transport }
}

/// Runs blocking work on `queue` and waits for it without blocking the cooperative pool.
func onQueue<T: Sendable>(_ queue: DispatchQueue, _ work: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { c in queue.async { c.resume(returning: work()) } }
}
