#if canImport(Glibc)
import Glibc
#endif
import ClosetConfig
import ClosetModel
import ClosetSNMP
import Dispatch
import Logging
import Synchronization

/// One backup set on the OpenFiler share: fresh, complete, intact, room to grow, NAS
/// reachable. Cheap checks run every poll (in a worker that gives up on a hung mount);
/// checksum verification of each new backup runs in the background at a capped byte rate.
public final class BackupDriver: DeviceDriver {
    public struct Configuration: DriverConfiguration, Hashable {
        public var path: String
        public var pattern: String
        public var mountPoint: String?
        public var expectations: BackupExpectations
        public var maxAge: Duration
        public var critAge: Duration
        public var minSize: Int64?
        public var maxShrinkPercent: Double
        public var verify: Bool
        public var verifyRate: Int64?
        /// Older backups re-verified once a day.
        public var verifySample: Int
        public var filesystemTimeout: Duration
        public var nas: NAS?

        public struct NAS: Sendable, Hashable {
            public var host: String
            public var tcpPorts: [Int]
            public var snmp: SNMPTarget?
            /// hrStorageDescr globs of the volumes to report; empty: every disk volume.
            public var volumes: [String]
        }

        public init(path: String, pattern: String, expectations: BackupExpectations = BackupExpectations()) {
            self.path = path
            self.pattern = pattern
            self.expectations = expectations
            self.maxAge = .seconds(26 * 3600)
            self.critAge = .seconds(52 * 3600)
            self.maxShrinkPercent = 50
            self.verify = true
            self.verifySample = 0
            self.filesystemTimeout = .seconds(10)
        }

        public var summary: [(key: String, value: String)] {
            var out: [(String, String)] = [("path", path), ("pattern", pattern)]
            if let m = mountPoint { out.append(("mount", m)) }
            out.append(("schedule", expectations.schedule?.description ?? "none (age only)"))
            out.append(("max_age", "\(maxAge.compactDescription) warn, \(critAge.compactDescription) crit"))
            out.append(("verify", verify ? (verifyRate.map { "yes, at most \($0) B/s" } ?? "yes, unthrottled") : "no"))
            if let nas { out.append(("nas", "\(nas.host) tcp \(nas.tcpPorts.map(String.init).joined(separator: ","))\(nas.snmp != nil ? " + hrStorage" : "")")) }
            return out
        }

        public var defaultRules: [BoundRule] {
            var rules = [
                BoundRule(VariablePattern("backup.last.name"), .values([.init("none", .crit)], otherwise: .ok)),
                BoundRule(VariablePattern("backup.last.age"), .limits(.init(warnHigh: maxAge.seconds, critHigh: critAge.seconds))),
                BoundRule(VariablePattern("backup.shrink"), .limits(.init(warnHigh: maxShrinkPercent))),
                BoundRule(VariablePattern("backup.missed"), .limits(.init(warnHigh: 1))),
                BoundRule(VariablePattern("backup.empty"), .limits(.init(warnHigh: 1))),
                BoundRule(
                    VariablePattern("backup.*verified"),
                    .values([.init("ok", .ok), .init("running", .ok), .init("pending", .ok), .init("no manifest", .warn)], otherwise: .crit)),
                BoundRule(VariablePattern("storage.mounted"), .values([.init("yes", .ok)], otherwise: .crit)),
                BoundRule(VariablePattern("storage.free.percent"), .limits(.init(warnLow: 10, critLow: 5, hysteresis: 1))),
                BoundRule(VariablePattern("storage.inodes.free.percent"), .limits(.init(warnLow: 5, critLow: 2, hysteresis: 0.5))),
                BoundRule(VariablePattern("storage.days_to_full"), .limits(.init(warnLow: 14, critLow: 3, hysteresis: 1))),
                BoundRule(VariablePattern("nas.port.*"), .values([.init("open", .ok)], otherwise: .crit)),
                BoundRule(VariablePattern("nas.snmp"), .values([.init("ok", .ok)], otherwise: .warn)),
                BoundRule(VariablePattern("nas.volume.*.used.percent"), .limits(.init(warnHigh: 90, critHigh: 95, hysteresis: 1))),
            ]
            if let minSize { rules.append(BoundRule(VariablePattern("backup.last.size"), .limits(.init(warnLow: Double(minSize))))) }
            return rules
        }

        public func makeDriver(_ runtime: DriverRuntime) throws -> any DeviceDriver {
            let client = nas?.snmp.map { target in
                runtime.shared("snmp:\(target.host):\(target.port):\(target.security)") { SNMPClient(target: target) }
            }
            return BackupDriver(configuration: self, snmp: client)
        }
    }

