import ClosetConfig
import ClosetModel

/// A UPS network card or an environment monitor read over SNMP through a map.
public struct SNMPMappedDriver: DeviceDriver {
    public struct Configuration: DriverConfiguration, Hashable {
        public var target: SNMPTarget
        public var map: SNMPMap

        public var summary: [(key: String, value: String)] { [("target", target.description), ("map", map.name)] }

        public func makeDriver(_ runtime: DriverRuntime) throws -> any DeviceDriver {
            let client = runtime.shared("snmp:\(target.host):\(target.port):\(target.security)") { SNMPClient(target: target) }
            return SNMPMappedDriver(configuration: self, client: client)
        }
    }

    public let configuration: Configuration
    public let client: SNMPClient

    public init(configuration: Configuration, client: SNMPClient) {
        self.configuration = configuration
        self.client = client
    }

    public func poll(at time: Timestamp) async throws -> [Reading] {
        let oids = configuration.map.oids
        let answer = try await client.perform { snmp in
            // Agents limit varbinds per request; 32 stays well within any UPS card's.
            var all: [OID: SNMPValue] = [:]
            for start in stride(from: 0, to: oids.count, by: 32) {
                for (oid, value) in try snmp.get(Array(oids[start..<min(oids.count, start + 32)])) { all[oid] = value }
            }
            return all
        }
        let readings = configuration.map.decode(answer, at: time)
        guard !readings.isEmpty else {
            throw SNMPError(
                kind: .protocolError,
                description: "\(configuration.target): answers, but has none of map \(configuration.map.name)'s OIDs (see closet-agent probe snmp)")
        }
        return readings
    }

    /// `[[ups]]` or `[[sensor]]` with `driver = "snmp"`.
    public static let factory = DriverFactory(name: "snmp", kinds: [.ups, .sensor]) { r, context in
        guard let target = SNMPTargetReader.read(r) else {
            r.allow("map")
            return nil
        }
        guard let name = r.requiredString("map") else { return nil }
        if let builtIn = BuiltInSNMPMaps.all.first(where: { $0.name == name }) {
            return SNMPMapReader.parse(builtIn.text, file: "built-in map \(name)", into: r.diagnostics)
                .map { Configuration(target: target, map: $0) }
        }
        guard name.hasSuffix(".toml") else {
            r.report(
                "map",
                "unknown SNMP map \"\(name)\" (built in: \(BuiltInSNMPMaps.all.map(\.name).joined(separator: ", ")); or a .toml file)"
                    + suggestion(for: name, among: BuiltInSNMPMaps.all.map(\.name)))
            return nil
        }
        let path = name.hasPrefix("/") ? name : context.directory + "/" + name
        do {
            return SNMPMapReader.parse(try readTextFile(path), file: path, into: r.diagnostics).map { Configuration(target: target, map: $0) }
        } catch {
            r.report("map", "cannot read map file: \(error)")
            return nil
        }
    }
}
