import ClosetSQLite
import ClosetWire

/// The durable store-and-forward queue: every record is in SQLite (WAL, synchronous=FULL)
/// before it can be sent, survives power cuts and restarts, and is deleted only when every
/// sink (the store, optionally InfluxDB) has acknowledged it. Bounded by bytes: when full,
/// old state records are thinned to one full snapshot per hour (events and dictionaries are
/// kept) before anything new is refused; both are counted and reported upstream.
///
/// Blocking, and confined to one queue (`OutboxQueue`): hence unchecked Sendable.
public final class Outbox: @unchecked Sendable {
    public struct Stats: Sendable, Hashable {
        public var records: Int
        public var bytes: Int64
        public var oldestTime: Int64?
        public var thinned: UInt64
        public var refused: UInt64
        public var boot: UInt32
        public var nextSeq: UInt64
    }

    public struct Pending: Sendable, Hashable {
        public var seq: UInt64
        public var kind: WireRecord.Kind
        public var time: Int64
        public var body: [UInt8]
    }

    let db: SQLiteDatabase
    public let maxBytes: Int64
    /// Bit per sink; a record is done when all are set.
    public let sinkCount: Int
    public private(set) var boot: UInt32 = 0
    public private(set) var nextSeq: UInt64 = 1
    private(set) var bytes: Int64 = 0
    private var buffer: [WireRecord] = []

    /// Opens (or creates) the outbox and counts this start as a new boot.
    public init(path: String, maxBytes: Int64 = 64 << 20, sinks: Int = 1) throws {
        db = try SQLiteDatabase(path: path)
        self.maxBytes = maxBytes
        self.sinkCount = max(1, sinks)
        // Small pages: every transaction rewrites whole pages, and an SD card counts bytes.
        // (Takes effect when the file is created.) The page cache stays at 256 kB instead of
        // SQLite's 2 MB: the agent appends at the end and reads from the front.
        try db.execute(
            """
            PRAGMA page_size = 1024;
            PRAGMA journal_mode = WAL;
            PRAGMA synchronous = FULL;
            PRAGMA cache_size = -256;
            CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS status (key TEXT PRIMARY KEY, value TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS records (
                seq INTEGER PRIMARY KEY, kind INTEGER NOT NULL, time INTEGER NOT NULL,
                done INTEGER NOT NULL DEFAULT 0, body BLOB NOT NULL);
            """)
        try db.transaction {
            boot = UInt32(truncatingIfNeeded: try meta("boot") + 1)
            try setMeta("boot", Int64(boot))
        }
        // Sequence numbers are never reused: the last one committed is kept even after its
        // record is sent and deleted.
        let maxSeq = try db.prepare("SELECT COALESCE(MAX(seq), 0) FROM records").rows { $0.int(0) }.first ?? 0
        nextSeq = UInt64(max(maxSeq, try meta("last_seq"))) + 1
        bytes = try db.prepare("SELECT COALESCE(SUM(LENGTH(body)), 0) FROM records").rows { $0.int(0) }.first ?? 0
    }

    func meta(_ key: String) throws -> Int64 {
        try db.prepare("SELECT value FROM meta WHERE key = ?").rows([.text(key)]) { $0.int(0) }.first ?? 0
    }

