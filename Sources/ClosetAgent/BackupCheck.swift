import ClosetBackup
import ClosetConfig
import ClosetModel

#if canImport(Glibc)
import Glibc
#endif

/// `closet-agent backup check [SET] [--verify]`: the backup sets' checks run now, outside the
/// running agent, with the verdict and its reasons on standard output.
public enum BackupCheck {
    /// Returns the exit code: 0 OK, 1 WARN, 2 CRIT, 3 UNKNOWN (the monitoring-plugin convention).
    public static func run(_ configuration: AgentConfiguration, set: String?, verify: Bool, clock: WallClock = WallClock()) async -> Int32 {
        let sets = configuration.devices.filter { $0.kind == .backup && (set == nil || $0.name == set) }
        guard !sets.isEmpty else {
            let names = configuration.devices.filter { $0.kind == .backup }.map(\.name)
            writeStandardError(
                set.map { "backup: no backup set '\($0)' (configured: \(names.isEmpty ? "none" : names.joined(separator: ", ")))\n" }
                    ?? "backup: the configuration has no [[backup]] sets\n")
            return 3
        }
        var state = SiteState(site: configuration.site)
        let runtime = DriverRuntime()
        for device in sets {
            state.register(device.name, policy: device.policy)
            let now = clock.now
            do {
                let driver = try device.driver.makeDriver(runtime)
                let readings: [Reading]
                if let backup = driver as? BackupDriver {
                    readings = await backup.check(at: now, verification: verify ? .wait : .skip)
                } else {
                    readings = try await driver.poll(at: now)
                }
                _ = state.apply(.readings(readings), device: device.name, at: now)
            } catch {
                _ = state.apply(.failed(reason: "\(error)"), device: device.name, at: now)
            }
        }
        print(SnapshotRendering.table(state, events: [], now: clock.now), terminator: "")
        for device in state.devices {
            let problems = device.problems
            print("\n\(device.name): \(device.health.rawValue.uppercased())" + (problems.isEmpty ? "" : ":"))
            for (name, problem) in problems { print("  \(problem.level.rawValue.uppercased()) \(name): \(problem.reason)") }
        }
        switch state.health {
        case .ok: return 0
        case .warn: return 1
        case .crit: return 2
        case .unknown: return 3
        }
    }
}

/// Writes to fd 2 directly: the C `stderr` global is shared mutable state to Swift 6.
public func writeStandardError(_ string: String) {
    var bytes = Array(string.utf8)
    var offset = 0
    while offset < bytes.count {
        let n = bytes.withUnsafeMutableBytes { Glibc.write(2, $0.baseAddress! + offset, $0.count - offset) }
        if n <= 0 { return }
        offset += n
    }
}