    public let configuration: Configuration
    private let share: BackupShare
    private let snmp: SNMPClient?
    private let filesystem: BlockingWorker
    private let network: BlockingWorker
    private let verifyQueue: DispatchQueue
    private let state = Mutex(VerificationState())
    private let logger: Logger

    struct VerificationState {
        /// The item being verified, and how far.
        var running: (key: String, progress: ChecksumVerifier.Progress?)?
        var finished: (key: String, outcome: ChecksumVerifier.Outcome)?
        var sample: (day: Int64, outcome: ChecksumVerifier.Outcome)?
        var sampleRunning = false
    }

    public init(configuration: Configuration, snmp: SNMPClient? = nil, label: String = "backup") {
        self.configuration = configuration
        self.share = BackupShare(path: configuration.path, pattern: configuration.pattern, mountPoint: configuration.mountPoint)
        self.snmp = snmp
        self.filesystem = BlockingWorker(label: "closet.backup.fs.\(configuration.path)")
        self.network = BlockingWorker(label: "closet.backup.tcp.\(configuration.path)")
        self.verifyQueue = DispatchQueue(label: "closet.backup.verify.\(configuration.path)")
        var logger = Logger(label: "closet.backup")
        logger[metadataKey: "path"] = .string(configuration.path)
        self.logger = logger
    }

    /// Whether a filesystem call on the share is still stuck.
    public var filesystemBusy: Bool { filesystem.isBusy }

    public func poll(at time: Timestamp) async throws -> [Reading] {
        await check(at: time, verification: configuration.verify ? .background : .skip)
    }

    /// What a check does about checksums.
    public enum VerificationMode: Sendable {
        /// Report the last result; start nothing.
        case skip
        /// Start verifying a new backup in the background; report progress meanwhile.
        case background
        /// Verify the newest backup now and wait (`closet-agent backup check --verify`).
        case wait
    }

    /// Runs every check now.
    public func check(at time: Timestamp, verification mode: VerificationMode) async -> [Reading] {
        let now = time.nanosecondsSinceEpoch.floorDivided(by: 1_000_000_000)
        let offset = localOffset(at: now)
        async let nasReadings = nasChecks(at: time)
        var out: [Reading] = []
        func add(_ name: VariableName, _ value: ReadingValue, _ unit: Unit? = nil) {
            out.append(Reading(name, value, unit: unit, time: time))
        }
        let share = self.share
        let expectations = configuration.expectations
        let inspected = await filesystem.run("\(configuration.mountPoint ?? configuration.path)", timeout: configuration.filesystemTimeout) {
            share.inspect(now: now, expectations: expectations)
        }
        switch inspected {
        case .failure(let failure):
            add("storage.mounted", .text("hung: \(failure)"))
        case .success(let report):
            add("storage.mounted", .text(report.mounted))
            if let fs = report.fileSystem { add("storage.fstype", .text(fs)) }
            if report.mounted == "yes" {
                let findings = BackupFindings.analyse(report.items, now: now, expectations: expectations, utcOffset: offset)
                out += findings.readings(at: time, now: now, utcOffset: offset)
                if let space = report.space {
                    add("storage.free", .number(Double(space.freeBytes)), .byte)
                    if space.totalBytes > 0 {
                        add("storage.free.percent", .number(rounded(Double(space.freeBytes) / Double(space.totalBytes) * 100)), .percent)
                    }
                    if let inodes = space.freeInodesPercent { add("storage.inodes.free.percent", .number(rounded(inodes)), .percent) }
                    if let rate = findings.bytesPerDay, rate > 0 {
                        add("storage.days_to_full", .number(rounded(Double(space.freeBytes) / rate)))
                    }
                }
                out += await verification(report: report, findings: findings, now: now, mode: mode, time: time)
            }
        }
        return out + (await nasReadings)
    }

    // MARK: Verification

    private func verification(
        report: BackupShare.Report, findings: BackupFindings, now: Int64, mode: VerificationMode, time: Timestamp
    ) async -> [Reading] {
        guard let newest = findings.newest else { return [] }
        if mode == .skip, state.withLock({ $0.finished == nil && $0.running == nil }) { return [] }
        var out: [Reading] = []
        if report.manifestState.hasPrefix("error: ") {
            out.append(Reading("backup.verified", .text("failed: " + report.manifestState.dropFirst(7)), time: time))
            return out
        }
        guard let ref = report.manifest else {
            out.append(Reading("backup.verified", .text(ChecksumVerifier.Outcome.noManifest.description), time: time))
            return out
        }
        let key = "\(newest.name)|\(newest.size)|\(newest.modified)"
        let current = state.withLock { s -> (ChecksumVerifier.Outcome?, ChecksumVerifier.Progress?, Bool) in
            if let f = s.finished, f.key == key { return (f.outcome, nil, false) }
            if let r = s.running { return (nil, r.progress, r.key == key) }
            return (nil, nil, false)
        }
        var outcome = current.0
        if outcome == nil {
            if mode == .wait {
                outcome = await verifyNow(ref: ref, key: key, item: newest.name)
            } else if mode == .background, current.1 == nil && !current.2 {
                startVerification(ref: ref, key: key, item: newest.name)
            }
        }
        if let outcome {
            out.append(Reading("backup.verified", .text(outcome.description), time: time))
            out.append(Reading("backup.verified.item", .text(newest.name), time: time))
            if case .ok = outcome {
                maybeSample(findings: findings, newest: newest, now: now)
            }
        } else if let running = state.withLock({ $0.running }) {
            out.append(Reading("backup.verified", .text("running"), time: time))
            out.append(Reading("backup.verify.progress", .number(rounded(running.progress?.percent ?? 0)), unit: .percent, time: time))
        } else {
            out.append(Reading("backup.verified", .text("pending"), time: time))
        }
        if let sample = state.withLock({ $0.sample }) {
            out.append(Reading("backup.sample.verified", .text(sample.outcome.description), time: time))
        }
        return out
    }

