import ClosetSQLite
import ClosetWire
import Logging

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

/// The store's data: sites and keys, pushed records, readings, events, users, on SQLite or
/// PostgreSQL (`open(_:)`). Holds no state of its own: several instances may share one
/// PostgreSQL database.
public final class StoreBackend: Sendable {
    let db: any SQLDatabase
    var dialect: SQLDialect { db.dialect }

    init(_ db: any SQLDatabase) { self.db = db }

    /// `sqlite:PATH` (or a plain path) or `postgres://USER:PASSWORD@HOST:PORT/DATABASE?...`.
    public static func open(_ url: String, logger: Logger = Logger(label: "closet-store")) throws -> StoreBackend {
        if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") { return StoreBackend(try PostgresEngine(url: url, logger: logger)) }
        return StoreBackend(try SQLiteEngine(path: url.hasPrefix("sqlite:") ? String(url.dropFirst(7)) : url))
    }

    /// The database as messages name it (no password).
    public var database: String { db.description }

    public func close() async { await db.close() }

    func read<T: Sendable>(_ body: @Sendable (any SQLConnection) async throws -> T) async throws -> T {
        try await db.connection(transaction: false, body)
    }

    @discardableResult
    func write<T: Sendable>(_ body: @Sendable (any SQLConnection) async throws -> T) async throws -> T {
        try await db.connection(transaction: true, body)
    }

    func query(_ sql: String, _ parameters: [SQLValue] = []) async throws -> [SQLRow] {
        try await read { try await $0.query(sql, parameters) }
    }

    /// Schema versions, applied in order.
    static func migrations(_ d: SQLDialect) -> [String] {
        let (int, real, blob) = (d.integer, d.real, d.blob)
        return [
            """
            CREATE TABLE sites (id \(d.autoID), name TEXT NOT NULL UNIQUE, key \(blob) NOT NULL,
                created \(int) NOT NULL, revoked \(int));
            CREATE TABLE records (site_id \(int) NOT NULL REFERENCES sites(id), boot \(int) NOT NULL,
                seq \(int) NOT NULL, time \(int) NOT NULL, kind \(int) NOT NULL, received \(int) NOT NULL\(d.insertOrderColumn),
                PRIMARY KEY (site_id, boot, seq));
            CREATE TABLE nonces (site_id \(int) NOT NULL, nonce TEXT NOT NULL, time \(int) NOT NULL,
                PRIMARY KEY (site_id, nonce));
            CREATE TABLE dictionaries (site_id \(int) NOT NULL, id \(int) NOT NULL, body \(blob) NOT NULL,
                PRIMARY KEY (site_id, id));
            CREATE TABLE site_state (site_id \(int) PRIMARY KEY REFERENCES sites(id), dictionary \(int),
                state_seq \(int), snapshot \(blob), time \(int), received \(int), interval \(int),
                silent \(int) NOT NULL DEFAULT 0, level \(int), problem TEXT,
                thinned \(int) NOT NULL DEFAULT 0, refused \(int) NOT NULL DEFAULT 0, gaps \(int) NOT NULL DEFAULT 0);
            CREATE TABLE readings (site_id \(int) NOT NULL, device TEXT NOT NULL, variable TEXT NOT NULL,
                time \(int) NOT NULL, value \(real) NOT NULL\(d.insertOrderColumn));
            CREATE INDEX readings_by_variable ON readings (site_id, device, variable, time);
            CREATE TABLE port_changes (site_id \(int) NOT NULL, device TEXT NOT NULL, port \(int) NOT NULL,
                name TEXT NOT NULL, time \(int) NOT NULL, state \(int) NOT NULL);
            CREATE INDEX port_changes_by_port ON port_changes (site_id, device, port, time);
            CREATE TABLE device_levels (site_id \(int) NOT NULL, device TEXT NOT NULL, level \(int) NOT NULL,
                stale \(int) NOT NULL, time \(int) NOT NULL, PRIMARY KEY (site_id, device));
            CREATE TABLE events (id \(d.autoID), site_id \(int) NOT NULL, time \(int) NOT NULL,
                device TEXT, kind TEXT NOT NULL, variable TEXT, old TEXT, new TEXT, level \(int) NOT NULL, reason TEXT);
            CREATE INDEX events_by_time ON events (site_id, time);
            """,
            // 2: readings older than the retention are kept as hourly min/mean/max.
            """
            CREATE TABLE readings_hourly (site_id \(int) NOT NULL, device TEXT NOT NULL, variable TEXT NOT NULL,
                hour \(int) NOT NULL, min \(real) NOT NULL, mean \(real) NOT NULL, max \(real) NOT NULL, count \(int) NOT NULL,
                PRIMARY KEY (site_id, device, variable, hour));
            """,
            // 3: read-only users of the dashboard and the APIs.
            """
            CREATE TABLE users (name TEXT PRIMARY KEY, salt \(blob) NOT NULL, hash \(blob) NOT NULL, iterations \(int) NOT NULL, created \(int) NOT NULL);
            """,
            // 4: old nonces are pruned by time (by the periodic chores, not by each push).
            "CREATE INDEX nonces_by_time ON nonces (time);",
        ]
    }

