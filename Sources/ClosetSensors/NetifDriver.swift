import ClosetConfig
import ClosetModel

/// The board's own network links from `/sys/class/net/*`: per interface `port.<ifindex>.name`,
/// `.oper` (IF-MIB words), `.admin`, `.carrier` and `.speed` (Mbit/s), the same per-port
/// variables the SNMP switch driver produces.
public struct NetifDriver: DeviceDriver {
    public struct Configuration: DriverConfiguration, Hashable {
        public var sysfsRoot: String
        /// Interface names or glob patterns; empty means every physical interface (one with a
        /// `device` link: not `lo`, bridges, veths or tunnels).
        public var interfaces: [String]

        public init(sysfsRoot: String = "/sys", interfaces: [String] = []) {
            self.sysfsRoot = sysfsRoot
            self.interfaces = interfaces
        }

        public var summary: [(key: String, value: String)] {
            [("sysfs_root", sysfsRoot), ("interfaces", interfaces.isEmpty ? "physical" : interfaces.joined(separator: ", "))]
        }

        public func makeDriver(_ runtime: DriverRuntime) throws -> any DeviceDriver { NetifDriver(configuration: self) }
    }

    public static let factory = DriverFactory(name: "netif", kinds: [.link]) { r, context in
        Configuration(sysfsRoot: context.sysfsRoot, interfaces: r.strings("interfaces") ?? [])
    }

    public let configuration: Configuration
    private let sysfs: SysfsTransport

    public init(configuration: Configuration) {
        self.configuration = configuration
        self.sysfs = SysfsTransport(root: configuration.sysfsRoot)
    }

    public func poll(at time: Timestamp) async throws -> [Reading] {
        guard let names = sysfs.list("class/net") else {
            throw SensorError("cannot list \(sysfs.path("class/net"))")
        }
        var readings: [Reading] = []
        var matched = 0
        for name in names {
            let base = "class/net/\(name)"
            if configuration.interfaces.isEmpty {
                guard sysfs.exists("\(base)/device") else { continue }
            } else if !included(name, configuration.interfaces) {
                continue
            }
            guard let indexText = sysfs.text("\(base)/ifindex"), let index = Int(indexText.trimmingSpaces), index > 0
            else { continue }
            matched += 1
            readings.append(Reading(.port(index, .name), .text(name), time: time))
            if let oper = sysfs.text("\(base)/operstate").flatMap(SysfsParsing.operState) {
                readings.append(Reading(.port(index, .oper), .text(oper), time: time))
            }
            if let up = sysfs.text("\(base)/flags").flatMap(SysfsParsing.adminUp) {
                readings.append(Reading(.port(index, .admin), .text(up ? "up" : "down"), time: time))
            }
            // `carrier` and `speed` fail with EINVAL while the interface is down.
            switch sysfs.read("\(base)/carrier") {
            case .text(let t): if let c = SysfsParsing.unsigned(t) { readings.append(Reading(.port(index, .carrier), .number(Double(c)), time: time)) }
            case .failed: readings.append(Reading(.port(index, .carrier), .number(0), time: time))
            }
            // Virtual NICs report -1 (unknown); leave the speed out rather than invent one.
            if let speed = sysfs.text("\(base)/speed").flatMap(SysfsParsing.unsigned), speed > 0 {
                readings.append(Reading(.port(index, .speed), .number(Double(speed)), unit: .megabitPerSecond, time: time))
            }
        }
        guard matched > 0 else {
            let wanted = configuration.interfaces.isEmpty ? "physical interface" : "interface matching \(configuration.interfaces.joined(separator: ", "))"
            throw SensorError("no \(wanted) in \(sysfs.path("class/net")) (present: \(names.joined(separator: ", ")))")
        }
        return readings
    }
}
