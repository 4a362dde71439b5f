import ClosetModel

/// One backup as found on the share: a file (`sql-2026-11-28.bak`) or a folder
/// (`daily/2026-11-28/`, sized and dated by what it holds).
public struct BackupItem: Sendable, Hashable {
    /// Path relative to the backup set's folder.
    public var name: String
    public var size: Int64
    /// Newest modification time inside the item, seconds since the epoch.
    public var modified: Int64
    public var isDirectory: Bool

    public init(name: String, size: Int64, modified: Int64, isDirectory: Bool = false) {
        self.name = name
        self.size = size
        self.modified = modified
        self.isDirectory = isDirectory
    }
}

/// What counts as a good backup history for one set.
public struct BackupExpectations: Sendable, Hashable {
    public var schedule: BackupSchedule?
    /// How far back runs are counted and checked for misses.
    public var window: Duration
    /// An item written to within this long is still being written: not complete yet.
    public var settle: Duration

    public init(schedule: BackupSchedule? = nil, window: Duration = .seconds(7 * 86_400), settle: Duration = .seconds(600)) {
        self.schedule = schedule
        self.window = window
        self.settle = settle
    }
}

/// The verdict on a listing of backup items. Pure: the tests build listings by hand.
public struct BackupFindings: Sendable, Hashable {
    /// The newest complete item (non-empty, not being written).
    public var newest: BackupItem?
    /// The complete item before it, for the size trend.
    public var previous: BackupItem?
    /// Complete items inside the window.
    public var count: Int
    /// Scheduled runs inside the window with no complete backup, oldest first.
    public var missed: [Int64]
    /// Zero-byte items inside the window.
    public var empty: [BackupItem]
    /// Items still being written.
    public var growing: [BackupItem]
    /// How much smaller the newest is than the one before, in percent (negative: it grew).
    public var shrinkPercent: Double? {
        guard let n = newest, let p = previous, p.size > 0 else { return nil }
        return Double(p.size - n.size) / Double(p.size) * 100
    }
    /// Bytes the backups inside the window add per day, for the days-until-full estimate.
    public var bytesPerDay: Double?

    public static func analyse(
        _ items: [BackupItem], now: Int64, expectations: BackupExpectations, utcOffset: Int64 = 0
    ) -> BackupFindings {
        let settle = Int64(expectations.settle.seconds)
        let windowStart = now - Int64(expectations.window.seconds)
        let sorted = items.sorted { ($0.modified, $0.name) < ($1.modified, $1.name) }
        let growing = sorted.filter { $0.modified > now - settle }
        let complete = sorted.filter { $0.size > 0 && $0.modified <= now - settle }
        let recent = complete.filter { $0.modified >= windowStart }
        let empty = sorted.filter { $0.size == 0 && $0.modified >= windowStart && $0.modified <= now - settle }

        var missed: [Int64] = []
        if let schedule = expectations.schedule, let oldest = complete.first?.modified {
            // A run's slot lasts until the next run; a backup started a little early (clock skew
            // between the server and the NAS) still counts for its run.
            let slack = min(schedule.length / 8, 3600)
            let runs = schedule.runs(from: windowStart, to: now, offset: utcOffset)
            for (i, run) in runs.enumerated() {
                let end = i + 1 < runs.count ? runs[i + 1] : run + schedule.length
                guard end <= now else { continue }  // the current slot may still be filled
                guard end - slack > oldest else { continue }  // before the first backup ever
                let hit = complete.contains { $0.modified >= run - slack && $0.modified < end - slack }
                if !hit { missed.append(run) }
            }
        }
        var rate: Double?
        if let first = recent.first, let last = recent.last, recent.count >= 2, last.modified > first.modified {
            let days = Double(last.modified - first.modified) / 86_400
            rate = Double(recent.dropFirst().reduce(0) { $0 + $1.size }) / days
        }
        return BackupFindings(
            newest: complete.last, previous: complete.dropLast().last, count: recent.count, missed: missed,
            empty: empty, growing: growing, bytesPerDay: rate)
    }

    /// The readings for the model: `backup.last.*`, `backup.count`, `backup.missed`, ...
    public func readings(at time: Timestamp, now: Int64, utcOffset: Int64) -> [Reading] {
        var out: [Reading] = []
        func add(_ name: VariableName, _ value: ReadingValue, _ unit: Unit? = nil) {
            out.append(Reading(name, value, unit: unit, time: time))
        }
        if let n = newest {
            add("backup.last.name", .text(n.name))
            add("backup.last.time", .text(Timestamp(nanosecondsSinceEpoch: n.modified * 1_000_000_000).shortDescription(offsetSeconds: utcOffset)))
            add("backup.last.age", .number(Double(max(0, now - n.modified))), .second)
            add("backup.last.size", .number(Double(n.size)), .byte)
        } else {
            add("backup.last.name", .text("none"))
        }
        if let s = shrinkPercent { add("backup.shrink", .number((s * 10).rounded() / 10), .percent) }
        add("backup.count", .number(Double(count)), .count)
        add("backup.missed", .number(Double(missed.count)), .count)
        if let last = missed.last {
            add("backup.missed.last", .text(Timestamp(nanosecondsSinceEpoch: last * 1_000_000_000).shortDescription(offsetSeconds: utcOffset)))
        }
        add("backup.empty", .number(Double(empty.count)), .count)
        if let e = empty.last { add("backup.empty.last", .text(e.name)) }
        add("backup.growing", .number(Double(growing.count)), .count)
        return out
    }
}
