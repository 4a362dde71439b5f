import ClosetSQLite
import Dispatch

/// SQLite (WAL) for the store: one file, nothing to install. One connection, lent to one
/// caller at a time; its statements run on a queue of their own (SQLite blocks).
final class SQLiteEngine: SQLDatabase, @unchecked Sendable {
    let db: SQLiteDatabase
    let queue = DispatchQueue(label: "closet.store.sqlite")
    let lock = AsyncLock()
    let dialect = SQLDialect.sqlite
    var description: String { "sqlite:\(db.path)" }

    init(path: String) throws {
        db = try SQLiteDatabase(path: path)
        try db.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")
    }

    func on<T: Sendable>(_ body: @escaping @Sendable (SQLiteDatabase) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<T, any Error>) in
            queue.async { [db] in c.resume(with: Result { try body(db) }) }
        }
    }

    func connection<T: Sendable>(transaction: Bool, _ body: @Sendable (any SQLConnection) async throws -> T) async throws -> T {
        await lock.acquire()
        let result: Result<T, any Error>
        do {
            if transaction { try await on { try $0.execute("BEGIN IMMEDIATE") } }
            let value = try await body(Connection(engine: self))
            if transaction { try await on { try $0.execute("COMMIT") } }
            result = .success(value)
        } catch {
            if transaction { _ = try? await on { try $0.execute("ROLLBACK") } }
            result = .failure(error)
        }
        await lock.release()
        return try result.get()
    }

    func ready() async throws {}
    func close() async {}

    struct Connection: SQLConnection {
        let engine: SQLiteEngine

        static func row(_ s: SQLiteDatabase.Statement) -> SQLRow {
            SQLRow(values: (0..<s.columnCount).map { s.value($0) })
        }

        func query(_ sql: String, _ parameters: [SQLValue]) async throws -> [SQLRow] {
            try await engine.on { db in try db.prepare(sql).rows(parameters, Self.row) }
        }

        /// One prepared statement run once per row (SQLite has no round trips to save).
        func insert(into table: String, columns: [String], rows: [[SQLValue]], suffix: String) async throws -> [SQLRow] {
            guard !rows.isEmpty else { return [] }
            let marks = Array(repeating: "?", count: columns.count).joined(separator: ", ")
            let sql = "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES (\(marks)) \(suffix)"
            return try await engine.on { db in
                let statement = try db.prepare(sql)
                var out: [SQLRow] = []
                for row in rows { out += try statement.rows(row, Self.row) }
                return out
            }
        }

        func script(_ sql: String) async throws {
            try await engine.on { try $0.execute(sql) }
        }
    }
}
