import CCrypto
import ClosetModel
import ClosetSocket

#if canImport(Glibc)
import Glibc
#endif

/// `http://` or `https://` host, port and path.
public struct HTTPEndpoint: Sendable, Hashable, CustomStringConvertible {
    public var secure: Bool
    public var host: String
    public var port: Int
    public var path: String

    public init?(_ url: String) {
        var rest = Substring(url)
        if rest.hasPrefix("https://") {
            secure = true
            rest = rest.dropFirst(8)
        } else if rest.hasPrefix("http://") {
            secure = false
            rest = rest.dropFirst(7)
        } else {
            return nil
        }
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        var authority = rest[..<slash]
        path = slash == rest.endIndex ? "/" : String(rest[slash...])
        port = secure ? 443 : 80
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            authority = authority[authority.index(after: close)...]
            if authority.hasPrefix(":") {
                guard let p = Int(authority.dropFirst()), (1...65535).contains(p) else { return nil }
                port = p
            }
        } else if let colon = authority.lastIndex(of: ":") {
            guard let p = Int(authority[authority.index(after: colon)...]), (1...65535).contains(p) else { return nil }
            port = p
            host = String(authority[..<colon])
        } else {
            host = String(authority)
        }
        guard !host.isEmpty else { return nil }
    }

    /// The same server with another path.
    public func with(path: String) -> HTTPEndpoint {
        var e = self
        e.path = path
        return e
    }

    public var description: String { "\(secure ? "https" : "http")://\(host.contains(":") ? "[\(host)]" : host):\(port)\(path)" }
}

public struct HTTPReply: Sendable {
    public var status: Int
    /// Lower-cased names.
    public var headers: [String: String]
    public var body: [UInt8]

    public init(status: Int, headers: [String: String], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

public struct HTTPFailure: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable { case resolve, connect, tls, timeout, io, protocolError }
    public var kind: Kind
    public var description: String
}

/// A small HTTP/1.1 client for the uplink: one request per connection, TLS through OpenSSL
/// (libssl; libcrypto is already mapped for net-snmp), the server's certificate checked
/// against a configured CA file and the host name. Blocking with timeouts: run it on a
/// thread of its own.
public final class HTTPClient: @unchecked Sendable {
    private let context: OpaquePointer?
    public let timeout: Duration

    /// `caFile`: PEM bundle to trust (a private CA); nil: the system's default paths.
    public init(caFile: String? = nil, timeout: Duration = .seconds(30)) throws(HTTPFailure) {
        self.timeout = timeout
        guard let ctx = SSL_CTX_new(TLS_client_method()) else {
            throw HTTPFailure(kind: .tls, description: "cannot create a TLS context")
        }
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nil)
        let loaded = caFile.map { SSL_CTX_load_verify_locations(ctx, $0, nil) } ?? SSL_CTX_set_default_verify_paths(ctx)
        if loaded != 1 {
            SSL_CTX_free(ctx)
            throw HTTPFailure(kind: .tls, description: "cannot load CA file \(caFile ?? "(system)"): \(Self.opensslError())")
        }
        context = ctx
    }

    deinit { if let context { SSL_CTX_free(context) } }

