#if canImport(Glibc)
import Glibc
#endif
import ClosetConfig
import ClosetModel
import ClosetTesting
import Testing

@testable import ClosetBackup

/// The driver against real folders the tests build, with their modification times set.
@Suite struct BackupDriverTests {
    let now = Int64(time(nil))
    let day: Int64 = 86_400

    /// A backup file `daysAgo` old with `contents`, listed in `SHA256SUMS` when `listed`.
    func backups(_ items: [(name: String, daysAgo: Double, contents: String)], manifest: Bool = true) -> FixtureTree {
        let tree = FixtureTree(prefix: "closet-backup")
        var sums = ""
        for item in items {
            let path = tree.file("sql/\(item.name)", item.contents)
            setModified(path, now - Int64(item.daysAgo * Double(day)))
            sums += hex(SHA256Hasher.digest(Array(item.contents.utf8))) + "  \(item.name)\n"
        }
        if manifest { tree.file("sql/SHA256SUMS", sums) }
        return tree
    }

    func setModified(_ path: String, _ seconds: Int64) {
        var times = [timespec(tv_sec: Int(seconds), tv_nsec: 0), timespec(tv_sec: Int(seconds), tv_nsec: 0)]
        #expect(utimensat(AT_FDCWD, path, &times, 0) == 0)
    }

    func driver(_ tree: FixtureTree, _ edit: (inout BackupDriver.Configuration) -> Void = { _ in }) -> BackupDriver {
        var config = BackupDriver.Configuration(
            path: tree.path("sql"), pattern: "sql-*.bak",
            expectations: BackupExpectations(schedule: BackupSchedule(.daily(minute: 0)), window: .seconds(5 * 86_400), settle: .seconds(300)))
        config.filesystemTimeout = .seconds(2)
        edit(&config)
        return BackupDriver(configuration: config)
    }

