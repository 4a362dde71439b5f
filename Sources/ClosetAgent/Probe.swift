import ClosetConfig
import ClosetMegatec
import ClosetModbus
import ClosetModel

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
