import ClosetModel

/// Renders a site's state for people (a table) and for programs (JSON, schema
/// `closet.snapshot/1`, described in the README and in `docs/snapshot.schema.json`).
public enum SnapshotRendering {
    public static let schemaID = "closet.snapshot/1"

    /// A readable table, 80 columns wide.
    public static func table(_ state: SiteState, events: [Event], now: Timestamp) -> String {
        var out = "site \(state.site)   health \(state.health)   at \(now)\n"
        for device in state.devices {
            out += "\n[\(device.health)] \(device.kind.rawValue) '\(device.name)' (\(device.policy.driver))"
            switch device.freshness {
            case .neverRead: out += "  never read"
            case .fresh: break
            case .stale(let reason, let since): out += "  STALE since \(since): \(reason)"
            }
            out += "\n"
            let ports = Dictionary(grouping: device.sortedReadings.filter { $0.name.portComponents != nil }) {
                $0.name.portComponents!.index
            }
            for reading in device.sortedReadings where reading.name.portComponents == nil {
                let problem = device.levels[reading.name].flatMap { $0.level == .ok ? nil : "  <- \($0.level): \($0.reason)" }
                out += "  " + pad(reading.name.rawValue, 34) + " " + format(reading) + (problem ?? "") + "\n"
            }
            if !ports.isEmpty {
                out += "  port  name             oper            admin  carrier  speed\n"
                for index in ports.keys.sorted() {
                    let fields = Dictionary(uniqueKeysWithValues: ports[index]!.map { ($0.name.portComponents!.field, $0) })
                    func v(_ f: PortField) -> String { fields[f].map { $0.value.description } ?? "-" }
                    let speed = fields[.speed].map { $0.value.description + " Mbit/s" } ?? "-"
                    let problem = device.levels[.port(index, .oper)].flatMap { $0.level == .ok ? nil : "  <- \($0.level)" }
                    out += "  " + pad(String(index), 5) + " " + pad(v(.name), 16) + " " + pad(v(.oper), 15) + " "
                        + pad(v(.admin), 6) + " " + pad(v(.carrier), 8) + " " + speed + (problem ?? "") + "\n"
                }
            }
        }
        if !events.isEmpty {
            out += "\nevents:\n"
            for event in events.suffix(20) { out += "  \(event.time) \(event)\n" }
        }
        return out
    }

    private static func format(_ reading: Reading) -> String {
        reading.value.description + (reading.unit.map { " " + $0.rawValue } ?? "")
    }

    private static func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
    }

    /// The JSON document, keys in a fixed order.
    public static func json(_ state: SiteState, events: [Event], now: Timestamp) -> String {
        let w = JSONWriter()
        w.object {
            w.field("schema") { w.string(schemaID) }
            w.field("site") { w.string(state.site) }
            w.field("time") { w.string(now.rfc3339) }
            w.field("health") { w.string(state.health.rawValue) }
            w.field("devices") {
                w.array(state.devices) { device in
                    w.object {
                        w.field("name") { w.string(device.name) }
                        w.field("kind") { w.string(device.kind.rawValue) }
                        w.field("driver") { w.string(device.policy.driver) }
                        w.field("health") { w.string(device.health.rawValue) }
                        switch device.freshness {
                        case .neverRead:
                            w.field("freshness") { w.string("never_read") }
                        case .fresh:
                            w.field("freshness") { w.string("fresh") }
                        case .stale(let reason, let since):
                            w.field("freshness") { w.string("stale") }
                            w.field("stale_reason") { w.string(reason) }
                            w.field("stale_since") { w.string(since.rfc3339) }
                        }
                        w.field("last_success") { device.lastSuccess.map { w.string($0.rfc3339) } ?? w.null() }
                        w.field("readings") {
                            w.array(device.sortedReadings) { reading in
                                w.object {
                                    w.field("name") { w.string(reading.name.rawValue) }
                                    switch reading.value {
                                    case .number(let v): w.field("value") { w.number(v) }
                                    case .text(let s): w.field("value") { w.string(s) }
                                    case .status(let s):
                                        w.field("value") { w.string(s.description) }
                                        w.field("flags") { w.array(s.flags) { w.string($0.description) } }
                                    }
                                    if let unit = reading.unit { w.field("unit") { w.string(unit.rawValue) } }
                                    w.field("time") { w.string(reading.time.rfc3339) }
                                }
                            }
                        }
                        w.field("problems") {
                            w.array(device.problems) { (variable, problem) in
                                w.object {
                                    w.field("variable") { w.string(variable.rawValue) }
                                    w.field("level") { w.string(problem.level.rawValue) }
                                    w.field("reason") { w.string(problem.reason) }
                                }
                            }
                        }
                    }
                }
            }
            w.field("events") {
                w.array(events) { event in
                    w.object {
                        w.field("time") { w.string(event.time.rfc3339) }
                        w.field("device") { event.device.map { w.string($0) } ?? w.null() }
                        w.field("variable") { event.variable.map { w.string($0.rawValue) } ?? w.null() }
                        w.field("kind") { w.string(event.kind.rawValue) }
                        w.field("old") { w.string(event.old) }
                        w.field("new") { w.string(event.new) }
                        w.field("level") { w.string(event.level.rawValue) }
                        w.field("reason") { w.string(event.reason) }
                    }
                }
            }
        }
        return w.output + "\n"
    }
}

/// A minimal JSON writer: fixed key order, no Foundation.
final class JSONWriter {
    private(set) var output = ""
    private var needsComma = [false]

    func object(_ body: () -> Void) {
        separator()
        output += "{"
        needsComma.append(false)
        body()
        needsComma.removeLast()
        output += "}"
    }

    func array<S: Sequence>(_ items: S, _ body: (S.Element) -> Void) {
        separator()
        output += "["
        needsComma.append(false)
        for item in items { body(item) }
        needsComma.removeLast()
        output += "]"
    }

    func field(_ key: String, _ body: () -> Void) {
        separator()
        output += quoted(key) + ":"
        needsComma[needsComma.count - 1] = false
        body()
        needsComma[needsComma.count - 1] = true
    }

    func string(_ s: String) {
        separator()
        output += quoted(s)
    }

    func number(_ v: Double) {
        separator()
        output += v.isFinite ? v.compactDescription : "null"
    }

    func null() {
        separator()
        output += "null"
    }

    private func separator() {
        if needsComma[needsComma.count - 1] { output += "," }
        needsComma[needsComma.count - 1] = true
    }

    private func quoted(_ s: String) -> String { jsonQuoted(s) }
}