    private var verifier: ChecksumVerifier { ChecksumVerifier(rateLimit: configuration.verifyRate) }

    private func startVerification(ref: BackupShare.ManifestRef, key: String, item: String) {
        state.withLock { $0.running = (key, nil) }
        verifyQueue.async { [self] in
            _ = runVerification(ref: ref, key: key, item: item)
        }
    }

    private func verifyNow(ref: BackupShare.ManifestRef, key: String, item: String) async -> ChecksumVerifier.Outcome {
        state.withLock { $0.running = (key, nil) }
        return await withCheckedContinuation { c in
            verifyQueue.async { [self] in
                c.resume(returning: runVerification(ref: ref, key: key, item: item))
            }
        }
    }

    /// Blocking, on the verification queue.
    private func runVerification(ref: BackupShare.ManifestRef, key: String, item: String) -> ChecksumVerifier.Outcome {
        logger.info("verifying backup \(item) against \(ref.path)")
        var lastLogged = -10.0
        let started = ContinuousClock.now
        let outcome = verifier.verify(manifestPath: ref.path, base: ref.base, only: ref.only) { progress in
            state.withLock { $0.running?.progress = progress }
            if progress.percent - lastLogged >= 10 {
                lastLogged = progress.percent
                let elapsed = started.duration(to: .now).seconds
                let rate = elapsed > 0 ? Double(progress.done) / elapsed / 1e6 : 0
                logger.info("verifying \(item): \(Int(progress.percent))% (\(progress.done / 1_000_000) of \(progress.total / 1_000_000) MB, \(rounded(rate)) MB/s)")
            }
        }
        state.withLock { s in
            s.running = nil
            s.finished = (key, outcome)
        }
        if case .ok(let files, let bytes) = outcome {
            logger.info("backup \(item) verified: \(files) file(s), \(bytes) bytes match their checksums")
        } else {
            logger.error("backup \(item) verification: \(outcome)")
        }
        return outcome
    }

    /// Once a day, re-verifies `verify_sample` random older backups: bit rot on the NAS shows
    /// up before the day a restore needs them.
    private func maybeSample(findings: BackupFindings, newest: BackupItem, now: Int64) {
        guard configuration.verifySample > 0 else { return }
        let day = now / 86_400
        let go = state.withLock { s -> Bool in
            guard !s.sampleRunning, s.running == nil, s.sample?.day != day else { return false }
            s.sampleRunning = true
            return true
        }
        guard go else { return }
        let share = self.share
        let count = configuration.verifySample
        let expectations = configuration.expectations
        verifyQueue.async { [self] in
            let report = share.inspect(now: now, expectations: expectations)
            let older = report.items.filter { $0.size > 0 && $0.name != newest.name }.shuffled().prefix(count)
            var outcome = ChecksumVerifier.Outcome.noManifest
            for item in older {
                guard case .success(let ref?) = share.findManifest(for: item) else { continue }
                outcome = verifier.verify(manifestPath: ref.path, base: ref.base, only: ref.only)
                if case .failed = outcome { break }
            }
            logger.info("sample verification of \(older.map(\.name).joined(separator: ", ")): \(outcome)")
            state.withLock { s in
                s.sample = (day, outcome)
                s.sampleRunning = false
            }
        }
    }

    // MARK: NAS

