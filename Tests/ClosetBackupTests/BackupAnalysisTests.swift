import ClosetModel
import Testing

@testable import ClosetBackup

/// Schedules, listings and checksum lists: the pure parts, no filesystem.
@Suite struct BackupAnalysisTests {
    // 2026-11-25 12:00:00 UTC, a Wednesday.
    let noon: Int64 = 1_795_608_000
    let day: Int64 = 86_400
    let hour: Int64 = 3600

    @Test func parsesSchedules() throws {
        #expect(try BackupSchedule.parse("daily 02:00").get() == BackupSchedule(.daily(minute: 120)))
        #expect(try BackupSchedule.parse("weekly Sunday 03:30").get() == BackupSchedule(.weekly(weekday: 0, minute: 210)))
        #expect(try BackupSchedule.parse("hourly :15").get() == BackupSchedule(.hourly(minute: 15)))
        #expect(try BackupSchedule.parse("daily").get() == BackupSchedule(.daily(minute: 0)))
        for bad in ["nightly 02:00", "daily 25:00", "daily 2:0", "weekly 03:00", "hourly 01:15", ""] {
            #expect(throws: BackupSchedule.ScheduleError.self) { try BackupSchedule.parse(bad).get() }
        }
        #expect(BackupSchedule(.weekly(weekday: 1, minute: 125)).description == "weekly mon 02:05")
    }

