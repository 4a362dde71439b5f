import ClosetConfig
import ClosetModel

/// Reads a UPS or a probe over Modbus RTU or TCP through a register map.
public struct ModbusDriver: DeviceDriver {
    public struct Configuration: DriverConfiguration, Hashable {
        public var endpoint: ModbusEndpoint
        public var unit: Int
        public var map: RegisterMap
        public var responseTimeout: Duration
        public var byteTimeout: Duration
        /// Merge adjacent registers into one read (on by default; off only to compare).
        public var coalesce: Bool

        public init(
            endpoint: ModbusEndpoint, unit: Int = 1, map: RegisterMap, responseTimeout: Duration = .milliseconds(500),
            byteTimeout: Duration = .milliseconds(100), coalesce: Bool = true
        ) {
            self.endpoint = endpoint
            self.unit = unit
            self.map = map
            self.responseTimeout = responseTimeout
            self.byteTimeout = byteTimeout
            self.coalesce = coalesce
        }

        public var summary: [(key: String, value: String)] {
            [
                ("endpoint", endpoint.description), ("unit", String(unit)), ("map", map.name),
                ("response_timeout", responseTimeout.compactDescription), ("reads per poll", String(ReadPlanner.plan(map, coalesce: coalesce).count)),
            ]
        }

        public func makeDriver(_ runtime: DriverRuntime) throws -> any DeviceDriver {
            let bus = runtime.shared(endpoint.busKey) {
                ModbusBus(endpoint: endpoint, responseTimeout: responseTimeout, byteTimeout: byteTimeout)
            }
            return ModbusDriver(configuration: self, bus: bus)
        }
    }

    public let configuration: Configuration
    public let bus: ModbusBus
    private let plan: [ModbusRead]

    public init(configuration: Configuration, bus: ModbusBus) {
        self.configuration = configuration
        self.bus = bus
        self.plan = ReadPlanner.plan(configuration.map, coalesce: configuration.coalesce)
    }

    public func poll(at time: Timestamp) async throws -> [Reading] {
        let snapshot = try await bus.read(plan, unit: configuration.unit)
        return configuration.map.decode(snapshot, at: time)
    }

    /// `[[ups]]` or `[[sensor]]` with `driver = "modbus"`.
    public static let factory = DriverFactory(name: "modbus", kinds: [.ups, .sensor]) { r, context in
        readConfiguration(r, context: context)
    }

    static func readConfiguration(_ r: ConfigReader, context: ConfigContext) -> Configuration? {
        let before = r.diagnostics.issues.count
        let host = r.string("host")
        let device = r.string("device")
        var endpoint: ModbusEndpoint?
        switch (host, device) {
        case (let host?, nil):
            let port = r.integer("port", in: 1...65535).map(Int.init) ?? 502
            endpoint = .tcp(host: host, port: port)
        case (nil, let device?):
            if !device.hasPrefix("/") { r.report("device", "must be an absolute path such as /dev/ttyUSB0, got \"\(device)\"") }
            let baud = r.integer("baud", in: 300...921_600).map(Int.init) ?? 9600
            let parity = r.choice("parity", ModbusEndpoint.Parity.allCases.map(\.rawValue)).flatMap(ModbusEndpoint.Parity.init) ?? .none
            let data = r.integer("data_bits", in: 7...8).map(Int.init) ?? 8
            let stop = r.integer("stop_bits", in: 1...2).map(Int.init) ?? 1
            let rs485 = r.bool("rs485") ?? false
            endpoint = .rtu(device: device, baud: baud, parity: parity, dataBits: data, stopBits: stop, rs485: rs485)
        case (.some, .some):
            r.report("device", "set either host (Modbus TCP) or device (Modbus RTU), not both")
        case (nil, nil):
            r.reportTable("missing 'host' (Modbus TCP) or 'device' (Modbus RTU serial line)")
        }
        r.allow("port", "baud", "parity", "data_bits", "stop_bits", "rs485")
        let isTCP = host != nil
        let unit = r.integer("unit", in: isTCP ? 0...255 : 1...247).map(Int.init) ?? 1
        let response = r.duration("response_timeout", in: .milliseconds(10)...(.seconds(30))) ?? .milliseconds(500)
        let byte = r.duration("byte_timeout", in: .milliseconds(1)...(.seconds(10))) ?? .milliseconds(100)
        let coalesce = r.bool("coalesce") ?? true
        let map = readMap(r, context: context)
        guard r.diagnostics.issues.count == before, let endpoint, let map else { return nil }
        return Configuration(
            endpoint: endpoint, unit: unit, map: map, responseTimeout: response, byteTimeout: byte, coalesce: coalesce)
    }

    /// `map = "apc-smt"` (built in), `map = "maps/x.toml"` (a file, relative to the config),
    /// or `[ups.map]` with the map's tables inline.
    static func readMap(_ r: ConfigReader, context: ConfigContext) -> RegisterMap? {
        guard let node = r.table["map"] else {
            r.reportTable("missing required key 'map' (built in: \(BuiltInMaps.all.map(\.name).joined(separator: ", ")))")
            r.allow("map")
            return nil
        }
        if case .table = node.value, let inline = r.table("map") {
            return RegisterMapReader.read(inline, defaultName: "inline")
        }
        guard let name = r.string("map") else { return nil }
        if let builtIn = BuiltInMaps.all.first(where: { $0.name == name }) {
            return RegisterMapReader.parse(builtIn.text, file: "built-in map \(name)", defaultName: name, into: r.diagnostics)
        }
        guard name.hasSuffix(".toml") else {
            r.report(
                "map",
                "unknown map \"\(name)\" (built in: \(BuiltInMaps.all.map(\.name).joined(separator: ", ")); "
                    + "or a .toml file)" + suggestion(for: name, among: BuiltInMaps.all.map(\.name)))
            return nil
        }
        let path = name.hasPrefix("/") ? name : context.directory + "/" + name
        do {
            let text = try readTextFile(path)
            return RegisterMapReader.parse(text, file: path, defaultName: name, into: r.diagnostics)
        } catch {
            r.report("map", "cannot read map file: \(error)")
            return nil
        }
    }
}
