import ClosetModel
import ClosetTesting
import Testing

@testable import ClosetSensors

@Suite struct OneWireDriverTests {
    let t0 = Timestamp(secondsSinceEpoch: 0)
    let good = "72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n72 01 4b 46 7f ff 0e 10 57 t=23125\n"

    func bus(_ files: [String: String]) -> FixtureTree {
        let tree = FixtureTree(prefix: "closet-w1")
        tree.file("w1_bus_master1/uevent", "")
        for (path, text) in files { tree.file(path, text) }
        return tree
    }

    func read(_ tree: FixtureTree, id: String? = nil) async -> Result<Double, SensorError> {
        do {
            let r = try await OneWireDriver(configuration: .init(devicesPath: tree.root, id: id)).poll(at: t0)
            return .success(r[0].value.number!)
        } catch {
            return .failure(error as! SensorError)
        }
    }

    @Test func readsTheOnlyProbeFromW1Slave() async throws {
        let tree = bus(["28-0316a2795aff/w1_slave": good])
        defer { tree.remove() }
        #expect(try await read(tree).get() == 23.125)
    }

    @Test func fallsBackToTheTemperatureFile() async throws {
        let tree = bus(["28-0316a2795aff/temperature": "-10062\n"])
        defer { tree.remove() }
        #expect(try await read(tree).get() == -10.062)
    }

    @Test func aCRCFailureIsABadReadingNotATemperature() async {
        let tree = bus(["28-aa/w1_slave": "72 01 4b 46 7f ff 0e 10 00 : crc=57 NO\n72 01 4b 46 7f ff 0e 10 00 t=23125\n"])
        defer { tree.remove() }
        #expect(await read(tree) == .failure(SensorError("\(tree.root)/28-aa/w1_slave: CRC check failed (bad contact or long cable)")))
    }

    @Test func thePowerOnValueIsABadReading() async {
        let tree = bus(["28-aa/w1_slave": "50 05 4b 46 7f ff 0c 10 1c : crc=1c YES\n50 05 4b 46 7f ff 0c 10 1c t=85000\n"])
        defer { tree.remove() }
        #expect(await read(tree) == .failure(SensorError("\(tree.root)/28-aa/w1_slave: 85 degC power-on value, not a measurement (probe reset)")))
    }

    @Test func garbageAndEmptyScratchpadsAreBadReadings() async {
        let tree = bus([
            "28-aa/w1_slave": "\u{0}\u{ff}garbage",
            "28-bb/w1_slave": "00 00 00 00 00 00 00 00 00 : crc=00 YES\n00 00 00 00 00 00 00 00 00 t=0\n",
        ])
        defer { tree.remove() }
        guard case .failure(let e1) = await read(tree, id: "28-aa") else { Issue.record("garbage read"); return }
        #expect(e1.description.hasPrefix("\(tree.root)/28-aa/w1_slave: not a w1_therm reading"))
        #expect(await read(tree, id: "28-bb") == .failure(SensorError("\(tree.root)/28-bb/w1_slave: empty scratchpad (probe not answering)")))
    }

    @Test func noProbeOrSeveralProbesSayWhatToDo() async throws {
        let none = bus([:])
        defer { none.remove() }
        #expect(await read(none) == .failure(SensorError("no 1-Wire thermometer in \(none.root) (is the w1-gpio overlay loaded?)")))
        let two = bus(["28-aa/w1_slave": good, "28-bb/w1_slave": good])
        defer { two.remove() }
        #expect(await read(two) == .failure(SensorError("2 thermometers in \(two.root) (28-aa, 28-bb): set id")))
        #expect(try await read(two, id: "28-bb").get() == 23.125)
        #expect(await read(two, id: "28-cc") == .failure(SensorError("\(two.root)/28-cc/w1_slave: No such file or directory (probe unplugged?)")))
    }
}

extension SensorError: Equatable {
    public static func == (a: SensorError, b: SensorError) -> Bool { a.description == b.description }
}
