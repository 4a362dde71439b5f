import ClosetAgent
import ClosetModel
import FoundationEssentials
import Testing

@testable import closet_agent

/// The JSON schema's shape as Codable types: decoding fails on a missing key or a wrong type.
struct SnapshotDocument: Decodable {
    struct Device: Decodable {
        var name, kind, driver, health, freshness: String
        var stale_reason, stale_since, last_success: String?
        var readings: [ReadingDoc]
        var problems: [ProblemDoc]
    }
    struct ReadingDoc: Decodable {
        var name: String
        var value: Value
        var flags: [String]?
        var unit: String?
        var time: String
    }
    enum Value: Decodable, Equatable {
        case number(Double), text(String)
        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let d = try? c.decode(Double.self) { self = .number(d) } else { self = .text(try c.decode(String.self)) }
        }
    }
    struct ProblemDoc: Decodable { var variable, level, reason: String }
    struct EventDoc: Decodable {
        var time: String
        var device, variable: String?
        var kind, old, new, level, reason: String
    }
    var schema, site, time, health: String
    var devices: [Device]
    var events: [EventDoc]
}

@Suite struct SnapshotTests {
    let t0 = Timestamp(secondsSinceEpoch: 1_800_000_000)

    func state() -> (SiteState, [Event]) {
        var s = SiteState(site: "so-\"quoted\"")
        s.register("ups", policy: DevicePolicy(kind: .ups, driver: "nut", rules: DevicePolicy.defaultRules(for: .ups)))
        s.register("core1", policy: DevicePolicy(kind: .switch, driver: "snmp", staleLevel: .crit))
        s.register("never", policy: DevicePolicy(kind: .sensor, driver: "hwmon"))
        var events = s.apply(
            .readings([
                Reading(.upsStatus, .status([.onBattery, .discharging]), time: t0),
                Reading(.batteryCharge, .number(87.5), unit: .percent, time: t0),
            ]), device: "ups", at: t0)
        events += s.apply(.readings([Reading(.port(10, .oper), .text("up"), time: t0), Reading(.port(2, .oper), .text("down"), time: t0)]), device: "core1", at: t0)
        events += s.apply(.failed(reason: "timeout\nwith \"quotes\""), device: "core1", at: t0.advanced(by: .seconds(5)))
        return (s, events)
    }

    @Test func jsonFollowsTheDocumentedSchema() throws {
        let (s, events) = state()
        let text = SnapshotRendering.json(s, events: events, now: t0)
        let doc = try JSONDecoder().decode(SnapshotDocument.self, from: Data(text.utf8))
        #expect(doc.schema == "closet.snapshot/1")
        #expect(doc.site == "so-\"quoted\"")
        #expect(doc.time == "2027-01-15T08:00:00.000Z")
        #expect(doc.health == "CRIT")
        #expect(doc.devices.map(\.name) == ["ups", "core1", "never"])
        let ups = doc.devices[0]
        #expect(ups.health == "WARN" && ups.freshness == "fresh" && ups.last_success == "2027-01-15T08:00:00.000Z")
        #expect(ups.readings.map(\.name) == ["battery.charge", "ups.status"])
        #expect(ups.readings[0].value == .number(87.5) && ups.readings[0].unit == "%")
        #expect(ups.readings[1].value == .text("OB DISCHRG") && ups.readings[1].flags == ["OB", "DISCHRG"])
        #expect(ups.problems.map(\.reason) == ["on battery"])
        let core = doc.devices[1]
        #expect(core.freshness == "stale" && core.stale_reason == "timeout\nwith \"quotes\"")
        #expect(core.stale_since == "2027-01-15T08:00:05.000Z")
        #expect(core.readings.map(\.name) == ["port.2.oper", "port.10.oper"])
        #expect(doc.devices[2].freshness == "never_read" && doc.devices[2].last_success == nil)
        #expect(doc.events.map(\.kind) == ["health", "health", "freshness", "health"])
        #expect(doc.events.last?.device == nil && doc.events.last?.variable == nil)
    }

    @Test func theTableFitsEightyColumnsAndShowsStaleReasons() {
        let (s, events) = state()
        let text = SnapshotRendering.table(s, events: events, now: t0)
        #expect(text.contains("[CRIT] switch 'core1' (snmp)  STALE since 2027-01-15T08:00:05.000Z"))
        #expect(text.contains("ups.status                         OB DISCHRG  <- WARN: on battery"))
        #expect(text.contains("[UNKNOWN] sensor 'never' (hwmon)  never read"))
        let portLines = text.split(separator: "\n").filter { $0.hasPrefix("  2 ") || $0.hasPrefix("  10 ") }
        #expect(portLines.count == 2)
    }
}

