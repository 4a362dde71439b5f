import ClosetModel
import ClosetTesting
import Testing

@testable import ClosetSensors

@Suite struct HwmonDriverTests {
    let t0 = Timestamp(secondsSinceEpoch: 1_800_000_000)

    /// A laptop-like tree: coretemp with labels, an nvme chip without labels, a fan, a thermal zone.
    func laptop() -> FixtureTree {
        let tree = FixtureTree(prefix: "closet-sysfs")
        tree.file("class/hwmon/hwmon0/name", "coretemp\n")
        tree.file("class/hwmon/hwmon0/temp1_input", "52000\n")
        tree.file("class/hwmon/hwmon0/temp1_label", "Package id 0\n")
        tree.file("class/hwmon/hwmon0/temp2_input", "49500\n")
        tree.file("class/hwmon/hwmon0/temp2_label", "Core 0\n")
        tree.file("class/hwmon/hwmon1/name", "nvme\n")
        tree.file("class/hwmon/hwmon1/temp1_input", "38850\n")
        tree.file("class/hwmon/hwmon2/name", "thinkpad\n")
        tree.file("class/hwmon/hwmon2/fan1_input", "2900\n")
        tree.file("class/thermal/thermal_zone0/type", "x86_pkg_temp\n")
        tree.file("class/thermal/thermal_zone0/temp", "53000\n")
        tree.file("class/thermal/cooling_device0/type", "Processor\n")
        return tree
    }

    func values(_ readings: [Reading]) -> [String: String] {
        Dictionary(uniqueKeysWithValues: readings.map { ($0.name.rawValue, $0.value.description) })
    }

    @Test func readsEveryTemperatureFanAndTheHottest() async throws {
        let tree = laptop()
        defer { tree.remove() }
        let driver = HwmonDriver(configuration: .init(sysfsRoot: tree.root))
        let readings = try await driver.poll(at: t0)
        #expect(
            values(readings) == [
                "board.temperature.coretemp_package_id_0": "52",
                "board.temperature.coretemp_core_0": "49.5",
                "board.temperature.nvme_temp1": "38.85",
                "board.fan.thinkpad_fan1": "2900",
                "board.temperature.zone_x86_pkg_temp": "53",
                "board.temperature": "53",
            ])
        #expect(readings.allSatisfy { $0.time == t0 })
        #expect(readings.first { $0.name == .boardTemperature }?.unit == .celsius)
    }

    @Test func chipAndZoneFiltersNarrowTheSensors() async throws {
        let tree = laptop()
        defer { tree.remove() }
        let driver = HwmonDriver(
            configuration: .init(sysfsRoot: tree.root, chips: ["core*"], thermalZones: ["none"], fans: false))
        #expect(
            values(try await driver.poll(at: t0)) == [
                "board.temperature.coretemp_package_id_0": "52",
                "board.temperature.coretemp_core_0": "49.5",
                "board.temperature": "52",
            ])
    }

    @Test func garbageAndUnreadableFilesAreSkippedNotFatal() async throws {
        let tree = laptop()
        defer { tree.remove() }
        tree.file("class/hwmon/hwmon1/temp1_input", "not a number\n")
        tree.file("class/hwmon/hwmon0/temp2_input", "255000\n")  // a disconnected diode
        tree.delete("class/thermal/thermal_zone0/temp")
        tree.directory("class/thermal/thermal_zone0/temp")  // EISDIR on read
        tree.file("class/hwmon/hwmon2/fan1_input", "\u{00}\u{ff}garbage")
        let readings = try await HwmonDriver(configuration: .init(sysfsRoot: tree.root)).poll(at: t0)
        #expect(values(readings) == ["board.temperature.coretemp_package_id_0": "52", "board.temperature": "52"])
    }

    @Test func onlyBrokenSensorsMakeAPollErrorThatNamesTheFile() async throws {
        let tree = FixtureTree(prefix: "closet-sysfs")
        defer { tree.remove() }
        tree.file("class/hwmon/hwmon0/name", "coretemp\n")
        tree.file("class/hwmon/hwmon0/temp1_input", "-\n")
        await #expect {
            try await HwmonDriver(configuration: .init(sysfsRoot: tree.root)).poll(at: t0)
        } throws: { error in
            String(describing: error)
                == "no readable temperature: \(tree.root)/class/hwmon/hwmon0/temp1_input: not a temperature: \"-\""
        }
    }

    @Test func aMachineWithoutSensorsSaysSoPlainly() async throws {
        let tree = FixtureTree(prefix: "closet-sysfs")
        defer { tree.remove() }
        tree.directory("class/net")
        await #expect {
            try await HwmonDriver(configuration: .init(sysfsRoot: tree.root, chips: ["cpu_thermal"])).poll(at: t0)
        } throws: { error in
            String(describing: error)
                == "no hwmon chip or thermal zone matching cpu_thermal under \(tree.root)/class/hwmon or \(tree.root)/class/thermal"
        }
    }

    @Test func olderDriversKeepAttributesUnderDevice() async throws {
        let tree = FixtureTree(prefix: "closet-sysfs")
        defer { tree.remove() }
        tree.file("class/hwmon/hwmon0/device/name", "lm75\n")
        tree.file("class/hwmon/hwmon0/device/temp1_input", "31125\n")
        #expect(values(try await HwmonDriver(configuration: .init(sysfsRoot: tree.root)).poll(at: t0))["board.temperature"] == "31.125")
    }

    @Test(arguments: [
        ("45000", 45.0), ("-5000", -5.0), (" 1000\n", 1.0),
    ])
    func millidegreesParse(text: String, celsius: Double) {
        #expect(SysfsParsing.millidegrees(text) == celsius)
    }

    @Test(arguments: ["", "abc", "1.5", "255000", "-128000", "99999999999999999999"])
    func implausibleTemperaturesAreRejected(text: String) {
        #expect(SysfsParsing.millidegrees(text) == nil)
    }
}

