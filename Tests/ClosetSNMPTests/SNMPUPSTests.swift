import ClosetAgent
import ClosetConfig
import ClosetModel
import ClosetTesting
import Testing

@testable import ClosetSNMP

func mapped(_ target: SNMPTarget, _ name: String) throws -> SNMPMappedDriver {
    let d = ConfigDiagnostics(file: name)
    let map = try #require(SNMPMapReader.parse(BuiltInSNMPMaps.all.first { $0.name == name }!.text, file: name, into: d))
    return SNMPMappedDriver(configuration: .init(target: target, map: map), client: SNMPClient(target: target))
}

func values(_ r: [Reading]) -> [String: ReadingValue] { Dictionary(uniqueKeysWithValues: r.map { ($0.name.rawValue, $0.value) }) }

@Suite(.serialized) struct SNMPUPSAndSensorTests {
    @Test func anEatonCardThroughUPSMIBAndGoingOnBattery() async throws {
        let sim = try await SNMPSimulator(["ups": "UPS/eaton-93e-80", "env": "iot/geist-temperature-sensor"])
        try await sim.waitUntilServing("ups")
        let ups = try mapped(sim.target("ups", timeout: .seconds(5)), "ups-mib")
        let v = values(try await ups.poll(at: Timestamp(secondsSinceEpoch: 0)))
        #expect(v["ups.status"] == .status([.onLine]))
        #expect(v["battery.charge"] == .number(100))
        #expect(v["battery.runtime"] == .number(1092 * 60))
        #expect(v["battery.voltage"] == .number(521))
        #expect(v["input.voltage"] == .number(227) && v["input.frequency"] == .number(50))
        #expect(v["output.voltage"] == .number(220) && v["output.frequency"] == .number(49))
        #expect(ups.client.requests == 1, "one GET for the whole map")

        let env = try mapped(sim.target("env"), "geist-watchdog")
        let e = values(try await env.poll(at: Timestamp(secondsSinceEpoch: 0)))
        let t = try #require(e["ambient.temperature"]?.number)
        #expect(t >= 10 && t <= 30, "the dump's temperature varies between 10.0 and 30.0 degC")
        #expect(e["ambient.humidity"]?.number.map { $0 >= 25 && $0 <= 50 } == true)

        try await sim.set("ups", oid: "1.3.6.1.2.1.33.1.4.1.0", type: 2, value: "5")
        var status: ReadingValue?
        for _ in 0..<5 {
            status = values(try await ups.poll(at: Timestamp(secondsSinceEpoch: 10)))["ups.status"]
            if status == .status([.onBattery]) { break }
        }
        #expect(status == .status([.onBattery]))
    }

    @Test func nasVolumesFromHostResourcesOfARealLinuxServer() async throws {
        let sim = try await SNMPSimulator(["nas": "os/linux/slackware"])
        try await sim.waitUntilServing("nas")
        let volumes = try await HostResources.fetchVolumes(SNMPClient(target: sim.target("nas", timeout: .seconds(5))))
        // RAM, swap and buffers are left out; the three file systems stay.
        #expect(volumes.map(\.name) == ["/", "/usr/local", "/export"])
        #expect(volumes.map(\.key) == ["root", "usr_local", "export"])
        let export = try #require(volumes.last)
        #expect(export.sizeBytes == 96_144_541 * 4096)
        #expect(export.usedBytes == 90_601_816 * 4096)
        #expect((export.usedPercent * 10).rounded() == 942)
    }

    @Test func aMapTheAgentDoesNotKnowIsNamed() async throws {
        let sim = try await SNMPSimulator(["sw": "network/switch/dlink-des3200"])
        try await sim.waitUntilServing("sw")
        do {
            _ = try await mapped(sim.target("sw"), "ups-mib").poll(at: Timestamp(secondsSinceEpoch: 0))
            Issue.record("a switch answered as a UPS")
        } catch {
            #expect("\(error)" == "snmp v2c 127.0.0.1:\(sim.port): answers, but has none of map ups-mib's OIDs (see closet-agent probe snmp)")
        }
    }

    @Test func probeShowsSystemInterfacesAndMatchingMaps() async throws {
        let sim = try await SNMPSimulator(["ups": "UPS/eaton-93e-80"])
        try await sim.waitUntilServing("ups")
        let report = await Probe.snmp(target: sim.target("ups", timeout: .seconds(3)))
        let lines = report.split(separator: "\n").map(String.init)
        #expect(lines.first == "snmp v2c 127.0.0.1:\(sim.port)")
        #expect(lines.contains { $0.hasPrefix("  sysUpTime: ") })
        #expect(lines.contains { $0.hasPrefix("  map ups-mib: ") && $0.hasSuffix("of 11 OIDs answer") }, "\(report)")
        #expect(lines.contains("  map apc-powernet: no"))
    }
}

@Suite struct SNMPMapTests {
    @Test func apcPowerNetDecodes() throws {
        let d = ConfigDiagnostics(file: "apc")
        let map = try #require(SNMPMapReader.parse(BuiltInSNMPMaps.apcPowerNet, file: "apc", into: d))
        let answer: [OID: SNMPValue] = [
            "1.3.6.1.4.1.318.1.1.1.4.1.1.0": .integer(12),
            "1.3.6.1.4.1.318.1.1.1.2.2.4.0": .integer(2),
            "1.3.6.1.4.1.318.1.1.1.2.2.3.0": .unsigned(360_000, kind: .timeTicks),
            "1.3.6.1.4.1.318.1.1.1.2.2.1.0": .unsigned(87, kind: .gauge32),
            "1.3.6.1.4.1.318.1.1.1.4.2.3.0": .noSuchObject,
        ]
        let v = values(map.decode(answer, at: Timestamp(secondsSinceEpoch: 0)))
        #expect(v["ups.status"] == .status([.onLine, .trim, .replaceBattery]))
        #expect(v["battery.runtime"] == .number(3600))
        #expect(v["battery.charge"] == .number(87))
        #expect(v["ups.load"] == nil)
    }

    @Test func mapErrorsNameTheirLines() {
        let d = ConfigDiagnostics(file: "m")
        _ = SNMPMapReader.parse(
            "name = \"x\"\n[[value]]\nvariable = \"a.b\"\noid = \"upsBatteryStatus.0\"\n[[status]]\noid = \"1.3.6.1.2.1.33.1.4.1.0\"\nvalues = { 3 = \"ONLINE\" }\n",
            file: "m.toml", into: d)
        #expect(
            d.issues.map(\.description) == [
                "m.toml:4: value[0].oid: \"upsBatteryStatus.0\" is not a numeric OID such as 1.3.6.1.2.1.33.1.2.4.0 (MIB names are not resolved)",
                "m.toml:7: status[0].values.3: \"ONLINE\" is not a status flag (OL OB LB RB CHRG DISCHRG BYPASS OVER TRIM BOOST FSD)",
            ])
    }
}