    static func opensslError() -> String {
        let code = ERR_get_error()
        guard code != 0 else { return "unknown TLS error" }
        var buffer = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &buffer, buffer.count)
        ERR_clear_error()
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Sends one request; `pace` caps the upload in bytes per second (the leased line's share).
    public func send(
        _ method: String, _ endpoint: HTTPEndpoint, headers: [(String, String)], body: [UInt8], pace: Int? = nil
    ) throws(HTTPFailure) -> HTTPReply {
        let fd = try connect(endpoint)
        defer { close(fd) }
        var ssl: OpaquePointer?
        defer {
            if let ssl {
                SSL_shutdown(ssl)
                SSL_free(ssl)
            }
        }
        if endpoint.secure {
            guard let s = SSL_new(context) else { throw HTTPFailure(kind: .tls, description: "cannot create a TLS session") }
            ssl = s
            SSL_set_fd(s, fd)
            _ = closet_ssl_set_sni(s, endpoint.host)
            SSL_set1_host(s, endpoint.host)
            if SSL_connect(s) != 1 {
                let verify = SSL_get_verify_result(s)
                let reason =
                    verify != X509_V_OK
                    ? "certificate of \(endpoint.host) not accepted: \(String(cString: X509_verify_cert_error_string(verify)))"
                    : "TLS handshake with \(endpoint.host):\(endpoint.port) failed: \(Self.opensslError()) (errno: \(String(cString: strerror(errno))))"
                throw HTTPFailure(kind: .tls, description: reason)
            }
        }
        var head = "\(method) \(endpoint.path) HTTP/1.1\r\nHost: \(endpoint.host):\(endpoint.port)\r\nConnection: close\r\n"
        head += "Content-Length: \(body.count)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        head += "\r\n"
        try write(fd, ssl, Array(head.utf8), pace: nil, endpoint: endpoint)
        try write(fd, ssl, body, pace: pace, endpoint: endpoint)
        return try readResponse(fd, ssl, endpoint: endpoint)
    }

    private func connect(_ endpoint: HTTPEndpoint) throws(HTTPFailure) -> Int32 {
        do throws(SocketError) {
            return try TCPSocket.connect(host: endpoint.host, port: endpoint.port, timeout: timeout)
        } catch {
            throw HTTPFailure(kind: error.kind == .resolve ? .resolve : .connect, description: error.description)
        }
    }

    private func write(_ fd: Int32, _ ssl: OpaquePointer?, _ bytes: [UInt8], pace: Int?, endpoint: HTTPEndpoint) throws(HTTPFailure) {
        let started = ContinuousClock.now
        var offset = 0
        let slice = pace.map { max(1024, min(16_384, $0 / 8)) } ?? 65_536
        while offset < bytes.count {
            let count = min(slice, bytes.count - offset)
            let n = bytes.withUnsafeBytes { b -> Int in
                let p = b.baseAddress! + offset
                if let ssl { return Int(SSL_write(ssl, p, Int32(count))) }
                return Glibc.send(fd, p, count, Int32(MSG_NOSIGNAL))
            }
            if n <= 0 {
                if ssl == nil && errno == EINTR { continue }
                let timedOut = errno == EAGAIN || errno == EWOULDBLOCK
                throw HTTPFailure(
                    kind: timedOut ? .timeout : .io,
                    description: "\(endpoint): sending failed after \(offset) of \(bytes.count) bytes: \(timedOut ? "timed out" : String(cString: strerror(errno)))")
            }
            offset += n
            if let pace, pace > 0 {
                let due = started + .nanoseconds(Int64(Double(offset) / Double(pace) * 1e9))
                let lead = ContinuousClock.now.duration(to: due)
                if lead > .milliseconds(1) {
                    let ns = lead.nanoseconds
                    var ts = timespec(tv_sec: Int(ns / 1_000_000_000), tv_nsec: Int(ns % 1_000_000_000))
                    var left = timespec()
                    while nanosleep(&ts, &left) != 0 && errno == EINTR { ts = left }
                }
            }
        }
    }

    private func read(_ fd: Int32, _ ssl: OpaquePointer?, into buffer: inout [UInt8]) throws(HTTPFailure) -> Int {
        var chunk = [UInt8](repeating: 0, count: 16_384)
        while true {
            let n = chunk.withUnsafeMutableBytes { b -> Int in
                if let ssl { return Int(SSL_read(ssl, b.baseAddress, Int32(b.count))) }
                return Glibc.recv(fd, b.baseAddress, b.count, 0)
            }
            if n > 0 {
                buffer.append(contentsOf: chunk[0..<n])
                return n
            }
            if n == 0 { return 0 }
            if ssl == nil && errno == EINTR { continue }
            if let ssl, SSL_get_error(ssl, Int32(n)) == SSL_ERROR_ZERO_RETURN { return 0 }
            let timedOut = errno == EAGAIN || errno == EWOULDBLOCK
            throw HTTPFailure(kind: timedOut ? .timeout : .io, description: timedOut ? "no answer within \(timeout.compactDescription)" : "connection lost: \(String(cString: strerror(errno)))")
        }
    }

    private func readResponse(_ fd: Int32, _ ssl: OpaquePointer?, endpoint: HTTPEndpoint) throws(HTTPFailure) -> HTTPReply {
        var buffer: [UInt8] = []
        let limit = 1 << 20
        var headerEnd: Int?
        while headerEnd == nil {
            let n: Int
            do { n = try read(fd, ssl, into: &buffer) } catch { throw HTTPFailure(kind: error.kind, description: "\(endpoint): \(error.description)") }
            if n == 0 { throw HTTPFailure(kind: .protocolError, description: "\(endpoint): connection closed before a complete response") }
            if buffer.count > 65_536 { throw HTTPFailure(kind: .protocolError, description: "\(endpoint): response headers too long") }
            headerEnd = Self.find([13, 10, 13, 10], in: buffer)
        }
        let head = String(decoding: buffer[0..<headerEnd!], as: UTF8.self)
        var lines = head.split(separator: "\r\n", omittingEmptySubsequences: false)
        let statusLine = lines.removeFirst().split(separator: " ", maxSplits: 2)
        guard statusLine.count >= 2, statusLine[0].hasPrefix("HTTP/1."), let status = Int(statusLine[1]) else {
            throw HTTPFailure(kind: .protocolError, description: "\(endpoint): not an HTTP response")
        }
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = String(line[line.index(after: colon)...]).trimmingSpaces
        }
        var body = Array(buffer[(headerEnd! + 4)...])
        if headers["transfer-encoding"]?.lowercased().contains("chunked") == true {
            while Self.dechunk(body) == nil {
                if body.count > limit { throw HTTPFailure(kind: .protocolError, description: "\(endpoint): response too large") }
                if try read(fd, ssl, into: &body) == 0 { break }
            }
            guard let plain = Self.dechunk(body) else { throw HTTPFailure(kind: .protocolError, description: "\(endpoint): broken chunked body") }
            body = plain
        } else if let length = headers["content-length"].flatMap({ Int($0) }) {
            guard length <= limit else { throw HTTPFailure(kind: .protocolError, description: "\(endpoint): response too large") }
            while body.count < length {
                if try read(fd, ssl, into: &body) == 0 {
                    throw HTTPFailure(kind: .protocolError, description: "\(endpoint): body cut short (\(body.count) of \(length) bytes)")
                }
            }
            body = Array(body.prefix(length))
        } else {
            while body.count <= limit, try read(fd, ssl, into: &body) > 0 {}
        }
        return HTTPReply(status: status, headers: headers, body: body)
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for i in 0...(haystack.count - needle.count) where haystack[i] == needle[0] && Array(haystack[i..<(i + needle.count)]) == needle {
            return i
        }
        return nil
    }

    /// The body of a complete chunked encoding, or nil if more bytes are needed.
    static func dechunk(_ bytes: [UInt8]) -> [UInt8]? {
        var out: [UInt8] = []
        var i = 0
        while true {
            guard let lineEnd = find([13, 10], in: Array(bytes[i...])) else { return nil }
            let sizeText = String(decoding: bytes[i..<(i + lineEnd)], as: UTF8.self).split(separator: ";").first ?? ""
            guard let size = Int(String(sizeText).trimmingSpaces, radix: 16) else { return nil }
            i += lineEnd + 2
            if size == 0 { return out }
            guard bytes.count >= i + size + 2 else { return nil }
            out.append(contentsOf: bytes[i..<(i + size)])
            i += size + 2
        }
    }
}
