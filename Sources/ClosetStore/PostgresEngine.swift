import Logging
import NIOCore
import NIOSSL
import PostgresNIO

/// PostgreSQL for the store at scale (postgres-nio's pooled client). Several store instances
/// may share one database: every push is one transaction that locks its site's state row.
final class PostgresEngine: SQLDatabase {
    let client: PostgresClient
    let runner: Task<Void, Never>
    let description: String
    let dialect = SQLDialect.postgres
    let logger: Logger
    let direct: PostgresConnection.Configuration

    /// `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=disable|prefer|require|verify-full&sslrootcert=FILE&pool=N&host=SOCKETDIR]`
    init(url: String, logger: Logger) throws {
        let u = try PostgresURL(url)
        var configuration: PostgresClient.Configuration
        var direct: PostgresConnection.Configuration
        if let socketDirectory = u.socketDirectory {
            let socket = "\(socketDirectory)/.s.PGSQL.\(u.port)"
            configuration = .init(unixSocketPath: socket, username: u.user, password: u.password, database: u.database)
            direct = .init(unixSocketPath: socket, username: u.user, password: u.password, database: u.database)
        } else {
            let (mode, tls) = try u.tls()
            configuration = .init(
                host: u.host, port: u.port, username: u.user, password: u.password, database: u.database,
                tls: mode == "disable" ? .disable : mode == "prefer" ? .prefer(tls) : .require(tls))
            let context = try NIOSSLContext(configuration: tls)
            direct = .init(
                host: u.host, port: u.port, username: u.user, password: u.password, database: u.database,
                tls: mode == "disable" ? .disable : mode == "prefer" ? .prefer(context) : .require(context))
        }
        configuration.options.maximumConnections = u.pool
        configuration.options.connectTimeout = .seconds(10)
        direct.options.connectTimeout = .seconds(10)
        self.direct = direct
        // The pool retries failed connections in the background and logs each at info.
        var logger = logger
        logger.logLevel = max(logger.logLevel, .warning)
        self.logger = logger
        client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        description = u.redacted
        let client = self.client
        runner = Task { await client.run() }
    }

    func close() async {
        runner.cancel()
        await runner.value
    }

    /// One direct connection, so that a wrong address or password is reported at once
    /// (the pool would retry for a minute before giving up).
    func ready() async throws {
        do {
            let c = try await PostgresConnection.connect(configuration: direct, id: 0, logger: logger)
            try await c.close()
        } catch {
            throw Self.describe(error, sql: nil, database: description)
        }
    }

    func connection<T: Sendable>(transaction: Bool, _ body: @Sendable (any SQLConnection) async throws -> T) async throws -> T {
        let logger = self.logger
        do {
            if transaction {
                return try await client.withTransaction(logger: logger) { c in try await body(Connection(connection: c, logger: logger, database: description)) }
            }
            return try await client.withConnection { c in try await body(Connection(connection: c, logger: logger, database: description)) }
        } catch let e as PostgresTransactionError {
            if let inner = e.closureError { throw inner }
            throw Self.describe(e.beginError ?? e.commitError ?? e.rollbackError ?? e, sql: nil, database: description)
        } catch let e as PSQLError {
            throw Self.describe(e, sql: nil, database: description)
        }
    }

    /// PSQLError keeps its details out of `description`; the server's message and state are
    /// what an operator needs (never the bound values: keys and passwords travel as binds).
    static func describe(_ error: any Error, sql: String?, database: String) -> StoreError {
        let place = sql.map { " in: \($0.split(whereSeparator: \.isNewline).joined(separator: " ").prefix(120))" } ?? ""
        if let e = error as? PSQLError {
            if let info = e.serverInfo, let message = info[.message] {
                return StoreError("\(database): \(message) (SQLSTATE \(info[.sqlState] ?? "?"))\(place)")
            }
            return StoreError("\(database): \(e.code)\(e.underlying.map { ": \($0)" } ?? "")\(place)")
        }
        if let e = error as? StoreError { return e }
        if "\(error)".contains("CircuitBreakerTripped") { return StoreError("\(database): cannot connect (every connection attempt failed)\(place)") }
        return StoreError("\(database): \(error)\(place)")
    }