    @Test func dailyRunsFollowTheLocalClock() {
        let s = BackupSchedule(.daily(minute: 120))
        // In UTC+7, 02:00 local is 19:00 UTC the day before.
        let runs = s.runs(from: noon - 2 * day, to: noon, offset: 7 * hour)
        #expect(runs == [noon - 2 * day + 7 * hour, noon - day + 7 * hour])
        #expect(runs.map { Timestamp(nanosecondsSinceEpoch: $0 * 1_000_000_000).shortDescription(offsetSeconds: 7 * hour) }
            == ["2026-11-24 02:00", "2026-11-25 02:00"])
    }

    @Test func weeklyRunsLandOnTheirWeekday() {
        let s = BackupSchedule(.weekly(weekday: 0, minute: 180))
        let runs = s.runs(from: noon - 21 * day, to: noon, offset: 0)
        #expect(runs.count == 3)
        for r in runs {
            #expect(Timestamp(nanosecondsSinceEpoch: r * 1_000_000_000).shortDescription().hasSuffix("03:00"))
            #expect(((r / day) + 4) % 7 == 0)  // a Sunday
        }
    }

    func item(_ name: String, daysAgo: Double, size: Int64 = 1000) -> BackupItem {
        BackupItem(name: name, size: size, modified: noon - Int64(daysAgo * Double(day)))
    }

    var daily: BackupExpectations { BackupExpectations(schedule: BackupSchedule(.daily(minute: 120)), window: .seconds(7 * 86_400)) }

    @Test func aFreshHistoryHasNoMisses() {
        // Backups finish at 02:40 every day for ten days.
        let items = (0..<10).map { item("sql-\($0).bak", daysAgo: Double($0) + 0.39) }
        let f = BackupFindings.analyse(items, now: noon, expectations: daily)
        #expect(f.newest?.name == "sql-0.bak")
        #expect(f.previous?.name == "sql-1.bak")
        #expect(f.missed.isEmpty)
        #expect(f.count == 7)
        #expect(f.shrinkPercent == 0)
    }

    @Test func tuesdayMissedShowsEvenThoughWednesdayIsThere() {
        // Today (Wed) and Monday and before are there; Tuesday's run (2026-11-24 02:00) is not.
        let items = [0, 2, 3, 4].map { item("sql-\($0).bak", daysAgo: Double($0) + 0.39) }
        let f = BackupFindings.analyse(items, now: noon, expectations: daily)
        #expect(f.newest?.name == "sql-0.bak")
        #expect(f.missed == [noon - day - 10 * hour])
        let readings = Dictionary(uniqueKeysWithValues: f.readings(at: Timestamp(secondsSinceEpoch: 0), now: noon, utcOffset: 0).map { ($0.name, $0.value) })
        #expect(readings["backup.missed"] == .number(1))
        #expect(readings["backup.missed.last"] == .text("2026-11-24 02:00"))
    }

    @Test func runsBeforeTheFirstBackupAreNotMisses() {
        let items = [item("a", daysAgo: 1.39), item("b", daysAgo: 0.39)]
        #expect(BackupFindings.analyse(items, now: noon, expectations: daily).missed.isEmpty)
    }

    @Test func staleBackupAgeIsReported() {
        let f = BackupFindings.analyse([item("old", daysAgo: 3)], now: noon, expectations: daily)
        let age = f.readings(at: Timestamp(secondsSinceEpoch: 0), now: noon, utcOffset: 0).first { $0.name == "backup.last.age" }
        #expect(age?.value == .number(Double(3 * day)))
        // Today's slot is still open; yesterday's and the day before's were missed.
        #expect(f.missed.count == 2)
    }

    @Test func shrinkZeroByteAndGrowingItems() {
        let items = [
            item("mon", daysAgo: 2, size: 10_000),
            item("tue", daysAgo: 1, size: 0),
            item("wed", daysAgo: 0.4, size: 6_000),
            BackupItem(name: "now", size: 500, modified: noon - 60),
        ]
        let f = BackupFindings.analyse(items, now: noon, expectations: daily)
        #expect(f.newest?.name == "wed")
        #expect(f.previous?.name == "mon")
        #expect(f.shrinkPercent == 40)
        #expect(f.empty.map(\.name) == ["tue"])
        #expect(f.growing.map(\.name) == ["now"])
    }

    @Test func noBackupAtAllIsNamed() {
        let f = BackupFindings.analyse([], now: noon, expectations: daily)
        let r = f.readings(at: Timestamp(secondsSinceEpoch: 0), now: noon, utcOffset: 0)
        #expect(r.first { $0.name == "backup.last.name" }?.value == .text("none"))
    }

    @Test func parsesChecksumLists() throws {
        let hex = String(repeating: "ab", count: 32)
        let m = try ChecksumManifest.parse("\(hex)  sql 1.bak\n\(hex.uppercased()) *bin.bak\n\n\\\(hex)  new\\nline\nSHA256 (tag) = \(hex)\n")
        #expect(m.entries.map(\.name) == ["sql 1.bak", "bin.bak", "new\nline", "tag"])
        #expect(m.entries.allSatisfy { $0.digest == [UInt8](repeating: 0xAB, count: 32) })
        #expect(m.entries.map(\.line) == [1, 2, 4, 5])
        #expect(throws: ChecksumManifest.ParseError(line: 2, message: "not a sha256sum line (<64 hex digits>, two spaces, file name)")) {
            try ChecksumManifest.parse("\(hex)  a\nnot a line\n")
        }
        #expect(throws: ChecksumManifest.ParseError.self) { try ChecksumManifest.parse("\(hex.dropLast())  short\n") }
    }

    @Test func sha256MatchesKnownVectors() {
        #expect(hex(SHA256Hasher.digest(Array("abc".utf8))) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(hex(SHA256Hasher.digest([])) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test func valueRulesPickTheFirstMatchingGlob() {
        let rule = HealthRule.values([.init("ok", .ok), .init("running", .ok), .init("no manifest", .warn)], otherwise: .crit)
        #expect(rule.evaluate(.text("ok"), unit: nil, previous: .unknown).0 == .ok)
        #expect(rule.evaluate(.text("no manifest"), unit: nil, previous: .unknown).0 == .warn)
        let (level, reason) = rule.evaluate(.text("failed: a.bak: checksum mismatch"), unit: nil, previous: .ok)
        #expect(level == .crit)
        #expect(reason == "failed: a.bak: checksum mismatch")
    }
}