    /// Brings the schema up to date in one transaction (one instance at a time); returns
    /// the version.
    public func migrate() async throws -> Int {
        let migrations = Self.migrations(dialect)
        let exclusive = dialect.exclusive
        try await db.ready()
        return try await write { c in
            if let exclusive { try await c.query(exclusive) }
            try await c.script("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            var version = Int(try await c.query("SELECT COALESCE(MAX(version), 0) FROM schema_version").first?.int(0) ?? 0)
            while version < migrations.count {
                try await c.script(migrations[version])
                try await c.query("INSERT INTO schema_version (version) VALUES (?)", [.integer(Int64(version + 1))])
                version += 1
            }
            return version
        }
    }

    // MARK: Sites

    public func addSite(name: String, sealedKey: [UInt8], now: Int64) async throws {
        let added = try await write { c in
            try await c.query("INSERT INTO sites (name, key, created) VALUES (?, ?, ?) ON CONFLICT DO NOTHING RETURNING id", [.text(name), .blob(sealedKey), .integer(now)])
        }
        if added.isEmpty { throw StoreError("site '\(name)' exists already (revoke it first to issue a new key)") }
    }

    public func site(named name: String) async throws -> SiteRecord? {
        try await query("SELECT id, name, key, created, revoked FROM sites WHERE name = ?", [.text(name)]).first.map(Self.readSite)
    }

    public func sites() async throws -> [SiteRecord] {
        try await query("SELECT id, name, key, created, revoked FROM sites ORDER BY name").map(Self.readSite)
    }

    static func readSite(_ s: SQLRow) -> SiteRecord {
        SiteRecord(id: s.int(0), name: s.text(1), sealedKey: s.blob(2), created: s.int(3), revoked: s.int(ifPresent: 4))
    }

    /// Revokes the site's key (and frees the name for a new one); false if unknown.
    public func revoke(name: String, now: Int64) async throws -> Bool {
        try await write { c in
            try await c.query(
                "UPDATE sites SET revoked = ?, name = name || '@revoked-' || ? WHERE name = ? AND revoked IS NULL RETURNING id",
                [.integer(now), .text(String(now)), .text(name)])
        }.count > 0
    }

    // MARK: Ingest

    /// Records a nonce; false if this site used it already (a replay).
    public func useNonce(siteID: Int64, nonce: String, time: Int64) async throws -> Bool {
        try await write { c in
            try await c.query(
                "INSERT INTO nonces (site_id, nonce, time) VALUES (?, ?, ?) ON CONFLICT DO NOTHING RETURNING site_id", [.integer(siteID), .text(nonce), .integer(time)])
        }.count > 0
    }

    /// Forgets nonces older than the signature window allows (a replay of them is refused
    /// for its timestamp); returns how many.
    @discardableResult
    public func pruneNonces(now: Int64) async throws -> Int {
        try await write { c in
            try await c.query("DELETE FROM nonces WHERE time < ? RETURNING site_id", [.integer(now - 2 * IngestDecoder.window)])
        }.count
    }

    /// Stores a batch in one transaction: new records, their dictionaries, events, readings,
    /// port changes and the site's latest state. Duplicates are acknowledged, not stored again.
    /// The site's state row is locked for the transaction, so pushes of one site taken by
    /// several store instances apply one after the other.
    public func ingest(siteID: Int64, batch: IngestBatch, now: Int64) async throws -> IngestResult {
        let forUpdate = dialect.forUpdate
        return try await write { c in try await Self.ingest(c, forUpdate: forUpdate, siteID: siteID, batch: batch, now: now) }
    }

    static func ingest(_ c: any SQLConnection, forUpdate: String, siteID: Int64, batch: IngestBatch, now: Int64) async throws -> IngestResult {
        let site = SQLValue.integer(siteID)
        var result = IngestResult(storedThrough: batch.records.map(\.seq).max() ?? 0, stored: 0, duplicates: 0, resync: false)
        try await c.query("INSERT INTO site_state (site_id) VALUES (?) ON CONFLICT DO NOTHING", [site])
        guard let state = try await c.query("SELECT dictionary, state_seq, snapshot, silent FROM site_state WHERE site_id = ?\(forUpdate)", [site]).first else {
            throw StoreError("site \(siteID) has no state row")
        }
        var dictionaries: [UInt32: WireDictionary] = [:]
        func dictionary(_ id: UInt32) async throws -> WireDictionary? {
            if let d = dictionaries[id] { return d }
            guard let body = try await c.query("SELECT body FROM dictionaries WHERE site_id = ? AND id = ?", [site, .integer(Int64(id))]).first?.blob(0),
                case .dictionary(let d) = try WireRecord(decoding: body).body
            else { return nil }
            dictionaries[id] = d
            return d
        }
        let stateDictionary = state.int(ifPresent: 0).map { UInt32(truncatingIfNeeded: $0) }
        var replica: Replica?
        var latestDictionary: WireDictionary?
        if let id = stateDictionary {
            latestDictionary = try await dictionary(id)
            if let d = latestDictionary, !state.isNull(1), case .full(let s) = try WireRecord(decoding: state.blob(2)).body {
                replica = Replica(dictionary: d, full: s, seq: UInt64(bitPattern: state.int(1)))
            }
        }
        // Which records are new, in one statement; a record twice in one batch counts once.
        var fresh = Set(
            try await c.insert(
                into: "records", columns: ["site_id", "boot", "seq", "time", "kind", "received"],
                rows: batch.records.map { [site, .integer(Int64($0.boot)), .integer(Int64(bitPattern: $0.seq)), .integer($0.time), .integer(Int64($0.kind.rawValue)), .integer(now)] },
                suffix: "ON CONFLICT DO NOTHING RETURNING boot, seq"
            ).map { [$0.int(0), $0.int(1)] })
        var readings: [[SQLValue]] = []
        var ports: [[SQLValue]] = []
        var levels: [String: [SQLValue]] = [:]
        var events: [[SQLValue]] = []
        // The record that last moved the state; the state is encoded once, at the end.
        var lastState: WireRecord?
        var gaps = 0
        func store(_ a: AppliedState, time: Int64) {
            for r in a.readings { readings.append([site, .text(r.device), .text(r.variable), .integer(time), .real(r.value)]) }
            for p in a.ports { ports.append([site, .text(p.device), .integer(Int64(p.index)), .text(p.name), .integer(time), .integer(Int64(p.state))]) }
            for l in a.levels { levels[l.device] = [site, .text(l.device), .integer(Int64(l.level)), .integer(l.stale ? 1 : 0), .integer(time)] }
        }
        for record in batch.records {
            guard fresh.remove([Int64(record.boot), Int64(bitPattern: record.seq)]) != nil else {
                result.duplicates += 1
                continue
            }
            result.stored += 1
            switch record.body {
            case .dictionary(let d):
                var r = record
                r.site = ""
                try await c.query("INSERT INTO dictionaries (site_id, id, body) VALUES (?, ?, ?) ON CONFLICT DO NOTHING", [site, .integer(Int64(d.id)), .blob(r.encoded())])
                dictionaries[d.id] = d
                latestDictionary = d
            case .events(let list):
                for e in list {
                    let device = e.device.map { i in latestDictionary.map { Int(i) < $0.devices.count ? $0.devices[Int(i)].name : "#\(i)" } ?? "#\(i)" }
                    events.append([
                        site, .integer(e.time), device.map { .text($0) } ?? .null, .text(e.kind), .text(e.variable), .text(e.old), .text(e.new),
                        .integer(Int64(e.level)), .text(e.reason),
                    ])
                }
            case .full(let s):
                guard let d = try await (latestDictionary?.id == s.dictionary ? latestDictionary : dictionary(s.dictionary)) else {
                    gaps += 1
                    result.resync = true
                    continue
                }
                let previousPorts = replica.map { Dictionary($0.portStates().map { ("\($0.device)#\($0.index)", $0.state) }, uniquingKeysWith: { a, _ in a }) }
                let r = Replica(dictionary: d, full: s, seq: record.seq)
                var applied = r.all()
                applied.ports = r.portStates().filter { previousPorts?["\($0.device)#\($0.index)"] != $0.state }
                store(applied, time: record.time)
                replica = r
                lastState = record
            case .delta(let delta):
                guard var r = replica, let applied = r.apply(delta, seq: record.seq) else {
                    gaps += 1
                    result.resync = true
                    continue
                }
                store(applied, time: record.time)
                replica = r
                lastState = record
            }
        }
        try await c.insert(into: "readings", columns: ["site_id", "device", "variable", "time", "value"], rows: readings, suffix: "")
        try await c.insert(into: "port_changes", columns: ["site_id", "device", "port", "name", "time", "state"], rows: ports, suffix: "")
        try await c.insert(
            into: "device_levels", columns: ["site_id", "device", "level", "stale", "time"], rows: levels.sorted { $0.key < $1.key }.map(\.value),
            suffix: "ON CONFLICT (site_id, device) DO UPDATE SET level = excluded.level, stale = excluded.stale, time = excluded.time")
        let eventColumns = ["site_id", "time", "device", "kind", "variable", "old", "new", "level", "reason"]
        try await c.insert(into: "events", columns: eventColumns, rows: events, suffix: "")
        if let record = lastState, let r = replica {
            let (dict, seq, time) = (r.dictionary.id, record.seq, record.time)
            var full = record
            full.site = ""
            if case .delta = record.body { full.body = .full(r.state.snapshot(dictionary: r.dictionary)) }
            let body = full.encoded()
            let levels = replica?.state.levels.map { Int($0 & 3) } ?? []
            let worst = levels.max().map { l in l == 1 ? 1 : l }  // unknown(1) < warn(2) < crit(3)
            let problem = try await c.query(
                "SELECT device || ' ' || variable || ': ' || reason FROM events WHERE site_id = ? AND level >= 2 ORDER BY time DESC, id DESC LIMIT 1", [site]
            ).first?.text(ifPresent: 0)
            try await c.query(
                "UPDATE site_state SET dictionary = ?, state_seq = ?, snapshot = ?, time = ?, level = ?, problem = ? WHERE site_id = ?",
                [.integer(Int64(dict)), .integer(Int64(bitPattern: seq)), .blob(body), .integer(time), worst.map { .integer(Int64($0)) } ?? .null, problem.map { .text($0) } ?? .null, site])
        }
        if state.int(3) != 0 {
            try await c.insert(
                into: "events", columns: eventColumns,
                rows: [[site, .integer(now), .null, .text("silence"), .text(""), .text("silent"), .text("reporting"), .integer(0), .text("the site reports again")]], suffix: "")
        }
        try await c.query(
            "UPDATE site_state SET received = ?, silent = 0, thinned = thinned + ?, refused = refused + ?, gaps = gaps + ? WHERE site_id = ?",
            [.integer(now), .integer(Int64(batch.thinned)), .integer(Int64(batch.refused)), .integer(Int64(gaps)), site])
        return result
    }

    // MARK: Silence

    /// Marks sites silent that have not reported for `after` seconds; returns their names.
    /// Their last state is kept; silence is an event. Each site is marked once even when
    /// several store instances check at the same time.
    public func markSilent(now: Int64, after: Int64) async throws -> [String] {
        let exclusive = dialect.exclusive
        return try await write { c in
            if let exclusive { try await c.query(exclusive) }
            let quiet = try await c.query(
                """
                UPDATE site_state SET silent = 1 WHERE silent = 0 AND received IS NOT NULL AND received < ?
                AND site_id IN (SELECT id FROM sites WHERE revoked IS NULL) RETURNING site_id
                """, [.integer(now - after)]
            ).map { $0.int(0) }
            guard !quiet.isEmpty else { return [] }
            try await c.insert(
                into: "events", columns: ["site_id", "time", "kind", "variable", "old", "new", "level", "reason"],
                rows: quiet.map { [.integer($0), .integer(now), .text("silence"), .text(""), .text("reporting"), .text("silent"), .integer(3), .text("no report for more than \(after) s")] },
                suffix: "")
            return try await c.query("SELECT name FROM sites WHERE id IN (\(quiet.map(String.init).joined(separator: ", "))) ORDER BY name").map { $0.text(0) }
        }
    }

    // MARK: Reading

    public func overview() async throws -> [SiteSummary] {
        try await query(
            "SELECT s.name, st.level, st.received, COALESCE(st.silent, 0), st.problem FROM sites s LEFT JOIN site_state st ON st.site_id = s.id WHERE s.revoked IS NULL ORDER BY s.name"
        ).map {
            SiteSummary(
                name: $0.text(0), level: $0.int(ifPresent: 1).map { Int($0) }, lastReport: $0.int(ifPresent: 2),
                silent: $0.int(3) != 0, problem: $0.text(ifPresent: 4))
        }
    }

    /// Counts for tests and `closet-store site list`.
    public func count(_ table: String, site: String) async throws -> Int {
        precondition(["records", "readings", "events", "port_changes", "dictionaries"].contains(table))
        return Int(try await query("SELECT COUNT(*) FROM \(table) t JOIN sites s ON s.id = t.site_id WHERE s.name = ?", [.text(site)]).first?.int(0) ?? 0)
    }

    /// The site's records as (seq, kind) in the order they were stored.
    public func storedRecords(site: String) async throws -> [(seq: UInt64, kind: Int)] {
        try await query("SELECT r.seq, r.kind FROM records r JOIN sites s ON s.id = r.site_id WHERE s.name = ? ORDER BY r.\(dialect.insertOrder)", [.text(site)]).map {
            (seq: UInt64(bitPattern: $0.int(0)), kind: Int($0.int(1)))
        }
    }

    /// The newest value of a reading, for tests and the API.
    public func latest(site: String, device: String, variable: String) async throws -> Double? {
        try await query(
            // Newest by arrival in sequence order, not by time: an agent's clock can step back.
            "SELECT r.value FROM readings r JOIN sites s ON s.id = r.site_id WHERE s.name = ? AND r.device = ? AND r.variable = ? ORDER BY r.\(dialect.insertOrder) DESC LIMIT 1",
            [.text(site), .text(device), .text(variable)]
        ).first?.double(0)
    }

    public func events(site: String, limit: Int = 100) async throws -> [StoredEvent] {
        try await query(
            "SELECT e.time, e.device, e.kind, e.variable, e.level, e.reason FROM events e JOIN sites s ON s.id = e.site_id WHERE s.name = ? ORDER BY e.time DESC, e.id DESC LIMIT ?",
            [.text(site), .integer(Int64(limit))]
        ).map {
            StoredEvent(time: $0.int(0), device: $0.text(ifPresent: 1), kind: $0.text(2), variable: $0.text(3), level: Int($0.int(4)), reason: $0.text(5))
        }
    }
}
