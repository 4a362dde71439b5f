#if canImport(Glibc)
import Glibc
#endif
import ClosetConfig
import ClosetModel

/// The agent watching itself, so the store sees a sick board: uptime, restarts, memory, CPU,
/// threads, the outbox's size, free space where the agent writes, and whether the clock is
/// synchronised. (The board's temperature is the `hwmon` sensor's.)
public struct SelfDriver: DeviceDriver {
    public struct Configuration: DriverConfiguration, Hashable {
        /// `/proc` (a fixture folder in tests).
        public var procRoot: String
        /// The filesystem whose free space matters when there is no outbox.
        public var diskPath: String
        public var started: Timestamp
        /// `/run` (a fixture folder in tests).
        public var runRoot = "/run"

        public var summary: [(key: String, value: String)] { [("disk", diskPath)] }
        public func makeDriver(_ runtime: DriverRuntime) throws -> any DeviceDriver {
            SelfDriver(configuration: self, vitals: runtime.vitals)
        }
    }

    /// Registered under the `agent` kind; the loader adds the device itself.
    public static func factory(started: Timestamp) -> DriverFactory {
        DriverFactory(name: "self", kinds: [.agent]) { _, context in
            Configuration(procRoot: "/proc", diskPath: "/", started: started)
        }
    }

    public let configuration: Configuration
    private let vitals: AgentVitals
    private let proc: SysfsTransport

    public init(configuration: Configuration, vitals: AgentVitals = AgentVitals()) {
        self.configuration = configuration
        self.vitals = vitals
        self.proc = SysfsTransport(root: configuration.procRoot)
    }

    public func poll(at time: Timestamp) async throws -> [Reading] {
        var readings = [Reading("agent.uptime", .number(configuration.started.duration(to: time).seconds.rounded()), unit: .second, time: time)]
        if let status = proc.text("self/status") {
            let fields = SelfParsing.status(status)
            if let rss = fields["VmRSS"] { readings.append(Reading("agent.rss", .number(Double(rss)), unit: .byte, time: time)) }
            if let threads = fields["Threads"] { readings.append(Reading("agent.threads", .number(Double(threads)), unit: .count, time: time)) }
        }
        if let stat = proc.text("self/stat"), let ticks = SelfParsing.cpuTicks(stat) {
            readings.append(Reading("agent.cpu", .number(Double(ticks) / Double(sysconf(Int32(_SC_CLK_TCK)))), unit: .second, time: time))
        }
        let outbox = vitals.outbox
        if let outbox {
            readings.append(Reading("agent.restarts", .number(Double(max(outbox.starts, 1) - 1)), unit: .count, time: time))
            if let size = await outbox.size() {
                readings.append(Reading("outbox.records", .number(Double(size.records)), unit: .count, time: time))
                readings.append(Reading("outbox.bytes", .number(Double(size.bytes)), unit: .byte, time: time))
            }
        }
        var fs = statvfs()
        if statvfs(outbox.map { Self.folder(of: $0.path) } ?? configuration.diskPath, &fs) == 0 {
            let free = Double(fs.f_bavail) * Double(fs.f_frsize)
            let total = Double(fs.f_blocks) * Double(fs.f_frsize)
            readings.append(Reading("disk.free", .number(free), unit: .byte, time: time))
            if total > 0 { readings.append(Reading("disk.free.percent", .number((free / total * 1000).rounded() / 10), unit: .percent, time: time)) }
        }
        // systemd-timesyncd marks a synchronised clock with this file; without timesyncd
        // (chrony, ntpd) the state is not known from here.
        let synced: String =
            access(configuration.runRoot + "/systemd/timesync/synchronized", F_OK) == 0 ? "yes"
            : access(configuration.runRoot + "/systemd/timesync", F_OK) == 0 ? "no" : "unknown"
        readings.append(Reading("clock.synced", .text(synced), time: time))
        return readings
    }
}

extension SelfDriver {
    /// The folder holding `path` (a file that may not exist yet).
    static func folder(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}

/// Pure parsers for /proc/self files.
enum SelfParsing {
    /// `/proc/self/status` lines `Name:\tvalue kB` to numbers (kB turned into bytes).
    static func status(_ text: String) -> [String: Int64] {
        var out: [String: Int64] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let words = parts[1].split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard let first = words.first, let v = Int64(first) else { continue }
            out[String(parts[0])] = words.count > 1 && words[1] == "kB" ? v * 1024 : v
        }
        return out
    }

    /// utime + stime (fields 14 and 15) of `/proc/self/stat`; the name in parentheses may hold spaces.
    static func cpuTicks(_ text: String) -> Int64? {
        guard let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // After ")" come field 3 (state) onwards: utime is field 14, stime 15.
        guard fields.count > 13, let u = Int64(fields[11]), let s = Int64(fields[12]) else { return nil }
        return u + s
    }
}
