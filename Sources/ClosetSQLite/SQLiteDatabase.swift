import CSQLite

/// A failed SQLite call, with the statement and SQLite's own message.
public struct SQLiteError: Error, Sendable, CustomStringConvertible {
    public var code: Int32
    public var message: String
    public var description: String { message }
}

/// One SQLite connection (libsqlite3 from the system). Not thread-safe (hence unchecked
/// Sendable): the owner keeps it
/// on one queue. Blocking.
public final class SQLiteDatabase: @unchecked Sendable {
    let handle: OpaquePointer
    public let path: String

    public init(path: String, readOnly: Bool = false) throws(SQLiteError) {
        var db: OpaquePointer?
        let flags = readOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
        let rc = sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            if let db { sqlite3_close(db) }
            throw SQLiteError(code: rc, message: "\(path): \(message)")
        }
        handle = db
        self.path = path
        sqlite3_busy_timeout(db, 5000)
        sqlite3_extended_result_codes(db, 1)
    }

    deinit { sqlite3_close_v2(handle) }

    func error(_ rc: Int32, _ context: String) -> SQLiteError {
        SQLiteError(code: rc, message: "\(path): \(context): \(String(cString: sqlite3_errmsg(handle)))")
    }

    /// Runs one or more statements without results.
    public func execute(_ sql: String) throws(SQLiteError) {
        var message: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &message)
        if rc != SQLITE_OK {
            let text = message.map { String(cString: $0) } ?? "error \(rc)"
            sqlite3_free(message)
            throw SQLiteError(code: rc, message: "\(path): \(text) (in: \(sql.prefix(80)))")
        }
    }

    public func prepare(_ sql: String) throws(SQLiteError) -> Statement {
        var stmt: OpaquePointer?
        let rc = sqlite3_prepare_v2(handle, sql, -1, &stmt, nil)
        guard rc == SQLITE_OK, let stmt else { throw error(rc, "preparing \(sql.prefix(80))") }
        return Statement(stmt, database: self)
    }

    /// Runs `body` in one transaction; rolls back if it throws.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    /// A prepared statement: bind by position (1-based), step, read columns (0-based).
    public final class Statement {
        let stmt: OpaquePointer
        unowned let database: SQLiteDatabase

        init(_ stmt: OpaquePointer, database: SQLiteDatabase) {
            self.stmt = stmt
            self.database = database
        }

        deinit { sqlite3_finalize(stmt) }

        public enum Value: Sendable, Hashable {
            case integer(Int64)
            case real(Double)
            case text(String)
            case blob([UInt8])
            case null
        }

        /// Binds `values` from position 1 after a reset.
        @discardableResult
        public func bind(_ values: [Value]) throws(SQLiteError) -> Statement {
            sqlite3_reset(stmt)
            sqlite3_clear_bindings(stmt)
            for (i, v) in values.enumerated() {
                let n = Int32(i + 1)
                let rc: Int32
                switch v {
                case .integer(let x): rc = sqlite3_bind_int64(stmt, n, x)
                case .real(let x): rc = sqlite3_bind_double(stmt, n, x)
                case .text(let s): rc = sqlite3_bind_text(stmt, n, s, -1, closet_sqlite_transient())
                case .blob(let b):
                    rc = b.withUnsafeBytes { sqlite3_bind_blob(stmt, n, $0.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32(b.count), closet_sqlite_transient()) }
                case .null: rc = sqlite3_bind_null(stmt, n)
                }
                guard rc == SQLITE_OK else { throw database.error(rc, "binding parameter \(n)") }
            }
            return self
        }

        /// Steps once: true while a row is available.
        public func step() throws(SQLiteError) -> Bool {
            let rc = sqlite3_step(stmt)
            switch rc {
            case SQLITE_ROW: return true
            case SQLITE_DONE: return false
            default: throw database.error(rc, "running \(String(cString: sqlite3_sql(stmt)).prefix(80))")
            }
        }

        /// Binds, runs to the end, ignores rows.
        public func run(_ values: [Value] = []) throws(SQLiteError) {
            try bind(values)
            while try step() {}
        }

        /// Binds and collects every row with `read`.
        public func rows<T>(_ values: [Value] = [], _ read: (Statement) -> T) throws(SQLiteError) -> [T] {
            try bind(values)
            var out: [T] = []
            while try step() { out.append(read(self)) }
            return out
        }

        public var columnCount: Int32 { sqlite3_column_count(stmt) }

        /// A column as whatever type SQLite holds it in.
        public func value(_ column: Int32) -> Value {
            switch sqlite3_column_type(stmt, column) {
            case SQLITE_INTEGER: .integer(int(column))
            case SQLITE_FLOAT: .real(double(column))
            case SQLITE_TEXT: .text(text(column))
            case SQLITE_BLOB: .blob(blob(column))
            default: .null
            }
        }

        public func int(_ column: Int32) -> Int64 { sqlite3_column_int64(stmt, column) }
        public func double(_ column: Int32) -> Double { sqlite3_column_double(stmt, column) }
        public func isNull(_ column: Int32) -> Bool { sqlite3_column_type(stmt, column) == SQLITE_NULL }
        public func text(_ column: Int32) -> String {
            guard let p = sqlite3_column_text(stmt, column) else { return "" }
            return String(cString: p)
        }
        public func blob(_ column: Int32) -> [UInt8] {
            let n = Int(sqlite3_column_bytes(stmt, column))
            guard n > 0, let p = sqlite3_column_blob(stmt, column) else { return [] }
            return Array(UnsafeRawBufferPointer(start: p, count: n))
        }
    }
}
