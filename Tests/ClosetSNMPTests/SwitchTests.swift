import ClosetConfig
import ClosetModel
import ClosetTesting
import Foundation
import Testing

@testable import ClosetSNMP

func switchDriver(_ target: SNMPTarget, reachability: [Int] = [22, 23, 80, 443]) -> SNMPSwitchDriver {
    SNMPSwitchDriver(
        configuration: .init(target: target, reachabilityPorts: reachability), client: SNMPClient(target: target))
}

@Suite(.serialized) struct SNMPSwitchTests {
    @Test func aFiftyPortSwitchOverV2cInAFewPDUs() async throws {
        let sim = try await SNMPSimulator(["core1": "network/switch/cisco-c3560"])
        try await sim.waitUntilServing("core1")
        let driver = switchDriver(sim.target("core1"))
        let v = try await driver.pollValues()
        let names = v.keys.filter { $0.hasSuffix(".name") && $0.hasPrefix("port.") }
        #expect(names.count == 57)
        #expect(v["port.2.oper"] == .text("up") && v["port.1.oper"] == .text("down"))
        #expect(v["ports.up"] == .number(7))
        #expect(v["device.uptime"] == .number(4_924_464))
        #expect(v["device.description"]?.description.hasPrefix("Cisco") == true)
        // snmpsim caps an answer at 64 varbinds (as a real agent caps it by message size):
        // 4 rows of the 14 columns a PDU, so 57 rows take 15 GETBULKs; a GETNEXT walk would take 800.
        #expect(driver.client.requests <= 16, "\(driver.client.requests) PDUs")
    }

    @Test func v3AuthPrivWorks() async throws {
        let sim = try await SNMPSimulator(["access1": "network/switch/dlink-des3200"])
        try await sim.waitUntilServing("access1")
        let v = try await switchDriver(sim.v3Target("access1")).pollValues()
        #expect(v.keys.filter { $0.hasPrefix("port.") && $0.hasSuffix(".oper") }.count == 23)
    }

    @Test func aWrongV3PasswordIsNamedWithoutRetrying() async throws {
        let sim = try await SNMPSimulator(["access1": "network/switch/dlink-des3200"])
        try await sim.waitUntilServing("access1")
        let wrong = switchDriver(sim.v3Target("access1", authPassword: "not-the-password"))
        do {
            _ = try await wrong.pollValues()
            Issue.record("authenticated with a wrong password")
        } catch let error as SNMPError {
            #expect(error.kind == .authentication || error.kind == .timeout, "\(error.description)")
            #expect(error.description.hasPrefix("snmp v3 127.0.0.1:\(sim.port) user closet (authPriv)"), "\(error)")
        }
        #expect(wrong.client.requests <= 2, "no retry storm: \(wrong.client.requests) requests")
    }

    @Test func aWrongCommunityIsATimeoutThatSaysTheHostIsAlive() async throws {
        let sim = try await SNMPSimulator(["core1": "network/switch/cisco-c3560"])
        try await sim.waitUntilServing("core1")
        let closed = freeLoopbackPort()
        let driver = switchDriver(sim.target("public", timeout: .milliseconds(300)), reachability: [closed])
        do {
            _ = try await driver.pollValues()
            Issue.record("answered to a wrong community")
        } catch {
            #expect(
                "\(error)"
                    == "snmp v2c 127.0.0.1:\(sim.port): no answer within 300ms x 1 try; 127.0.0.1 is alive (TCP \(closed) (refused)): SNMP agent off, or wrong community / credentials / ACL")
        }
        #expect(driver.client.requests == 1)
    }

    @Test func aPortGoingDownIsAnEventAndASilentSwitchGoesStaleKeepingItsPorts() async throws {
        let sim = try await SNMPSimulator(["core1": "network/switch/ruijie-s5750-24gt12sfp"])
        try await sim.waitUntilServing("core1")
        let driver = switchDriver(sim.target("core1", timeout: .seconds(5)))
        var site = SiteState(site: "t")
        let uplink = HealthRule.PortSelector(indexes: [], level: .crit, role: "uplink")
        let first = try await driver.poll(at: Timestamp(secondsSinceEpoch: 0))
        let upPort = try #require(first.first { $0.name.portComponents?.field == .oper && $0.value == .text("up") }?.name.portComponents?.index)
        let upName = first.first { $0.name == .port(upPort, .name) }!.value.description
        var selector = uplink
        selector.names = [upName]
        site.register(
            "core1",
            policy: DevicePolicy(
                kind: .switch, driver: "snmp", rules: [BoundRule(VariablePattern("port.*.oper"), .ports([selector], otherwise: .warn))],
                staleLevel: .crit))
        _ = site.apply(.readings(first), device: "core1", at: Timestamp(secondsSinceEpoch: 0))
        #expect(site.device("core1")?.health == .ok || site.device("core1")?.health == .warn)

        try await sim.set("core1", oid: "1.3.6.1.2.1.2.2.1.8.\(upPort)", type: 2, value: "2")
        var events: [Event] = []
        for attempt in 1...5 {
            let readings = try await driver.poll(at: Timestamp(secondsSinceEpoch: Double(10 * attempt)))
            events = site.apply(.readings(readings), device: "core1", at: Timestamp(secondsSinceEpoch: Double(10 * attempt)))
            if !events.isEmpty { break }
        }
        let down = try #require(events.first { $0.variable == .port(upPort, .oper) })
        #expect(down.kind == .health && down.new == "CRIT")
        #expect(down.reason == "uplink \(upName) (port \(upPort)) down")

        sim.stop()
        let silent = switchDriver(sim.target("core1", timeout: .milliseconds(300)), reachability: [freeLoopbackPort()])
        do {
            _ = try await silent.pollValues()
            Issue.record("a stopped simulator answered")
        } catch {
            let stale = site.apply(.failed(reason: "\(error)"), device: "core1", at: Timestamp(secondsSinceEpoch: 100))
            #expect(stale.first?.kind == .freshness && stale.first?.level == .crit)
            #expect(site.device("core1")?.readings[.port(upPort, .oper)]?.value == .text("down"), "last known port states kept")
        }
    }
}

