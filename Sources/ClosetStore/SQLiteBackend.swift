import ClosetSQLite
import ClosetWire
import Dispatch

public struct SiteRecord: Sendable, Hashable {
    public var id: Int64
    public var name: String
    public var sealedKey: [UInt8]
    public var created: Int64
    public var revoked: Int64?
}

/// One site on the overview: its latest state in a line.
public struct SiteSummary: Sendable, Hashable {
    public var name: String
    /// 0 ok, 1 unknown, 2 warn, 3 crit (worst device); nil: never reported.
    public var level: Int?
    public var lastReport: Int64?
    public var silent: Bool
    public var problem: String?
}

/// An event as stored: from an agent, or the store's own (silence and return).
public struct StoredEvent: Sendable, Hashable {
    public var time: Int64
    public var device: String?
    public var kind: String
    public var variable: String
    public var level: Int
    public var reason: String
}

public struct StoreError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The store's database on SQLite (WAL): one file, nothing to install. Calls run on a queue
/// of their own (SQLite blocks).
public final class SQLiteBackend: @unchecked Sendable {
    private let db: SQLiteDatabase
    private let queue = DispatchQueue(label: "closet.store.sqlite")

    public init(path: String) throws {
        db = try SQLiteDatabase(path: path)
        try db.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")
    }

