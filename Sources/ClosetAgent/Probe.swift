import ClosetConfig
import ClosetMegatec
import ClosetModbus
import ClosetModel
import ClosetSNMP

/// What `closet-agent probe` finds on a bus, for a technician setting up a closet.
public enum Probe {
    /// Scans `units` on a Modbus endpoint with every built-in map; one line per unit and map.
    public static func modbus(endpoint: ModbusEndpoint, units: ClosedRange<Int>, timeout: Duration) async -> String {
        var out = "\(endpoint), units \(units.lowerBound)..\(units.upperBound), \(timeout.compactDescription) per request\n"
        let bus = ModbusBus(endpoint: endpoint, responseTimeout: timeout, byteTimeout: min(timeout, .milliseconds(100)))
        let maps = BuiltInMaps.all.compactMap { entry in
            RegisterMapReader.parse(entry.text, file: entry.name, defaultName: entry.name, into: ConfigDiagnostics(file: entry.name))
        }
        var found = 0
        for unit in units {
            var lines: [String] = []
            var silent = true
            for map in maps {
                let driver = ModbusDriver(configuration: .init(endpoint: endpoint, unit: unit, map: map, responseTimeout: timeout), bus: bus)
                do {
                    let readings = try await driver.poll(at: Timestamp(nanosecondsSinceEpoch: 0))
                    silent = false
                    let shown = readings.sorted { $0.name < $1.name }.prefix(6)
                        .map { "\($0.name) \($0.value)\($0.unit.map { " " + $0.rawValue } ?? "")" }
                    lines.append("  matches \(map.name): " + shown.joined(separator: ", "))
                } catch let error as ModbusError {
                    if error.isException { silent = false }
                    lines.append("  \(map.name): " + (error.description.split(separator: ": ", maxSplits: 2).last.map(String.init) ?? error.description))
                } catch {
                    lines.append("  \(map.name): \(error)")
                }
            }
            if silent {
                out += "unit \(unit): no answer\n"
            } else {
                found += 1
                out += "unit \(unit): answers\n" + lines.joined(separator: "\n") + "\n"
            }
        }
        bus.close()
        out += "\(found) of \(units.count) units answered\n"
        return out
    }

    /// Asks a Megatec UPS for Q1, F and I and shows the replies decoded.
    public static func megatec(device: String, baud: Int, timeout: Duration) async -> String {
        let configuration = MegatecDriver.Configuration(device: device, baud: baud, answerTimeout: timeout)
        do {
            let driver = try configuration.makeDriver(DriverRuntime())
            let readings = try await driver.poll(at: Timestamp(nanosecondsSinceEpoch: 0))
            return "\(device) at \(baud) baud answers Q1:\n"
                + readings.sorted { $0.name < $1.name }
                .map { "  \($0.name) = \($0.value)\($0.unit.map { " " + $0.rawValue } ?? "")" }.joined(separator: "\n") + "\n"
        } catch {
            return "\(device) at \(baud) baud: \(error)\n"
        }
    }
}

extension Probe {
    /// What an SNMP agent is: system group, interface table with states, matching maps.
    public static func snmp(target: SNMPTarget) async -> String {
        let client = SNMPClient(target: target)
        let maps = BuiltInSNMPMaps.maps
        do {
            let (walked, system, mapAnswers) = try await client.perform { snmp in
                let system = try snmp.get([OID("1.3.6.1.2.1.1.1.0"), OID("1.3.6.1.2.1.1.3.0"), OID("1.3.6.1.2.1.1.5.0")])
                let walked = try snmp.walk(columns: IFMIB.columns, maxRepetitions: 25).columns
                var answers: [String: [OID: SNMPValue]] = [:]
                for map in maps {
                    var all: [OID: SNMPValue] = [:]
                    for (oid, value) in (try? snmp.get(map.oids)) ?? [] { all[oid] = value }
                    answers[map.name] = all
                }
                return (walked, system, answers)
            }
            var out = "\(target)\n"
            let values = Dictionary(uniqueKeysWithValues: system.map { ($0.0.description, $0.1) })
            out += "  sysDescr:  \(values["1.3.6.1.2.1.1.1.0"]?.text ?? "-")\n"
            if case .unsigned(let ticks, _)? = values["1.3.6.1.2.1.1.3.0"] {
                out += "  sysUpTime: \(ticks / 8_640_000) days \(ticks / 360_000 % 24) h (\(ticks / 100) s)\n"
            }
            out += "  sysName:   \(values["1.3.6.1.2.1.1.5.0"]?.text ?? "-")\n"
            let readings = IFMIB.decode(columns: walked, uptime: nil, previous: nil, at: Timestamp(nanosecondsSinceEpoch: 0)).readings
            var ports: [Int: [PortField: String]] = [:]
            for r in readings { if let (i, f) = r.name.portComponents { ports[i, default: [:]][f] = r.value.description } }
            out += "  \(ports.count) interfaces:\n  index name                     admin  oper            speed\n"
            for index in ports.keys.sorted() {
                let p = ports[index]!
                func pad(_ s: String, _ n: Int) -> String { s.count >= n ? String(s.prefix(n)) : s + String(repeating: " ", count: n - s.count) }
                out += "  \(pad(String(index), 5)) \(pad(p[.name] ?? "-", 24)) \(pad(p[.admin] ?? "-", 6)) \(pad(p[.oper] ?? "-", 15)) \(p[.speed].map { $0 + " Mbit/s" } ?? "-")\n"
            }
            for map in maps {
                let n = map.matches(mapAnswers[map.name] ?? [:])
                out += n > 0 ? "  map \(map.name): \(n) of \(map.oids.count) OIDs answer\n" : "  map \(map.name): no\n"
            }
            return out
        } catch {
            return "\(error)\n"
        }
    }
}