@Suite struct IFMIBDecodingTests {
    let t0 = Timestamp(secondsSinceEpoch: 1000)

    func walk(oper: Int, inErrors: UInt64, hcIn: UInt64, name: String = "Gi0/1") -> [OID: [[UInt]: SNMPValue]] {
        [
            IFMIB.ifName: [[5]: .octets(Array(name.utf8) + [0])],
            IFMIB.ifOperStatus: [[5]: .integer(Int64(oper))],
            IFMIB.ifAdminStatus: [[5]: .integer(1)],
            IFMIB.ifHighSpeed: [[5]: .unsigned(1000, kind: .gauge32)],
            IFMIB.ifLastChange: [[5]: .unsigned(1000, kind: .timeTicks)],
            IFMIB.ifInErrors: [[5]: .unsigned(inErrors, kind: .counter32)],
            IFMIB.ifOutErrors: [[5]: .unsigned(0, kind: .counter32)],
            IFMIB.ifHCInOctets: [[5]: .counter64(hcIn)],
        ]
    }

    func values(_ r: [Reading]) -> [String: ReadingValue] { Dictionary(uniqueKeysWithValues: r.map { ($0.name.rawValue, $0.value) }) }

    @Test func ratesUndoA32BitWrapAndSkipAnAgentRestart() {
        let (_, c1) = IFMIB.decode(columns: walk(oper: 1, inErrors: 4_294_967_290, hcIn: 1000), uptime: 100_000, previous: nil, at: t0)
        let (r2, c2) = IFMIB.decode(
            columns: walk(oper: 1, inErrors: 14, hcIn: 1000 + 125_000), uptime: 101_000, previous: c1, at: t0.advanced(by: .seconds(10)))
        let v2 = values(r2)
        #expect(v2["port.5.errors"] == .number(2), "20 errors across the wrap in 10 s")
        #expect(v2["port.5.in_bps"] == .number(100_000))
        #expect(v2["port.5.last_change"] == .number(1000))
        #expect(v2["port.5.name"] == .text("Gi0/1"), "NUL padding dropped")
        let (r3, _) = IFMIB.decode(columns: walk(oper: 2, inErrors: 3, hcIn: 10), uptime: 50, previous: c2, at: t0.advanced(by: .seconds(20)))
        let v3 = values(r3)
        #expect(v3["port.5.errors"] == nil && v3["port.5.in_bps"] == nil, "sysUpTime went back: the switch rebooted")
        #expect(v3["port.5.oper"] == .text("down") && v3["ports.down"] == .number(1))
    }

    @Test func oddValuesAreLeftOutNotInvented() {
        var columns = walk(oper: 9, inErrors: 0, hcIn: 0, name: "")
        columns[IFMIB.ifDescr] = [[5]: .octets(Array("GigabitEthernet0/1".utf8))]
        columns[IFMIB.ifHighSpeed] = [[5]: .unsigned(0, kind: .gauge32)]
        columns[IFMIB.ifSpeed] = [[5]: .unsigned(4_294_967_295, kind: .gauge32)]
        columns[IFMIB.ifAdminStatus] = [[5]: .octets([0xFF])]
        let v = values(IFMIB.decode(columns: columns, uptime: nil, previous: nil, at: t0).readings)
        #expect(v["port.5.name"] == .text("GigabitEthernet0/1"), "ifDescr when ifName is empty")
        #expect(v["port.5.oper"] == nil, "9 is not an IF-MIB state")
        #expect(v["port.5.speed"] == nil, "ifSpeed saturated and no ifHighSpeed")
        #expect(v["port.5.admin"] == nil)
    }

    @Test func flappingCountsChangesWithinTheWindow() {
        var tracker = FlapTracker(window: .seconds(60))
        var counts: [Int: Int] = [:]
        for (i, state) in ["up", "down", "up", "down", "up"].enumerated() {
            counts = tracker.record([1: state, 2: "up"], at: t0.advanced(by: .seconds(Int64(i * 10))))
        }
        #expect(counts == [1: 4, 2: 0])
        counts = tracker.record([1: "up", 2: "up"], at: t0.advanced(by: .seconds(95)))
        #expect(counts[1] == 1, "changes older than 60 s forgotten")
    }

    @Test func portRulesKnowUplinksAndIgnoreAdminDown() {
        let rule = HealthRule.ports([.init(names: ["Te1/0/*"], level: .crit, role: "uplink")], otherwise: .ok)
        func level(_ oper: String, name: String, admin: String) -> (HealthLevel, String) {
            rule.evaluate(.text(oper), unit: nil, previous: .ok, variable: .port(49, .oper)) { v in
                v == .port(49, .name) ? .text(name) : v == .port(49, .admin) ? .text(admin) : nil
            }
        }
        #expect(level("down", name: "Te1/0/1", admin: "up") == (.crit, "uplink Te1/0/1 (port 49) down"))
        #expect(level("down", name: "Gi1/0/7", admin: "up") == (.ok, "Gi1/0/7 (port 49) down"))
        #expect(level("down", name: "Te1/0/1", admin: "down") == (.ok, "Te1/0/1 (port 49) administratively down"))
        #expect(level("up", name: "Te1/0/1", admin: "up").0 == .ok)
    }
}