    func run<T: Sendable>(_ body: @escaping @Sendable (SQLiteDatabase) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<T, any Error>) in
            queue.async { [db] in c.resume(with: Result { try body(db) }) }
        }
    }

    /// Schema versions, applied in order; each in its own transaction.
    static let migrations: [String] = [
        """
        CREATE TABLE sites (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, key BLOB NOT NULL,
            created INTEGER NOT NULL, revoked INTEGER);
        CREATE TABLE records (site_id INTEGER NOT NULL REFERENCES sites(id), boot INTEGER NOT NULL,
            seq INTEGER NOT NULL, time INTEGER NOT NULL, kind INTEGER NOT NULL, received INTEGER NOT NULL,
            PRIMARY KEY (site_id, boot, seq));
        CREATE TABLE nonces (site_id INTEGER NOT NULL, nonce TEXT NOT NULL, time INTEGER NOT NULL,
            PRIMARY KEY (site_id, nonce));
        CREATE TABLE dictionaries (site_id INTEGER NOT NULL, id INTEGER NOT NULL, body BLOB NOT NULL,
            PRIMARY KEY (site_id, id));
        CREATE TABLE site_state (site_id INTEGER PRIMARY KEY REFERENCES sites(id), dictionary INTEGER,
            state_seq INTEGER, snapshot BLOB, time INTEGER, received INTEGER, interval INTEGER,
            silent INTEGER NOT NULL DEFAULT 0, level INTEGER, problem TEXT,
            thinned INTEGER NOT NULL DEFAULT 0, refused INTEGER NOT NULL DEFAULT 0, gaps INTEGER NOT NULL DEFAULT 0);
        CREATE TABLE readings (site_id INTEGER NOT NULL, device TEXT NOT NULL, variable TEXT NOT NULL,
            time INTEGER NOT NULL, value REAL NOT NULL);
        CREATE INDEX readings_by_variable ON readings (site_id, device, variable, time);
        CREATE TABLE port_changes (site_id INTEGER NOT NULL, device TEXT NOT NULL, port INTEGER NOT NULL,
            name TEXT NOT NULL, time INTEGER NOT NULL, state INTEGER NOT NULL);
        CREATE INDEX port_changes_by_port ON port_changes (site_id, device, port, time);
        CREATE TABLE device_levels (site_id INTEGER NOT NULL, device TEXT NOT NULL, level INTEGER NOT NULL,
            stale INTEGER NOT NULL, time INTEGER NOT NULL, PRIMARY KEY (site_id, device));
        CREATE TABLE events (id INTEGER PRIMARY KEY, site_id INTEGER NOT NULL, time INTEGER NOT NULL,
            device TEXT, kind TEXT NOT NULL, variable TEXT, old TEXT, new TEXT, level INTEGER NOT NULL, reason TEXT);
        CREATE INDEX events_by_time ON events (site_id, time);
        """,
        // 2: readings older than the retention are kept as hourly min/mean/max.
        """
        CREATE TABLE readings_hourly (site_id INTEGER NOT NULL, device TEXT NOT NULL, variable TEXT NOT NULL,
            hour INTEGER NOT NULL, min REAL NOT NULL, mean REAL NOT NULL, max REAL NOT NULL, count INTEGER NOT NULL,
            PRIMARY KEY (site_id, device, variable, hour));
        """,
        // 3: read-only users of the dashboard and the APIs.
        """
        CREATE TABLE users (name TEXT PRIMARY KEY, salt BLOB NOT NULL, hash BLOB NOT NULL, iterations INTEGER NOT NULL, created INTEGER NOT NULL);
        """,
    ]

    /// Brings the schema up to date; returns the version.
    public func migrate() async throws -> Int {
        try await run { db in
            try db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            var version = Int(try db.prepare("SELECT COALESCE(MAX(version), 0) FROM schema_version").rows { $0.int(0) }.first ?? 0)
            while version < Self.migrations.count {
                try db.transaction {
                    try db.execute(Self.migrations[version])
                    try db.prepare("INSERT INTO schema_version (version) VALUES (?)").run([.integer(Int64(version + 1))])
                }
                version += 1
            }
            return version
        }
    }

    // MARK: Sites

    public func addSite(name: String, sealedKey: [UInt8], now: Int64) async throws {
        try await run { db in
            do throws(SQLiteError) {
                try db.prepare("INSERT INTO sites (name, key, created) VALUES (?, ?, ?)").run([.text(name), .blob(sealedKey), .integer(now)])
            } catch {
                if error.code & 0xFF == 19 { throw StoreError("site '\(name)' exists already (revoke it first to issue a new key)") }
                throw error
            }
        }
    }

    public func site(named name: String) async throws -> SiteRecord? {
        try await run { db in
            try db.prepare("SELECT id, name, key, created, revoked FROM sites WHERE name = ?").rows([.text(name)], Self.readSite).first
        }
    }

    public func sites() async throws -> [SiteRecord] {
        try await run { db in try db.prepare("SELECT id, name, key, created, revoked FROM sites ORDER BY name").rows([], Self.readSite) }
    }

    static func readSite(_ s: SQLiteDatabase.Statement) -> SiteRecord {
        SiteRecord(id: s.int(0), name: s.text(1), sealedKey: s.blob(2), created: s.int(3), revoked: s.isNull(4) ? nil : s.int(4))
    }

    /// Revokes the site's key (and frees the name for a new one); false if unknown.
    public func revoke(name: String, now: Int64) async throws -> Bool {
        try await run { db in
            try db.prepare("UPDATE sites SET revoked = ?, name = name || '@revoked-' || ? WHERE name = ? AND revoked IS NULL")
                .run([.integer(now), .integer(now), .text(name)])
            return db.changes > 0
        }
    }

    // MARK: Ingest

    /// Records a nonce; false if this site used it already (a replay).
    public func useNonce(siteID: Int64, nonce: String, time: Int64) async throws -> Bool {
        try await run { db in
            try db.prepare("DELETE FROM nonces WHERE time < ?").run([.integer(time - 2 * IngestDecoder.window)])
            try db.prepare("INSERT OR IGNORE INTO nonces (site_id, nonce, time) VALUES (?, ?, ?)").run([.integer(siteID), .text(nonce), .integer(time)])
            return db.changes > 0
        }
    }

    /// Stores a batch in one transaction: new records, their dictionaries, events, readings,
    /// port changes and the site's latest state. Duplicates are acknowledged, not stored again.
    public func ingest(siteID: Int64, batch: IngestBatch, now: Int64) async throws -> IngestResult {
        try await run { db in
            try db.transaction { try Self.ingest(db, siteID: siteID, batch: batch, now: now) }
        }
    }

    static func ingest(_ db: SQLiteDatabase, siteID: Int64, batch: IngestBatch, now: Int64) throws -> IngestResult {
        let site = SQLiteDatabase.Statement.Value.integer(siteID)
        var result = IngestResult(storedThrough: batch.records.map(\.seq).max() ?? 0, stored: 0, duplicates: 0, resync: false)
        try db.prepare("INSERT OR IGNORE INTO site_state (site_id) VALUES (?)").run([site])
        let stateRow = try db.prepare("SELECT dictionary, state_seq, snapshot, silent FROM site_state WHERE site_id = ?").rows([site]) {
            (dict: $0.isNull(0) ? nil : UInt32(truncatingIfNeeded: $0.int(0)), seq: $0.isNull(1) ? nil : UInt64($0.int(1)), snapshot: $0.blob(2), silent: $0.int(3) != 0)
        }.first!
        func dictionary(_ id: UInt32) throws -> WireDictionary? {
            guard let body = try db.prepare("SELECT body FROM dictionaries WHERE site_id = ? AND id = ?").rows([site, .integer(Int64(id))], { $0.blob(0) }).first
            else { return nil }
            guard case .dictionary(let d) = try WireRecord(decoding: body).body else { return nil }
            return d
        }
        var replica: Replica?
        if let id = stateRow.dict, let seq = stateRow.seq, let d = try dictionary(id), case .full(let s) = try WireRecord(decoding: stateRow.snapshot).body {
            replica = Replica(dictionary: d, full: s, seq: seq)
        }
        var latestDictionary = try stateRow.dict.flatMap(dictionary)
        let insertRecord = try db.prepare("INSERT OR IGNORE INTO records (site_id, boot, seq, time, kind, received) VALUES (?, ?, ?, ?, ?, ?)")
        let insertReading = try db.prepare("INSERT INTO readings (site_id, device, variable, time, value) VALUES (?, ?, ?, ?, ?)")
        let insertPort = try db.prepare("INSERT INTO port_changes (site_id, device, port, name, time, state) VALUES (?, ?, ?, ?, ?, ?)")
        let upsertLevel = try db.prepare(
            "INSERT INTO device_levels (site_id, device, level, stale, time) VALUES (?, ?, ?, ?, ?) ON CONFLICT (site_id, device) DO UPDATE SET level = excluded.level, stale = excluded.stale, time = excluded.time")
        let insertEvent = try db.prepare(
            "INSERT INTO events (site_id, time, device, kind, variable, old, new, level, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
        var lastStateSnapshot: (UInt32, [UInt8], UInt64, Int64)?
        var gaps = 0
        func store(_ a: AppliedState, time: Int64) throws {
            for r in a.readings { try insertReading.run([site, .text(r.device), .text(r.variable), .integer(time), .real(r.value)]) }
            for p in a.ports { try insertPort.run([site, .text(p.device), .integer(Int64(p.index)), .text(p.name), .integer(time), .integer(Int64(p.state))]) }
            for l in a.levels { try upsertLevel.run([site, .text(l.device), .integer(Int64(l.level)), .integer(l.stale ? 1 : 0), .integer(time)]) }
        }
        for record in batch.records {
            try insertRecord.run([site, .integer(Int64(record.boot)), .integer(Int64(record.seq)), .integer(record.time), .integer(Int64(record.kind.rawValue)), .integer(now)])
            guard db.changes > 0 else {
                result.duplicates += 1
                continue
            }
            result.stored += 1
            switch record.body {
            case .dictionary(let d):
                var r = record
                r.site = ""
                try db.prepare("INSERT OR IGNORE INTO dictionaries (site_id, id, body) VALUES (?, ?, ?)").run([site, .integer(Int64(d.id)), .blob(r.encoded())])
                latestDictionary = d
            case .events(let events):
                for e in events {
                    let device = e.device.map { i in latestDictionary.map { Int(i) < $0.devices.count ? $0.devices[Int(i)].name : "#\(i)" } ?? "#\(i)" }
                    try insertEvent.run([
                        site, .integer(e.time), device.map { .text($0) } ?? .null, .text(e.kind), .text(e.variable), .text(e.old), .text(e.new),
                        .integer(Int64(e.level)), .text(e.reason),
                    ])
                }
            case .full(let s):
                guard let d = try (latestDictionary?.id == s.dictionary ? latestDictionary : dictionary(s.dictionary)) else {
                    gaps += 1
                    result.resync = true
                    continue
                }
                let previousPorts = replica.map { Dictionary($0.portStates().map { ("\($0.device)#\($0.index)", $0.state) }, uniquingKeysWith: { a, _ in a }) }
                let r = Replica(dictionary: d, full: s, seq: record.seq)
                var applied = r.all()
                applied.ports = r.portStates().filter { previousPorts?["\($0.device)#\($0.index)"] != $0.state }
                try store(applied, time: record.time)
                replica = r
                var encoded = record
                encoded.site = ""
                lastStateSnapshot = (d.id, encoded.encoded(), record.seq, record.time)
            case .delta(let delta):
                guard var r = replica, let applied = r.apply(delta, seq: record.seq) else {
                    gaps += 1
                    result.resync = true
                    continue
                }
                try store(applied, time: record.time)
                replica = r
                let full = WireRecord(boot: record.boot, seq: record.seq, time: record.time, body: .full(r.state.snapshot(dictionary: r.dictionary)))
                lastStateSnapshot = (r.dictionary.id, full.encoded(), record.seq, record.time)
            }
        }
        if let (dict, body, seq, time) = lastStateSnapshot {
            let levels = replica?.state.levels.map { Int($0 & 3) } ?? []
            let worst = levels.max().map { l in l == 1 ? 1 : l }  // unknown(1) < warn(2) < crit(3)
            let problem = try db.prepare(
                "SELECT device || ' ' || variable || ': ' || reason FROM events WHERE site_id = ? AND level >= 2 ORDER BY time DESC, id DESC LIMIT 1"
            ).rows([site]) { $0.text(0) }.first
            try db.prepare("UPDATE site_state SET dictionary = ?, state_seq = ?, snapshot = ?, time = ?, level = ?, problem = ? WHERE site_id = ?")
                .run([.integer(Int64(dict)), .integer(Int64(seq)), .blob(body), .integer(time), worst.map { .integer(Int64($0)) } ?? .null, problem.map { .text($0) } ?? .null, site])
        }
        if stateRow.silent {
            try insertEvent.run([site, .integer(now), .null, .text("silence"), .text(""), .text("silent"), .text("reporting"), .integer(0), .text("the site reports again")])
        }
        try db.prepare(
            "UPDATE site_state SET received = ?, silent = 0, thinned = thinned + ?, refused = refused + ?, gaps = gaps + ? WHERE site_id = ?"
        ).run([.integer(now), .integer(Int64(batch.thinned)), .integer(Int64(batch.refused)), .integer(Int64(gaps)), site])
        return result
    }

    // MARK: Silence

    /// Marks sites silent that have not reported for `after` seconds; returns their names.
    /// Their last state is kept; silence is an event.
    public func markSilent(now: Int64, after: Int64) async throws -> [String] {
        try await run { db in
            try db.transaction {
                let quiet = try db.prepare(
                    "SELECT s.id, s.name FROM site_state st JOIN sites s ON s.id = st.site_id WHERE st.silent = 0 AND st.received IS NOT NULL AND st.received < ? AND s.revoked IS NULL"
                ).rows([.integer(now - after)]) { ($0.int(0), $0.text(1)) }
                for (id, _) in quiet {
                    try db.prepare("UPDATE site_state SET silent = 1 WHERE site_id = ?").run([.integer(id)])
                    try db.prepare(
                        "INSERT INTO events (site_id, time, device, kind, variable, old, new, level, reason) VALUES (?, ?, NULL, 'silence', '', 'reporting', 'silent', 3, ?)"
                    ).run([.integer(id), .integer(now), .text("no report for more than \(after) s")])
                }
                return quiet.map(\.1)
            }
        }
    }

    // MARK: Reading

    public func overview() async throws -> [SiteSummary] {
        try await run { db in
            try db.prepare(
                "SELECT s.name, st.level, st.received, COALESCE(st.silent, 0), st.problem FROM sites s LEFT JOIN site_state st ON st.site_id = s.id WHERE s.revoked IS NULL ORDER BY s.name"
            ).rows([]) {
                SiteSummary(
                    name: $0.text(0), level: $0.isNull(1) ? nil : Int($0.int(1)), lastReport: $0.isNull(2) ? nil : $0.int(2),
                    silent: $0.int(3) != 0, problem: $0.isNull(4) ? nil : $0.text(4))
            }
        }
    }

    /// Counts for tests and `closet-store site list`.
    public func count(_ table: String, site: String) async throws -> Int {
        precondition(["records", "readings", "events", "port_changes", "dictionaries"].contains(table))
        return try await run { db in
            Int(try db.prepare("SELECT COUNT(*) FROM \(table) t JOIN sites s ON s.id = t.site_id WHERE s.name = ?").rows([.text(site)]) { $0.int(0) }.first ?? 0)
        }
    }

    /// The site's records as (seq, kind) in the order they were stored.
    public func storedRecords(site: String) async throws -> [(seq: UInt64, kind: Int)] {
        try await run { db in
            try db.prepare("SELECT r.seq, r.kind FROM records r JOIN sites s ON s.id = r.site_id WHERE s.name = ? ORDER BY r.rowid").rows([.text(site)]) {
                (seq: UInt64($0.int(0)), kind: Int($0.int(1)))
            }
        }
    }

    /// The newest value of a reading, for tests and the API.
    public func latest(site: String, device: String, variable: String) async throws -> Double? {
        try await run { db in
            try db.prepare(
                // Newest by arrival in sequence order, not by time: an agent's clock can step back.
                "SELECT r.value FROM readings r JOIN sites s ON s.id = r.site_id WHERE s.name = ? AND r.device = ? AND r.variable = ? ORDER BY r.rowid DESC LIMIT 1"
            ).rows([.text(site), .text(device), .text(variable)]) { $0.double(0) }.first
        }
    }

    public func events(site: String, limit: Int = 100) async throws -> [StoredEvent] {
        try await run { db in
            try db.prepare(
                "SELECT e.time, e.device, e.kind, e.variable, e.level, e.reason FROM events e JOIN sites s ON s.id = e.site_id WHERE s.name = ? ORDER BY e.time DESC, e.id DESC LIMIT ?"
            ).rows([.text(site), .integer(Int64(limit))]) {
                StoredEvent(time: $0.int(0), device: $0.isNull(1) ? nil : $0.text(1), kind: $0.text(2), variable: $0.text(3), level: Int($0.int(4)), reason: $0.text(5))
            }
        }
    }
}