@Suite struct NetifDriverTests {
    let t0 = Timestamp(secondsSinceEpoch: 1_800_000_000)

    func nics() -> FixtureTree {
        let tree = FixtureTree(prefix: "closet-net")
        func nic(_ name: String, index: Int, oper: String, flags: String, carrier: String?, speed: String?, physical: Bool) {
            tree.file("class/net/\(name)/ifindex", "\(index)\n")
            tree.file("class/net/\(name)/operstate", oper + "\n")
            tree.file("class/net/\(name)/flags", flags + "\n")
            if let carrier { tree.file("class/net/\(name)/carrier", carrier + "\n") }
            if let speed { tree.file("class/net/\(name)/speed", speed + "\n") }
            if physical { tree.directory("devices/pci/\(name)"); tree.symlink("class/net/\(name)/device", to: tree.path("devices/pci/\(name)")) }
        }
        nic("lo", index: 1, oper: "unknown", flags: "0x9", carrier: "1", speed: nil, physical: false)
        nic("eth0", index: 2, oper: "up", flags: "0x1003", carrier: "1", speed: "1000", physical: true)
        nic("eth1", index: 3, oper: "down", flags: "0x1003", carrier: nil, speed: nil, physical: true)
        nic("eth2", index: 4, oper: "down", flags: "0x1002", carrier: nil, speed: "-1", physical: true)
        nic("wwan0", index: 5, oper: "lowerlayerdown", flags: "0x1003", carrier: "0", speed: "-1", physical: true)
        nic("docker0", index: 6, oper: "down", flags: "0x1003", carrier: "0", speed: nil, physical: false)
        return tree
    }

    func table(_ readings: [Reading]) -> [String] {
        readings.map { "\($0.name)=\($0.value)" }
    }

    @Test func physicalInterfacesByDefaultAsPorts() async throws {
        let tree = nics()
        defer { tree.remove() }
        let readings = try await NetifDriver(configuration: .init(sysfsRoot: tree.root)).poll(at: t0)
        #expect(
            table(readings) == [
                "port.2.name=eth0", "port.2.oper=up", "port.2.admin=up", "port.2.carrier=1", "port.2.speed=1000",
                "port.3.name=eth1", "port.3.oper=down", "port.3.admin=up", "port.3.carrier=0",
                "port.4.name=eth2", "port.4.oper=down", "port.4.admin=down", "port.4.carrier=0",
                "port.5.name=wwan0", "port.5.oper=lowerLayerDown", "port.5.admin=up", "port.5.carrier=0",
            ])
        #expect(readings.first { $0.name == .port(2, .speed) }?.unit == .megabitPerSecond)
    }

    @Test func patternsPickInterfacesIncludingVirtualOnes() async throws {
        let tree = nics()
        defer { tree.remove() }
        let readings = try await NetifDriver(configuration: .init(sysfsRoot: tree.root, interfaces: ["docker*", "lo"])).poll(at: t0)
        #expect(readings.filter { $0.name.portComponents?.field == .name }.map(\.value.description) == ["docker0", "lo"])
    }

    @Test func garbageAttributesAreLeftOutAndGarbageIndexesSkipTheInterface() async throws {
        let tree = nics()
        defer { tree.remove() }
        tree.file("class/net/eth0/operstate", "\u{7}\u{0}banana\n")
        tree.file("class/net/eth0/flags", "zz\n")
        tree.file("class/net/eth1/ifindex", "-3\n")
        let readings = try await NetifDriver(configuration: .init(sysfsRoot: tree.root, interfaces: ["eth0", "eth1"])).poll(at: t0)
        #expect(table(readings) == ["port.2.name=eth0", "port.2.carrier=1", "port.2.speed=1000"])
    }

    @Test func noMatchingInterfaceIsAPollErrorListingWhatExists() async throws {
        let tree = nics()
        defer { tree.remove() }
        await #expect {
            try await NetifDriver(configuration: .init(sysfsRoot: tree.root, interfaces: ["enp*"])).poll(at: t0)
        } throws: { error in
            String(describing: error)
                == "no interface matching enp* in \(tree.root)/class/net (present: docker0, eth0, eth1, eth2, lo, wwan0)"
        }
    }

    @Test func aMissingSysfsIsAPollError() async throws {
        await #expect {
            try await NetifDriver(configuration: .init(sysfsRoot: "/nonexistent")).poll(at: t0)
        } throws: { error in
            String(describing: error) == "cannot list /nonexistent/class/net"
        }
    }

    @Test func theRealSysfsWorksUnchanged() async throws {
        // Every Linux machine has at least `lo`.
        let readings = try await NetifDriver(configuration: .init(interfaces: ["lo"])).poll(at: t0)
        #expect(readings.contains { $0.name.portComponents?.field == .name && $0.value == .text("lo") })
    }
}