    private func nasChecks(at time: Timestamp) async -> [Reading] {
        guard let nas = configuration.nas else { return [] }
        var out: [Reading] = []
        if !nas.tcpPorts.isEmpty {
            let probe = await network.run("NAS \(nas.host)", timeout: .seconds(5)) {
                TCPProbe.check(host: nas.host, ports: nas.tcpPorts, timeout: .seconds(2))
            }
            for port in nas.tcpPorts {
                let word: String
                switch probe {
                case .success(let outcomes):
                    switch outcomes[port] ?? .noAnswer {
                    case .open: word = "open"
                    case .refused: word = "refused"
                    case .noAnswer: word = "no answer"
                    }
                case .failure: word = "no answer"
                }
                out.append(Reading(VariableName("nas.port.\(port)"), .text(word), time: time))
            }
        }
        if let snmp {
            do {
                let volumes = try await HostResources.fetchVolumes(snmp)
                for v in volumes where nas.volumes.isEmpty || nas.volumes.contains(where: { globMatch($0, v.name) }) {
                    out.append(Reading(VariableName("nas.volume.\(v.key).used.percent"), .number(rounded(v.usedPercent)), unit: .percent, time: time))
                    out.append(Reading(VariableName("nas.volume.\(v.key).free"), .number(Double(v.freeBytes)), unit: .byte, time: time))
                }
                out.append(Reading("nas.snmp", .text("ok"), time: time))
            } catch {
                out.append(Reading("nas.snmp", .text("error: \(error)"), time: time))
            }
        }
        return out
    }

    // MARK: Config

    /// `[[backup]]` with `driver = "share"`.
    public static let factory = DriverFactory(name: "share", kinds: [.backup]) { r, context in
        guard let rawPath = r.requiredString("path"), let pattern = r.requiredString("pattern") else {
            r.allowEverything()
            return nil
        }
        let path = rawPath.hasPrefix("/") ? rawPath : context.directory + "/" + rawPath
        if pattern.hasPrefix("/") || pattern.split(separator: "/").dropLast().contains(where: { $0.contains("*") || $0 == ".." }) {
            r.report("pattern", "\"\(pattern)\" must be relative to path, with wildcards only in its last part (\"sql-*.bak\", \"daily/*/\")")
        }
        var config = Configuration(path: path, pattern: pattern)
        if let m = r.string("mount") {
            if !m.hasPrefix("/") { r.report("mount", "must be an absolute path such as /mnt/nas, got \"\(m)\"") }
            if !path.hasPrefix(m) { r.report("mount", "path \(path) is not under the mount point \(m)") }
            config.mountPoint = m
        }
        if let text = r.string("schedule") {
            switch BackupSchedule.parse(text) {
            case .success(let s): config.expectations.schedule = s
            case .failure(let e): r.report("schedule", e.description)
            }
        }
        let period = Duration.seconds(config.expectations.schedule?.length ?? 86_400)
        config.expectations.window = r.duration("window", in: .seconds(3600)...(.seconds(366 * 86_400))) ?? max(period * 7, .seconds(86_400))
        config.expectations.settle = r.duration("settle", in: .seconds(0)...(.seconds(86_400))) ?? .seconds(600)
        config.maxAge = r.duration("max_age", in: .seconds(60)...(.seconds(366 * 86_400))) ?? period + .seconds(2 * 3600)
        config.critAge = r.duration("crit_age", in: .seconds(60)...(.seconds(732 * 86_400))) ?? config.maxAge * 2
        if config.critAge < config.maxAge { r.report("crit_age", "must not be shorter than max_age (\(config.maxAge.compactDescription))") }
        config.minSize = r.bytes("min_size", in: 0...Int64.max)
        config.maxShrinkPercent = r.number("max_shrink", in: 0...100) ?? 50
        config.verify = r.bool("verify") ?? true
        config.verifyRate = r.bytes("verify_rate", in: 4096...Int64.max)
        config.verifySample = r.integer("verify_sample", in: 0...100).map(Int.init) ?? 0
        config.filesystemTimeout = r.duration("fs_timeout", in: .milliseconds(100)...(.seconds(600))) ?? .seconds(10)
        if let n = r.table("nas") {
            defer { n.finish() }
            let ports = n.ports("tcp_ports") ?? [446]
            let volumes = n.strings("volumes") ?? []
            var target: SNMPTarget?
            if n.table["community"] != nil || n.table["user"] != nil {
                target = SNMPTargetReader.read(n)
            } else if let host = n.requiredString("host") {
                n.allow("port", "timeout", "retries", "version", "context")
                config.nas = .init(host: host, tcpPorts: ports, snmp: nil, volumes: volumes)
                return config
            }
            if let target { config.nas = .init(host: target.host, tcpPorts: ports, snmp: target, volumes: volumes) }
        }
        return config
    }
}

func rounded(_ v: Double) -> Double { (v * 10).rounded() / 10 }

/// Seconds east of UTC in the board's zone at `t` (TZ, /etc/localtime).
func localOffset(at t: Int64) -> Int64 {
    var time = time_t(t)
    var parts = tm()
    guard localtime_r(&time, &parts) != nil else { return 0 }
    return Int64(parts.tm_gmtoff)
}
