import ClosetModel
import ClosetSocket

#if canImport(Glibc)
import Glibc
#endif

/// A connection to a NUT upsd, kept open between polls and made again after any failure.
/// Blocking: confined to one queue by its owner, hence unchecked Sendable.
public final class NUTClient: @unchecked Sendable {
    public let host: String
    public let port: Int
    public let timeout: Duration
    public let username: String?
    public let password: String?
    private var fd: Int32 = -1
    private var pending: [UInt8] = []
    /// Longest answer accepted, in lines: a real UPS has about 100 variables.
    static let maxLines = 4096

    public init(host: String, port: Int = 3493, timeout: Duration = .seconds(5), username: String? = nil, password: String? = nil) {
        self.host = host
        self.port = port
        self.timeout = timeout
        self.username = username
        self.password = password
    }

    deinit { disconnect() }

    var peer: String { "upsd \(host):\(port)" }

    /// Every variable of `ups` (`LIST VAR`); logs in first on a new connection when a user
    /// is configured. Any failure closes the connection; the next call connects again.
    public func variables(ups: String) throws(NUTError) -> [(name: String, value: String)] {
        do throws(NUTError) {
            try connectIfNeeded(ups: ups)
            return try NUTReply.variables(ups: ups, lines: request("LIST VAR \(ups)", endsWith: "END LIST VAR \(ups)"))
        } catch {
            if error.code == "connection" || error.code == "protocol" { disconnect() }
            throw NUTError(error.code, "\(peer) UPS '\(ups)': \(error.detail.isEmpty ? error.code : error.detail)")
        }
    }

    /// The UPSes upsd serves (`LIST UPS`).
    public func upsList() throws(NUTError) -> [(name: String, description: String)] {
        do throws(NUTError) {
            try connectIfNeeded(ups: nil)
            return try NUTReply.upsList(lines: request("LIST UPS", endsWith: "END LIST UPS"))
        } catch {
            disconnect()
            throw NUTError(error.code, "\(peer): \(error.detail.isEmpty ? error.code : error.detail)")
        }
    }

    public func disconnect() {
        if fd >= 0 { close(fd) }
        fd = -1
        pending = []
    }

    private func connectIfNeeded(ups: String?) throws(NUTError) {
        guard fd < 0 else { return }
        do throws(SocketError) {
            fd = try TCPSocket.connect(host: host, port: port, timeout: timeout)
        } catch {
            throw NUTError("connection", error.description)
        }
        guard let username, let password, let ups else { return }
        for line in ["USERNAME \(username)", "PASSWORD \(NUTLine.quote(password))", "LOGIN \(ups)"] {
            let answer = try request(line, endsWith: nil).first ?? ""
            // A second LOGIN on a kept connection is not an error worth failing the poll.
            guard answer.hasPrefix("OK") || answer == "ERR ALREADY-LOGGED-IN" else {
                disconnect()
                let what = line.hasPrefix("PASSWORD") ? "PASSWORD" : line
                throw NUTError(NUTReply.error(in: NUTLine.split(answer) ?? [])?.code ?? "protocol", "\(what): \(answer)")
            }
        }
    }

    /// Sends a line and reads the answer: one line, or (with `endsWith`) every line up to
    /// that one, unless the first is an `ERR`.
    private func request(_ line: String, endsWith end: String?) throws(NUTError) -> [String] {
        let bytes = Array((line + "\n").utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                let reason = String(cString: strerror(errno))
                disconnect()
                throw NUTError("connection", "sending \(line.split(separator: " ").first ?? ""): \(reason)")
            }
            sent += n
        }
        var lines: [String] = []
        while true {
            let answer = try readLine()
            lines.append(answer)
            if end == nil || answer == end || (lines.count == 1 && answer.hasPrefix("ERR ")) { return lines }
            guard lines.count < Self.maxLines else { throw NUTError("protocol", "answer longer than \(Self.maxLines) lines") }
        }
    }

    private func readLine() throws(NUTError) -> String {
        while true {
            if let newline = pending.firstIndex(of: 0x0A) {
                let line = String(decoding: pending[..<newline], as: UTF8.self)
                pending.removeSubrange(...newline)
                return line.hasSuffix("\r") ? String(line.dropLast()) : line
            }
            guard pending.count <= NUTLine.maxLength * 4 else { throw NUTError("protocol", "a line longer than \(NUTLine.maxLength * 4) bytes") }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                let reason = n == 0 ? "connection closed" : (errno == EAGAIN || errno == EWOULDBLOCK) ? "no answer within \(timeout.compactDescription)" : String(cString: strerror(errno))
                disconnect()
                throw NUTError("connection", reason)
            }
            pending.append(contentsOf: chunk[..<n])
        }
    }
}