    struct Connection: SQLConnection {
        let connection: PostgresConnection
        let logger: Logger
        /// For messages: the URL without its password.
        let database: String

        func query(_ sql: String, _ parameters: [SQLValue]) async throws -> [SQLRow] {
            var binds = PostgresBindings(capacity: parameters.count)
            for p in parameters {
                switch p {
                case .integer(let v): binds.append(v)
                case .real(let v): binds.append(v)
                case .text(let v): binds.append(v)
                case .blob(let v): binds.append(ByteBuffer(bytes: v))
                case .null: binds.appendNull()
                }
            }
            return try await run(SQLText.numbered(sql), binds)
        }

        func run(_ sql: String, _ binds: PostgresBindings) async throws -> [SQLRow] {
            do {
                var rows: [SQLRow] = []
                for try await row in try await connection.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger) {
                    rows.append(try Self.read(row))
                }
                return rows
            } catch {
                throw PostgresEngine.describe(error, sql: sql, database: database)
            }
        }

        static func read(_ row: PostgresRow) throws -> SQLRow {
            var values: [SQLValue] = []
            for cell in row {
                guard cell.bytes != nil else {
                    values.append(.null)
                    continue
                }
                switch cell.dataType {
                case .int8, .int4, .int2: values.append(.integer(try cell.decode(Int64.self)))
                case .float8, .float4: values.append(.real(try cell.decode(Double.self)))
                case .numeric: values.append(.real(Double(try cell.decode(String.self)) ?? 0))
                case .bool: values.append(.integer(try cell.decode(Bool.self) ? 1 : 0))
                case .bytea: values.append(.blob(Array(try cell.decode(ByteBuffer.self).readableBytesView)))
                default: values.append(.text(try cell.decode(String.self)))
                }
            }
            return SQLRow(values: values)
        }

        /// One statement for all rows: each column bound as one array and `unnest`ed; a
        /// column holding NULLs gets a second, boolean array that marks them.
        func insert(into table: String, columns: [String], rows: [[SQLValue]], suffix: String) async throws -> [SQLRow] {
            guard !rows.isEmpty else { return [] }
            var binds = PostgresBindings(capacity: columns.count * 2)
            var arrays: [String] = []
            var names: [String] = []
            var selected: [String] = []
            for c in columns.indices {
                let column = rows.map { $0[c] }
                switch column.first(where: { $0 != .null }) {
                case .integer:
                    binds.append(column.map(\.int))
                    arrays.append("$\(binds.count)::int8[]")
                case .real:
                    binds.append(column.map(\.double))
                    arrays.append("$\(binds.count)::float8[]")
                case .blob:
                    binds.append(column.map { ByteBuffer(bytes: $0.blob) })
                    arrays.append("$\(binds.count)::bytea[]")
                case .text, .null, nil:
                    binds.append(column.map(\.text))
                    arrays.append("$\(binds.count)::text[]")
                }
                names.append("c\(c)")
                if column.contains(.null) {
                    binds.append(column.map { $0 == .null })
                    arrays.append("$\(binds.count)::bool[]")
                    names.append("n\(c)")
                    selected.append("CASE WHEN u.n\(c) THEN NULL ELSE u.c\(c) END")
                } else {
                    selected.append("u.c\(c)")
                }
            }
            let sql = """
                INSERT INTO \(table) (\(columns.joined(separator: ", "))) SELECT \(selected.joined(separator: ", ")) \
                FROM unnest(\(arrays.joined(separator: ", "))) AS u(\(names.joined(separator: ", "))) \(suffix)
                """
            return try await run(sql, binds)
        }

        func script(_ sql: String) async throws {
            for statement in sql.split(separator: ";") where !statement.allSatisfy(\.isWhitespace) {
                _ = try await run(String(statement), PostgresBindings())
            }
        }
    }
}

