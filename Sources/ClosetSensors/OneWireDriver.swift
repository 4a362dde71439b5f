import ClosetConfig
import ClosetModel

/// A DS18B20 temperature probe on the Linux 1-Wire bus (`w1_therm`):
/// `/sys/bus/w1/devices/28-*/w1_slave` (two lines: scratchpad with `crc=.. YES|NO`, then
/// `t=<millidegrees>`), or the newer `temperature` file. Produces `ambient.temperature`.
public struct OneWireDriver: DeviceDriver {
    public struct Configuration: DriverConfiguration, Hashable {
        /// The bus's device folder (`/sys/bus/w1/devices`).
        public var devicesPath: String
        /// The probe's id (`28-0316a2795aff`); nil takes the only DS18B20 on the bus.
        public var id: String?

        public init(devicesPath: String = "/sys/bus/w1/devices", id: String? = nil) {
            self.devicesPath = devicesPath
            self.id = id
        }

        public var summary: [(key: String, value: String)] { [("path", devicesPath), ("id", id ?? "the only 28-* probe")] }
        public func makeDriver(_ runtime: DriverRuntime) throws -> any DeviceDriver { OneWireDriver(configuration: self) }
    }

    /// `[[sensor]]` with `driver = "onewire"`.
    public static let factory = DriverFactory(name: "onewire", kinds: [.sensor]) { r, context in
        var path = context.sysfsRoot + "/bus/w1/devices"
        if let board = context.board?.oneWirePath {
            // The profile names the real path; keep it under a fixture sysfs root in tests.
            path = board.hasPrefix("/sys/") ? context.sysfsRoot + board.dropFirst(4) : board
        }
        if let p = r.string("path") { path = p }
        let id = r.string("id")
        if let id, !(id.hasPrefix("28-") || id.hasPrefix("10-") || id.hasPrefix("22-") || id.hasPrefix("3b-")) {
            r.report("id", "\"\(id)\" is not a 1-Wire thermometer id (28-..., 10-..., 22-..., 3b-...)")
            return nil
        }
        return Configuration(devicesPath: path, id: id)
    }

    public let configuration: Configuration
    private let sysfs: SysfsTransport

    public init(configuration: Configuration) {
        self.configuration = configuration
        self.sysfs = SysfsTransport(root: configuration.devicesPath)
    }

    /// Thermometer family codes: DS18B20 (28), DS18S20 (10), DS1822 (22), DS1825 (3b).
    static let families = ["28-", "10-", "22-", "3b-"]

    public func poll(at time: Timestamp) async throws -> [Reading] {
        let id: String
        if let configured = configuration.id {
            id = configured
        } else {
            let probes = (sysfs.list(".") ?? []).filter { name in Self.families.contains { name.hasPrefix($0) } }
            guard probes.count == 1 else {
                throw SensorError(
                    probes.isEmpty
                        ? "no 1-Wire thermometer in \(configuration.devicesPath) (is the w1-gpio overlay loaded?)"
                        : "\(probes.count) thermometers in \(configuration.devicesPath) (\(probes.joined(separator: ", "))): set id")
            }
            id = probes[0]
        }
        let celsius: Double
        switch sysfs.read("\(id)/w1_slave") {
        case .text(let text):
            celsius = try OneWireParsing.w1Slave(text, file: sysfs.path("\(id)/w1_slave"))
        case .failed(let code):
            guard case .text(let text) = sysfs.read("\(id)/temperature") else {
                throw SensorError("\(sysfs.path("\(id)/w1_slave")): \(errnoDescription(code)) (probe unplugged?)")
            }
            celsius = try OneWireParsing.temperatureFile(text, file: sysfs.path("\(id)/temperature"))
        }
        return [Reading(.ambientTemperature, .number(celsius), unit: .celsius, time: time)]
    }
}

/// Pure parsers for the w1_therm files.
enum OneWireParsing {
    /// 85 °C is the DS18B20's power-on value: a probe that lost power mid-read reports it.
    static let powerOnMillidegrees = 85_000

    static func w1Slave(_ text: String, file: String) throws(SensorError) -> Double {
        let lines = text.split(separator: "\n")
        guard lines.count >= 2, let crcLine = lines.first, let tPart = lines[1].split(separator: "t=").last,
            lines[1].contains("t=")
        else {
            throw SensorError("\(file): not a w1_therm reading: \"\(text.prefix(60))\"")
        }
        guard crcLine.hasSuffix("YES") else {
            throw SensorError("\(file): CRC check failed (bad contact or long cable)")
        }
        let scratchpad = crcLine.split(separator: ":").first.map { $0.split(separator: " ") } ?? []
        if !scratchpad.isEmpty, scratchpad.allSatisfy({ $0 == "00" }) || scratchpad.allSatisfy({ $0 == "ff" }) {
            throw SensorError("\(file): empty scratchpad (probe not answering)")
        }
        return try millidegrees(String(tPart), file: file)
    }

    static func temperatureFile(_ text: String, file: String) throws(SensorError) -> Double {
        try millidegrees(text, file: file)
    }

    private static func millidegrees(_ text: String, file: String) throws(SensorError) -> Double {
        guard let milli = Int(text.trimmingSpaces) else {
            throw SensorError("\(file): not a temperature: \"\(text.prefix(20))\"")
        }
        if milli == powerOnMillidegrees {
            throw SensorError("\(file): 85 degC power-on value, not a measurement (probe reset)")
        }
        guard milli >= -55_000, milli <= 125_000 else {
            throw SensorError("\(file): \(Double(milli) / 1000) degC is outside the DS18B20's -55..125 degC")
        }
        return Double(milli) / 1000
    }
}