    func values(_ driver: BackupDriver, verify: Bool = true) async -> [VariableName: ReadingValue] {
        let readings = await driver.check(at: Timestamp(nanosecondsSinceEpoch: now * 1_000_000_000), verification: verify ? .wait : .skip)
        return Dictionary(readings.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
    }

    /// The levels the device's default rules give these readings.
    func levels(_ driver: BackupDriver, _ values: [VariableName: ReadingValue]) -> [VariableName: HealthLevel] {
        let rules = driver.configuration.defaultRules
        var out: [VariableName: HealthLevel] = [:]
        for (name, value) in values {
            guard let rule = rules.first(where: { $0.pattern.matches(name) })?.rule else { continue }
            out[name] = rule.evaluate(value, unit: nil, previous: .unknown).0
        }
        return out
    }

    var fiveDays: [(name: String, daysAgo: Double, contents: String)] {
        (0..<5).map { ("sql-\($0).bak", Double($0) + 0.1, "backup \($0) " + String(repeating: "x", count: 1000 + $0)) }
    }

    @Test func aFreshVerifiedBackupIsAllOK() async {
        let tree = backups(fiveDays)
        defer { tree.remove() }
        let d = driver(tree)
        let v = await values(d)
        #expect(v["storage.mounted"] == .text("yes"))
        #expect(v["backup.last.name"] == .text("sql-0.bak"))
        #expect(v["backup.verified"] == .text("ok"))
        #expect(v["backup.verified.item"] == .text("sql-0.bak"))
        #expect(v["backup.missed"] == .number(0))
        #expect(v["backup.count"] == .number(5))
        #expect(v["storage.free"]?.number ?? 0 > 0)
        // (storage.* depends on this machine's disk.)
        let problems = levels(d, v).filter { $0.value != .ok && !$0.key.rawValue.hasPrefix("storage.") }
        #expect(problems.isEmpty, "\(problems)")
    }

    @Test func aStaleBackupIsWarnThenCrit() async {
        let tree = backups(fiveDays.map { ($0.name, $0.daysAgo + 1.5, $0.contents) })
        defer { tree.remove() }
        let d = driver(tree)
        let v = await values(d)
        #expect(levels(d, v)["backup.last.age"] == .warn)
        let older = backups(fiveDays.map { ($0.name, $0.daysAgo + 3, $0.contents) })
        defer { older.remove() }
        let o = driver(older)
        #expect(levels(o, await values(o))["backup.last.age"] == .crit)
    }

    @Test func aMissedRunShowsWithItsDate() async {
        var items = fiveDays
        items.remove(at: 2)
        let tree = backups(items)
        defer { tree.remove() }
        let d = driver(tree)
        let v = await values(d)
        #expect(v["backup.missed"] == .number(1))
        #expect(v["backup.missed.last"] != nil)
        #expect(levels(d, v)["backup.missed"] == .warn)
    }

    @Test func aShrunkZeroByteOrGrowingBackupIsNotTakenAsGood() async {
        let tree = backups([
            ("sql-2.bak", 2.1, String(repeating: "y", count: 10_000)),
            ("sql-1.bak", 1.1, ""),
            ("sql-0.bak", 0.1, String(repeating: "z", count: 4_000)),
        ])
        defer { tree.remove() }
        tree.file("sql/sql-now.bak", "still writing")
        let d = driver(tree)
        let v = await values(d)
        #expect(v["backup.last.name"] == .text("sql-0.bak"))
        #expect(v["backup.shrink"] == .number(60))
        #expect(v["backup.empty"] == .number(1))
        #expect(v["backup.empty.last"] == .text("sql-1.bak"))
        #expect(v["backup.growing"] == .number(1))
        let l = levels(d, v)
        #expect(l["backup.shrink"] == .warn)
        #expect(l["backup.empty"] == .warn)
    }

    @Test func aCorruptedBackupIsCritWithTheFileNamed() async {
        let tree = backups(fiveDays)
        defer { tree.remove() }
        // Flip bytes in the newest backup after its checksum was written, keep its mtime.
        let path = tree.path("sql/sql-0.bak")
        tree.file("sql/sql-0.bak", "backup 0 " + String(repeating: "X", count: 1000))
        setModified(path, now - Int64(0.1 * Double(day)))
        let d = driver(tree)
        let v = await values(d)
        guard case .text(let verdict) = v["backup.verified"] else {
            Issue.record("no verdict: \(v)")
            return
        }
        #expect(verdict.hasPrefix("failed: sql-0.bak: checksum mismatch"))
        #expect(levels(d, v)["backup.verified"] == .crit)
    }

    @Test func aDailySampleOfOlderBackupsFindsBitRot() async throws {
        let tree = backups(fiveDays)
        defer { tree.remove() }
        // An older backup rots on the NAS (same size and time, other bytes).
        let path = tree.path("sql/sql-3.bak")
        tree.file("sql/sql-3.bak", "backup 3 " + String(repeating: "#", count: 1003))
        setModified(path, now - Int64(3.1 * Double(day)))
        let d = driver(tree) { $0.verifySample = 4 }
        #expect(await values(d)["backup.verified"] == .text("ok"))
        var sample: ReadingValue?
        for _ in 0..<100 {
            sample = await values(d)["backup.sample.verified"]
            if sample != nil { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(sample == .text("failed: sql-3.bak: checksum mismatch (SHA256SUMS line 4)"))
    }

    @Test func aListedFileThatIsGoneIsCrit() async {
        let tree = FixtureTree(prefix: "closet-backup")
        defer { tree.remove() }
        // Folder backups: each day's folder has its own SHA256SUMS.
        let hex = hex(SHA256Hasher.digest(Array("db".utf8)))
        tree.file("sql/daily/2026-11-28/db.dump", "db")
        tree.file("sql/daily/2026-11-28/SHA256SUMS", "\(hex)  db.dump\n\(hex)  logs.tar\n")
        setModified(tree.path("sql/daily/2026-11-28/db.dump"), now - 3600)
        setModified(tree.path("sql/daily/2026-11-28/SHA256SUMS"), now - 3600)
        setModified(tree.path("sql/daily/2026-11-28"), now - 3600)
        let d = driver(tree) { $0.pattern = "daily/*/" }
        let v = await values(d)
        #expect(v["backup.last.name"] == .text("daily/2026-11-28/"))
        guard case .text(let verdict) = v["backup.verified"] else {
            Issue.record("no verdict: \(v)")
            return
        }
        #expect(verdict.hasPrefix("failed: logs.tar: missing"))
    }

    @Test func aBackupWithoutChecksumsIsAWarning() async {
        let tree = backups(fiveDays, manifest: false)
        defer { tree.remove() }
        let d = driver(tree)
        let v = await values(d)
        #expect(v["backup.verified"] == .text("no manifest"))
        #expect(levels(d, v)["backup.verified"] == .warn)
    }

    @Test func anUnmountedShareIsCritAndNotScanned() async {
        let tree = backups(fiveDays)
        defer { tree.remove() }
        // The mount point is a plain folder on the same disk as its parent.
        let d = driver(tree) { $0.mountPoint = tree.root }
        let v = await values(d)
        guard case .text(let mounted) = v["storage.mounted"] else {
            Issue.record("no mount state: \(v)")
            return
        }
        #expect(mounted.hasPrefix("no: \(tree.root) is a plain folder"))
        #expect(v["backup.last.name"] == nil)
        #expect(levels(d, v)["storage.mounted"] == .crit)
    }

    @Test func aRealMountPointIsAccepted() async throws {
        // /dev/shm is a tmpfs mount on every Linux system.
        try #require(isMountPoint("/dev/shm"), "/dev/shm is not a mount point here")
        let tree = FixtureTree(prefix: "closet-backup")
        tree.remove()
        let base = "/dev/shm/closet-backup-\(getpid())-\(now)"
        mkdir(base, 0o755)
        mkdir(base + "/sql", 0o755)
        defer { _ = system("rm -rf '\(base)'") }
        let fd = open(base + "/sql/sql-1.bak", O_CREAT | O_WRONLY, 0o644)
        _ = write(fd, "data", 4)
        close(fd)
        setModified(base + "/sql/sql-1.bak", now - 3600)
        let d = BackupDriver(configuration: {
            var c = BackupDriver.Configuration(path: base + "/sql", pattern: "sql-*.bak")
            c.mountPoint = "/dev/shm"
            return c
        }())
        let v = await values(d)
        #expect(v["storage.mounted"] == .text("yes"))
        #expect(v["storage.fstype"] == .text("tmpfs"))
        #expect(v["backup.last.name"] == .text("sql-1.bak"))
    }

    func isMountPoint(_ path: String) -> Bool {
        var a = stat()
        var b = stat()
        return stat(path, &a) == 0 && stat(path + "/..", &b) == 0 && a.st_dev != b.st_dev
    }

    @Test func aHungShareTimesOutAndIsNotPiledOn() async throws {
        let tree = backups(fiveDays, manifest: false)
        defer { tree.remove() }
        // A FIFO stands in for a file on a dead NFS server: opening it blocks until a writer comes.
        let fifo = tree.path("sql/SHA256SUMS")
        #expect(mkfifo(fifo, 0o644) == 0)
        let d = driver(tree) { $0.filesystemTimeout = .milliseconds(300) }
        let started = ContinuousClock.now
        let v = await values(d, verify: false)
        guard case .text(let mounted) = v["storage.mounted"] else {
            Issue.record("no mount state: \(v)")
            return
        }
        #expect(mounted.hasPrefix("hung: no answer from \(tree.path("sql")) within 300ms"))
        #expect(levels(d, v)["storage.mounted"] == .crit)
        // The next poll does not start a second stuck call.
        let again = await values(d, verify: false)
        guard case .text(let still) = again["storage.mounted"] else { return }
        #expect(still.hasPrefix("hung: \(tree.path("sql")) has not answered for"))
        #expect(started.duration(to: .now) < .seconds(30))
        // Release the stuck thread: a writer opens the FIFO and closes it.
        let w = open(fifo, O_WRONLY | O_NONBLOCK)
        if w >= 0 { close(w) }
        #expect(await waitUntil { !d.filesystemBusy })
        unlink(fifo)
        let after = await values(d, verify: false)
        #expect(after["storage.mounted"] == .text("yes"))
    }

    @Test func verificationHoldsItsRateLimit() throws {
        let tree = FixtureTree(prefix: "closet-verify")
        defer { tree.remove() }
        let payload = [UInt8](repeating: 0x5A, count: 4 << 20)
        let path = tree.path("big.bin")
        let fd = open(path, O_CREAT | O_WRONLY, 0o644)
        _ = payload.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        tree.file("big.bin.sha256", hex(SHA256Hasher.digest(payload)) + "  big.bin\n")
        // 4 MiB at 16 MiB/s cannot take less than a quarter second (a lower bound only: a slow
        // machine is not a failure).
        let started = ContinuousClock.now
        var reports = 0
        let outcome = ChecksumVerifier(rateLimit: 16 << 20, bufferSize: 256 << 10).verify(
            manifestPath: tree.path("big.bin.sha256"), base: tree.root, progress: { _ in reports += 1 })
        #expect(outcome == .ok(files: 1, bytes: Int64(payload.count)))
        #expect(started.duration(to: .now) >= .milliseconds(240))
        #expect(reports >= 10)
    }
}