    func setMeta(_ key: String, _ value: Int64) throws {
        try db.prepare("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
            .run([.text(key), .integer(value)])
    }

    /// A line of status for `closet-agent outbox` (the last push's result).
    public func setStatus(_ key: String, _ value: String) throws {
        try db.prepare("INSERT INTO status (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
            .run([.text(key), .text(value)])
    }

    public func status(_ key: String) throws -> String? {
        try db.prepare("SELECT value FROM status WHERE key = ?").rows([.text(key)]) { $0.text(0) }.first
    }

    /// Keeps records in memory until `commit` (batched commits spare the SD card).
    public func append(_ records: [WireRecord]) {
        buffer += records
    }

    public var buffered: Int { buffer.count }

    /// Writes the buffered records in one transaction; thins or refuses when over the cap.
    /// Returns how many were refused.
    @discardableResult
    public func commit() throws -> Int {
        guard !buffer.isEmpty else { return 0 }
        let records = buffer
        var refused = 0
        let bytesBefore = bytes
        do {
            try write(records, refused: &refused)
            buffer = []
        } catch {
            // A full disk (SQLITE_FULL) or an I/O error: nothing of this commit was written.
            // The records stay in memory, bounded: the oldest state records go first.
            bytes = bytesBefore
            refused = 0
            let limit = 10_000
            if buffer.count > limit {
                let excess = buffer.count - limit
                var dropped = 0
                buffer.removeAll { r in
                    guard dropped < excess, r.kind == .full || r.kind == .delta else { return false }
                    dropped += 1
                    return true
                }
                droppedInMemory += UInt64(dropped)
            }
            throw error
        }
        if droppedInMemory > 0 {
            // Space is back: count what the full disk cost.
            try? db.transaction { try setMeta("refused", try meta("refused") + Int64(droppedInMemory)) }
            droppedInMemory = 0
        }
        return refused
    }

    /// State records dropped from memory while the disk was full, not yet counted on disk.
    private var droppedInMemory: UInt64 = 0

    private func write(_ records: [WireRecord], refused: inout Int) throws {
        try db.transaction {
            let insert = try db.prepare("INSERT OR IGNORE INTO records (seq, kind, time, body) VALUES (?, ?, ?, ?)")
            for record in records {
                let body = record.encoded()
                if bytes + Int64(body.count) > maxBytes {
                    try thin(needed: Int64(body.count))
                    if bytes + Int64(body.count) > maxBytes {
                        refused += 1
                        continue
                    }
                }
                try insert.run([.integer(Int64(record.seq)), .integer(Int64(record.kind.rawValue)), .integer(record.time), .blob(body)])
                bytes += Int64(body.count)
            }
            if let last = records.map(\.seq).max() {
                try setMeta("last_seq", Int64(last))
                nextSeq = max(nextSeq, last + 1)
            }
            if refused > 0 { try setMeta("refused", try meta("refused") + Int64(refused)) }
        }
    }

    /// Deletes state records from the oldest hours, keeping the first full snapshot of each
    /// hour and every event and dictionary, until `needed` more bytes fit under 90% of the cap.
    private func thin(needed: Int64) throws {
        let target = maxBytes * 9 / 10 - needed
        let hours = try db.prepare("SELECT DISTINCT time / 3600 FROM records WHERE kind IN (1, 2) ORDER BY 1").rows { $0.int(0) }
        var thinned: Int64 = 0
        for hour in hours where bytes > target {
            let keep = try db.prepare("SELECT MIN(seq) FROM records WHERE kind = 1 AND time / 3600 = ?").rows([.integer(hour)]) { $0.isNull(0) ? -1 : $0.int(0) }.first ?? -1
            let victims = try db.prepare("SELECT seq, LENGTH(body) FROM records WHERE kind IN (1, 2) AND time / 3600 = ? AND seq != ?")
                .rows([.integer(hour), .integer(keep)]) { ($0.int(0), $0.int(1)) }
            let delete = try db.prepare("DELETE FROM records WHERE seq = ?")
            for (seq, size) in victims {
                try delete.run([.integer(seq)])
                bytes -= size
                thinned += 1
            }
        }
        if thinned > 0 { try setMeta("thinned", try meta("thinned") + thinned) }
    }

    /// Records not yet acknowledged by `sink`, events and dictionaries first, then state
    /// records, each in sequence order, up to about `maxBytes` of bodies.
    public func pending(sink: Int, maxBytes: Int = 256 << 10, maxRecords: Int = 5000, eventsFirst: Bool = true) throws -> [Pending] {
        let bit = Int64(1 << sink)
        let read = { (s: SQLiteDatabase.Statement) in
            Pending(seq: UInt64(s.int(0)), kind: WireRecord.Kind(rawValue: Int(s.int(1))) ?? .full, time: s.int(2), body: s.blob(3))
        }
        var out: [Pending] = []
        var size = 0
        for kinds in eventsFirst ? ["3, 4", "1, 2"] : ["1, 2, 3, 4"] {
            let rows = try db.prepare(
                "SELECT seq, kind, time, body FROM records WHERE done & ? = 0 AND kind IN (\(kinds)) ORDER BY seq LIMIT ?"
            ).rows([.integer(bit), .integer(Int64(maxRecords))], read)
            for r in rows {
                if size + r.body.count > maxBytes, !out.isEmpty { return out }
                out.append(r)
                size += r.body.count
                if out.count >= maxRecords { return out }
            }
        }
        return out
    }

    /// Marks `seqs` acknowledged by `sink`; deletes what every sink has; lowers the loss
    /// counters by what was reported in that batch.
    public func acknowledge(sink: Int, seqs: [UInt64], reportedThinned: UInt64 = 0, reportedRefused: UInt64 = 0, status: String? = nil) throws {
        let bit = Int64(1 << sink)
        let all = Int64((1 << sinkCount) - 1)
        try db.transaction {
            let mark = try db.prepare("UPDATE records SET done = done | ? WHERE seq = ?")
            for seq in seqs { try mark.run([.integer(bit), .integer(Int64(seq))]) }
            let freed = try db.prepare("SELECT COALESCE(SUM(LENGTH(body)), 0) FROM records WHERE done & ? = ?").rows([.integer(all), .integer(all)]) { $0.int(0) }.first ?? 0
            try db.prepare("DELETE FROM records WHERE done & ? = ?").run([.integer(all), .integer(all)])
            bytes -= freed
            if reportedThinned > 0 { try setMeta("thinned", max(0, try meta("thinned") - Int64(reportedThinned))) }
            if reportedRefused > 0 { try setMeta("refused", max(0, try meta("refused") - Int64(reportedRefused))) }
            // In the same transaction: one write per push, not two.
            if let status { try setStatus("last_push", status) }
        }
    }

    public func stats() throws -> Stats {
        let row = try db.prepare("SELECT COUNT(*), MIN(time) FROM records").rows { ($0.int(0), $0.isNull(1) ? nil : $0.int(1)) }.first
        return Stats(
            records: Int(row?.0 ?? 0), bytes: bytes, oldestTime: row?.1, thinned: UInt64(try meta("thinned")),
            refused: UInt64(try meta("refused")), boot: boot, nextSeq: nextSeq)
    }

    /// Reads an outbox without opening it for writing (no boot counted), for
    /// `closet-agent outbox` beside a running agent.
    public static func inspect(path: String) throws -> (stats: Stats, lastPush: String?) {
        let db = try SQLiteDatabase(path: path, readOnly: true)
        func meta(_ key: String) throws -> Int64 {
            try db.prepare("SELECT value FROM meta WHERE key = ?").rows([.text(key)]) { $0.int(0) }.first ?? 0
        }
        let row = try db.prepare("SELECT COUNT(*), MIN(time), COALESCE(SUM(LENGTH(body)), 0), COALESCE(MAX(seq), 0) FROM records").rows {
            ($0.int(0), $0.isNull(1) ? nil : $0.int(1), $0.int(2), $0.int(3))
        }.first!
        let lastPush = try db.prepare("SELECT value FROM status WHERE key = 'last_push'").rows { $0.text(0) }.first
        let stats = Stats(
            records: Int(row.0), bytes: row.2, oldestTime: row.1, thinned: UInt64(try meta("thinned")), refused: UInt64(try meta("refused")),
            boot: UInt32(truncatingIfNeeded: try meta("boot")), nextSeq: UInt64(max(row.3, try meta("last_seq"))) + 1)
        return (stats, lastPush)
    }

    /// Caps the database's size in pages, to stand in for a full disk where a test cannot
    /// mount a tiny filesystem.
    func limitPagesForTest(_ pages: Int) throws {
        try db.execute("PRAGMA max_page_count = \(pages)")
    }

    /// Loss counters to report in the next batch.
    public func losses() throws -> (thinned: UInt64, refused: UInt64) {
        (UInt64(try meta("thinned")), UInt64(try meta("refused")))
    }
}
