import ClosetConfig
import ClosetModel

/// What a UPS card's or environment monitor's OIDs mean: the same idea as a Modbus register
/// map, for SNMP scalars. Numeric OIDs only (no MIB files on the board).
public struct SNMPMap: Sendable, Hashable {
    public struct Value: Sendable, Hashable {
        public var variable: VariableName
        public var oid: OID
        /// value = raw * scale + offset
        public var scale: Double
        public var offset: Double
        public var unit: Unit?
    }

    /// An enumerated OID whose values set `ups.status` flags.
    public struct Status: Sendable, Hashable {
        public var oid: OID
        public var values: [Int64: UPSStatus]
    }

    public var name: String
    public var description: String
    public var values: [Value]
    public var statuses: [Status]

    public var oids: [OID] { values.map(\.oid) + statuses.map(\.oid) }

    /// Readings from a GET's answer; OIDs the agent lacks are left out.
    public func decode(_ answer: [OID: SNMPValue], at time: Timestamp) -> [Reading] {
        var readings: [Reading] = []
        for v in values {
            guard let raw = answer[v.oid]?.number else { continue }
            readings.append(Reading(v.variable, .number(raw * v.scale + v.offset), unit: v.unit, time: time))
        }
        if !statuses.isEmpty, statuses.contains(where: { answer[$0.oid]?.number != nil }) {
            var status = UPSStatus()
            for s in statuses {
                if let n = answer[s.oid]?.number, let flag = s.values[Int64(n)] { status.formUnion(flag) }
            }
            readings.append(Reading(.upsStatus, .status(status), time: time))
        }
        return readings
    }

    /// How many of the map's OIDs an agent answered with a value.
    public func matches(_ answer: [OID: SNMPValue]) -> Int {
        oids.filter { answer[$0]?.isException == false && answer[$0] != nil }.count
    }
}

/// Reads SNMP maps from TOML:
/// ```toml
/// name = "ups-mib"
/// [[value]]
/// variable = "battery.charge"
/// oid = "1.3.6.1.2.1.33.1.2.4.0"
/// scale = 1
/// unit = "%"
/// [[status]]
/// oid = "1.3.6.1.2.1.33.1.4.1.0"
/// values = { 3 = "OL", 5 = "OB" }
/// ```
public enum SNMPMapReader {
    public static func parse(_ text: String, file: String, into diagnostics: ConfigDiagnostics) -> SNMPMap? {
        readTOML(text, file: file, into: diagnostics, read)
    }

    static func read(_ r: ConfigReader) -> SNMPMap? {
        let name = r.requiredString("name") ?? "map"
        let description = r.string("description") ?? ""
        var values: [SNMPMap.Value] = []
        var statuses: [SNMPMap.Status] = []
        var seen: [OID: Int] = [:]
        func oid(_ t: ConfigReader) -> OID? {
            guard let text = t.requiredString("oid") else { return nil }
            guard let o = OID(parsing: text) else {
                t.report("oid", "\"\(text)\" is not a numeric OID such as 1.3.6.1.2.1.33.1.2.4.0 (MIB names are not resolved)")
                return nil
            }
            if let line = seen[o] { t.report("oid", "\(o) is already mapped on line \(line)") }
            seen[o] = t.table["oid"]?.line ?? t.line
            return o
        }
        for v in r.tables("value") {
            defer { v.finish() }
            let variable = v.requiredString("variable")
            let o = oid(v)
            let scale = v.number("scale") ?? 1
            if scale == 0 { v.report("scale", "must not be 0") }
            let offset = v.number("offset") ?? 0
            let unit = v.choice("unit", Unit.allCases.map(\.rawValue)).flatMap(Unit.init)
            if let variable, let o { values.append(.init(variable: VariableName(variable), oid: o, scale: scale, offset: offset, unit: unit)) }
        }
        for s in r.tables("status") {
            defer { s.finish() }
            let o = oid(s)
            guard let table = s.table("values") else {
                s.reportTable("missing required key 'values' (e.g. values = { 3 = \"OL\", 5 = \"OB\" })")
                continue
            }
            var mapping: [Int64: UPSStatus] = [:]
            for key in table.table.keys {
                guard let number = Int64(key) else {
                    table.report(key, "must be the OID's integer value")
                    table.allow(key)
                    continue
                }
                guard let tokens = table.string(key) else { continue }
                var flags = UPSStatus()
                for token in tokens.split(separator: " ") {
                    guard let flag = UPSStatus.flag(forToken: String(token)) else {
                        table.report(key, "\"\(token)\" is not a status flag (\(UPSStatus.tokens.map(\.1).joined(separator: " ")))")
                        continue
                    }
                    flags.insert(flag)
                }
                mapping[number] = flags
            }
            table.finish()
            if let o { statuses.append(.init(oid: o, values: mapping)) }
        }
        r.finish()
        return SNMPMap(name: name, description: description, values: values, statuses: statuses)
    }
}