/// A `postgres://` URL's parts (libpq's URI form, the options the store uses).
struct PostgresURL {
    var user = "postgres"
    var password: String?
    var host = "127.0.0.1"
    var port = 5432
    var database = "closet"
    var socketDirectory: String?
    var sslMode = "disable"
    var rootCertificate: String?
    var pool = 16

    init(_ url: String) throws {
        func bad(_ why: String) -> StoreError { StoreError("--db \(Self.redact(url)): \(why)") }
        guard let scheme = url.range(of: "://"), ["postgres", "postgresql"].contains(url[..<scheme.lowerBound]) else {
            throw bad("expected postgres://USER:PASSWORD@HOST:PORT/DATABASE")
        }
        var rest = String(url[scheme.upperBound...])
        var query = ""
        if let q = rest.firstIndex(of: "?") {
            query = String(rest[rest.index(after: q)...])
            rest = String(rest[..<q])
        }
        if let slash = rest.firstIndex(of: "/") {
            let name = Self.decoded(String(rest[rest.index(after: slash)...]))
            if !name.isEmpty { database = name }
            rest = String(rest[..<slash])
        }
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            if let colon = credentials.firstIndex(of: ":") {
                user = Self.decoded(String(credentials[..<colon]))
                password = Self.decoded(String(credentials[credentials.index(after: colon)...]))
            } else {
                user = Self.decoded(String(credentials))
            }
            rest = String(rest[rest.index(after: at)...])
        }
        if let colon = rest.lastIndex(of: ":"), !rest.hasSuffix("]") {
            guard let p = Int(rest[rest.index(after: colon)...]), (1...65535).contains(p) else { throw bad("port '\(rest[rest.index(after: colon)...])' is not a port number") }
            port = p
            rest = String(rest[..<colon])
        }
        if !rest.isEmpty { host = rest.hasPrefix("[") ? String(rest.dropFirst().dropLast()) : rest }
        for pair in query.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1).map { Self.decoded(String($0)) }
            guard kv.count == 2 else { throw bad("query part '\(pair)' is not KEY=VALUE") }
            switch kv[0] {
            case "sslmode":
                guard ["disable", "prefer", "require", "verify-full"].contains(kv[1]) else { throw bad("sslmode=\(kv[1]): disable, prefer, require or verify-full") }
                sslMode = kv[1]
            case "sslrootcert": rootCertificate = kv[1]
            case "host": socketDirectory = kv[1]
            case "user": user = kv[1]
            case "password": password = kv[1]
            case "pool":
                guard let n = Int(kv[1]), (1...1000).contains(n) else { throw bad("pool=\(kv[1]): a number of connections, 1 to 1000") }
                pool = n
            default: throw bad("unknown option '\(kv[0])' (sslmode, sslrootcert, host, user, password, pool)")
            }
        }
    }

    /// The sslmode and the TLS settings it implies (require: encrypted, not verified, as libpq).
    func tls() throws -> (mode: String, configuration: TLSConfiguration) {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let rootCertificate { tls.trustRoots = .file(rootCertificate) }
        if sslMode == "require" { tls.certificateVerification = .none }
        return (sslMode, tls)
    }

    /// The URL as logs and messages show it: no password.
    var redacted: String { "postgres://\(user)@\(socketDirectory ?? host):\(port)/\(database)" }

    static func redact(_ url: String) -> String {
        guard let scheme = url.range(of: "://"), let at = url[scheme.upperBound...].lastIndex(of: "@"),
            let colon = url[scheme.upperBound..<at].firstIndex(of: ":")
        else { return url }
        return String(url[..<colon]) + ":***" + String(url[at...])
    }

    static func decoded(_ s: String) -> String {
        var bytes: [UInt8] = []
        var it = Array(s.utf8)[...]
        while let b = it.popFirst() {
            if b == UInt8(ascii: "%"), it.count >= 2, let v = UInt8(String(decoding: it.prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(v)
                it = it.dropFirst(2)
            } else {
                bytes.append(b)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
