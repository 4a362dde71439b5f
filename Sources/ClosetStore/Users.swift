import CCrypto
import ClosetModel
import ClosetWire
import HTTPTypes
import Hummingbird
import NIOCore

/// Read-only users of the dashboard, the JSON API and /metrics: passwords kept as
/// PBKDF2-HMAC-SHA256 (salted, 200,000 iterations), checked with HTTP Basic
/// authentication. With no user defined the pages are open (a store on a private network).
public enum Passwords {
    public static let iterations = 200_000

    public static func hash(_ password: String, salt: [UInt8], iterations: Int = iterations) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        let pw = Array(password.utf8)
        _ = pw.withUnsafeBufferPointer { p in
            PKCS5_PBKDF2_HMAC(
                p.baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self) }, Int32(pw.count), salt, Int32(salt.count), Int32(iterations),
                EVP_sha256(), Int32(out.count), &out)
        }
        return out
    }

    /// `Authorization: Basic base64(user:password)` to its parts.
    public static func basic(_ header: String) -> (user: String, password: String)? {
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "basic", let bytes = base64Decode(String(parts[1])),
            let colon = bytes.firstIndex(of: UInt8(ascii: ":"))
        else { return nil }
        return (String(decoding: bytes[..<colon], as: UTF8.self), String(decoding: bytes[(colon + 1)...], as: UTF8.self))
    }

    /// Standard base64 (RFC 4648) with padding; nil for anything else.
    static func base64Decode(_ text: String) -> [UInt8]? {
        var out: [UInt8] = []
        var buffer: UInt32 = 0
        var bits = 0
        var padding = 0
        for c in text.utf8 {
            let v: UInt32
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): v = UInt32(c - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): v = UInt32(c - UInt8(ascii: "a")) + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): v = UInt32(c - UInt8(ascii: "0")) + 52
            case UInt8(ascii: "+"): v = 62
            case UInt8(ascii: "/"): v = 63
            case UInt8(ascii: "="):
                padding += 1
                continue
            default: return nil
            }
            guard padding == 0 else { return nil }
            buffer = buffer << 6 | v
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8((buffer >> UInt32(bits)) & 0xFF))
            }
        }
        return (text.utf8.count % 4 == 0 && padding <= 2) ? out : nil
    }
}

extension StoreBackend {
    public func addUser(name: String, password: String, now: Int64) async throws {
        let salt = randomBytes(16)
        let hash = Passwords.hash(password, salt: salt)
        try await write { c in
            try await c.query(
                "INSERT INTO users (name, salt, hash, iterations, created) VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET salt = excluded.salt, hash = excluded.hash, iterations = excluded.iterations",
                [.text(name), .blob(salt), .blob(hash), .integer(Int64(Passwords.iterations)), .integer(now)])
        }
    }

    public func removeUser(name: String) async throws -> Bool {
        try await write { c in try await c.query("DELETE FROM users WHERE name = ? RETURNING name", [.text(name)]) }.count > 0
    }

    public func users() async throws -> [String] {
        try await query("SELECT name FROM users ORDER BY name").map { $0.text(0) }
    }

    /// Whether the pages need a login at all (any user defined).
    public func hasUsers() async throws -> Bool {
        (try await query("SELECT COUNT(*) FROM users").first?.int(0) ?? 0) > 0
    }

    public func checkUser(name: String, password: String) async throws -> Bool {
        guard let row = try await query("SELECT salt, hash, iterations FROM users WHERE name = ?", [.text(name)]).first else { return false }
        let computed = Passwords.hash(password, salt: row.blob(0), iterations: Int(row.int(2)))
        return RequestSigning.matches(hex(computed), hex(row.blob(1)))
    }
}

/// HTTP Basic login in front of everything but ingest (signed by the agents' keys) and
/// /healthz. Successful logins are remembered for a minute (by a hash of the password), so
/// a dashboard's refresh or a Prometheus scrape does not pay PBKDF2 each time.
struct ReadOnlyLogin: RouterMiddleware {
    typealias Context = BasicRequestContext
    let backend: StoreBackend
    let now: @Sendable () -> Int64
    let cache = LoginCache()

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        if path == "/v1/ingest" || path == "/healthz" { return try await next(request, context) }
        let t = now()
        guard try await cache.needsLogin(at: t, ask: { try await backend.hasUsers() }) else { return try await next(request, context) }
        if let header = request.headers[.authorization], let (user, password) = Passwords.basic(header) {
            let token = hex(sha256(Array("\(user)\u{0}\(password)".utf8)))
            if await cache.remembers(token, at: t) { return try await next(request, context) }
            if try await backend.checkUser(name: user, password: password) {
                await cache.remember(token, at: t)
                return try await next(request, context)
            }
        }
        var headers = HTTPFields()
        headers[.wwwAuthenticate] = "Basic realm=\"closet-store\", charset=\"UTF-8\""
        headers[.contentType] = "text/plain; charset=utf-8"
        return Response(status: .unauthorized, headers: headers, body: .init(byteBuffer: ByteBuffer(string: "log in (closet-store user add NAME makes a user)\n")))
    }
}

actor LoginCache {
    private var users: (known: Bool, at: Int64)?
    private var tokens: [String: Int64] = [:]

    func needsLogin(at t: Int64, ask: @Sendable () async throws -> Bool) async throws -> Bool {
        if let users, t - users.at < 10 { return users.known }
        let known = try await ask()
        users = (known, t)
        return known
    }

    func remembers(_ token: String, at t: Int64) -> Bool {
        guard let seen = tokens[token] else { return false }
        return t - seen < 60
    }

    func remember(_ token: String, at t: Int64) {
        if tokens.count > 1000 { tokens.removeAll() }
        tokens[token] = t
    }
}
