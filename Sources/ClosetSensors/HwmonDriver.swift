import ClosetConfig
import ClosetModel

/// The board's own temperatures and fans from Linux hwmon (`/sys/class/hwmon/hwmon*/`) and
/// thermal zones (`/sys/class/thermal/thermal_zone*/`).
///
/// Produces `board.temperature` (the hottest included sensor, the one thresholds usually
/// watch), `board.temperature.<chip>_<label>` per sensor, `board.temperature.zone_<type>` per
/// thermal zone and `board.fan.<chip>_<label>` in RPM.
public struct HwmonDriver: DeviceDriver {
    public struct Configuration: DriverConfiguration, Hashable {
        public var sysfsRoot: String
        /// hwmon chip names (`name` file) to include, glob patterns; empty means all.
        public var chips: [String]
        /// thermal_zone `type`s to include, glob patterns; empty means all.
        public var thermalZones: [String]
        public var fans: Bool

        public init(sysfsRoot: String = "/sys", chips: [String] = [], thermalZones: [String] = [], fans: Bool = true) {
            self.sysfsRoot = sysfsRoot
            self.chips = chips
            self.thermalZones = thermalZones
            self.fans = fans
        }

        public var summary: [(key: String, value: String)] {
            [
                ("sysfs_root", sysfsRoot), ("chips", chips.isEmpty ? "all" : chips.joined(separator: ", ")),
                ("thermal_zones", thermalZones.isEmpty ? "all" : thermalZones.joined(separator: ", ")),
                ("fans", String(fans)),
            ]
        }

        public func makeDriver(_ runtime: DriverRuntime) throws -> any DeviceDriver { HwmonDriver(configuration: self) }
    }

    public static let factory = DriverFactory(name: "hwmon", kinds: [.sensor]) { r, context in
        var c = Configuration(sysfsRoot: context.sysfsRoot)
        c.chips = r.strings("chips") ?? context.board?.hwmonChips ?? []
        c.thermalZones = r.strings("thermal_zones") ?? context.board?.thermalZones ?? []
        c.fans = r.bool("fans") ?? true
        return c
    }

    public let configuration: Configuration
    private let sysfs: SysfsTransport

    public init(configuration: Configuration) {
        self.configuration = configuration
        self.sysfs = SysfsTransport(root: configuration.sysfsRoot)
    }

    public func poll(at time: Timestamp) async throws -> [Reading] {
        var readings: [Reading] = []
        var failures: [String] = []
        var hottest: Double?

        func temperature(_ id: String, _ file: String) {
            switch sysfs.read(file) {
            case .text(let text):
                guard let celsius = SysfsParsing.millidegrees(text) else {
                    failures.append("\(sysfs.path(file)): not a temperature: \"\(text.prefix(20))\"")
                    return
                }
                readings.append(Reading(VariableName("board.temperature.\(id)"), .number(celsius), unit: .celsius, time: time))
                hottest = max(hottest ?? celsius, celsius)
            case .failed(let code):
                failures.append("\(sysfs.path(file)): \(errnoDescription(code))")
            }
        }

        let hwmons = sysfs.list("class/hwmon") ?? []
        var seenChips: [String] = []
        for hwmon in hwmons {
            let base = "class/hwmon/\(hwmon)"
            // Older drivers keep their attributes under device/.
            let dir = sysfs.exists("\(base)/name") ? base : "\(base)/device"
            guard let chip = sysfs.text("\(dir)/name"), included(chip, configuration.chips) else { continue }
            seenChips.append(chip)
            let files = sysfs.list(dir) ?? []
            for file in files where file.hasPrefix("temp") && file.hasSuffix("_input") {
                let channel = String(file.dropLast("_input".count))
                let label = sysfs.text("\(dir)/\(channel)_label").map(SysfsParsing.segment) ?? channel
                temperature("\(SysfsParsing.segment(chip))_\(label)", "\(dir)/\(file)")
            }
            guard configuration.fans else { continue }
            for file in files where file.hasPrefix("fan") && file.hasSuffix("_input") {
                let channel = String(file.dropLast("_input".count))
                let label = sysfs.text("\(dir)/\(channel)_label").map(SysfsParsing.segment) ?? channel
                let id = "\(SysfsParsing.segment(chip))_\(label)"
                switch sysfs.read("\(dir)/\(file)") {
                case .text(let text):
                    if let rpm = SysfsParsing.unsigned(text) {
                        readings.append(Reading(VariableName("board.fan.\(id)"), .number(Double(rpm)), unit: .rpm, time: time))
                    } else {
                        failures.append("\(sysfs.path("\(dir)/\(file)")): not a fan speed: \"\(text.prefix(20))\"")
                    }
                case .failed(let code):
                    failures.append("\(sysfs.path("\(dir)/\(file)")): \(errnoDescription(code))")
                }
            }
        }

        for zone in sysfs.list("class/thermal") ?? [] where zone.hasPrefix("thermal_zone") {
            let base = "class/thermal/\(zone)"
            guard let type = sysfs.text("\(base)/type"), included(type, configuration.thermalZones) else { continue }
            temperature("zone_\(SysfsParsing.segment(type))", "\(base)/temp")
        }

        guard let hottest else {
            if !failures.isEmpty {
                throw SensorError("no readable temperature: " + failures.prefix(3).joined(separator: "; "))
            }
            let filter = (configuration.chips + configuration.thermalZones).isEmpty
                ? "" : " matching \((configuration.chips + configuration.thermalZones).joined(separator: ", "))"
            throw SensorError(
                "no hwmon chip or thermal zone\(filter) under \(sysfs.path("class/hwmon")) or \(sysfs.path("class/thermal"))"
                    + (seenChips.isEmpty && !hwmons.isEmpty ? " (chips present: \(chipNames(hwmons)))" : ""))
        }
        readings.append(Reading(.boardTemperature, .number(hottest), unit: .celsius, time: time))
        return readings
    }

    private func chipNames(_ hwmons: [String]) -> String {
        hwmons.compactMap { sysfs.text("class/hwmon/\($0)/name") ?? sysfs.text("class/hwmon/\($0)/device/name") }
            .joined(separator: ", ")
    }
}

func included(_ name: String, _ patterns: [String]) -> Bool {
    patterns.isEmpty || patterns.contains { globMatch($0, name) }
}

/// A sensor or link could not be read; the description is the reason shown to the technician.
public struct SensorError: Error, Sendable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
