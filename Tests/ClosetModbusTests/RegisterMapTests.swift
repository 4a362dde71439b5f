import ClosetConfig
import ClosetModel
import Testing

@testable import ClosetModbus

func builtIn(_ name: String) throws -> RegisterMap {
    let d = ConfigDiagnostics(file: "test")
    let text = try #require(BuiltInMaps.all.first { $0.name == name }?.text)
    let map = RegisterMapReader.parse(text, file: name, defaultName: name, into: d)
    #expect(d.issues.isEmpty, "\(d.issues)")
    return try #require(map)
}

@Suite struct RegisterMapTests {
    let t0 = Timestamp(secondsSinceEpoch: 1_800_000_000)

    @Test func coalescingCutsTheAPCPollFromThirteenReadsToTwo() throws {
        let map = try builtIn("apc-smt")
        #expect(ReadPlanner.plan(map, coalesce: false).count == 13)
        #expect(
            ReadPlanner.plan(map) == [
                ModbusRead(table: .holding, address: 0, count: 20),
                ModbusRead(table: .holding, address: 128, count: 24),
            ])
    }

    @Test func onlyAdjacentRegistersMergeWithoutAGapAllowance() throws {
        let probe = try builtIn("generic-th-probe")
        #expect(ReadPlanner.plan(probe) == [ModbusRead(table: .input, address: 1, count: 2)])
        let sparse = RegisterMap(
            name: "x",
            entries: [
                RegisterEntry(variable: "a.b", address: 10), RegisterEntry(variable: "a.c", address: 12),
                RegisterEntry(variable: "a.d", table: .input, address: 11),
            ])
        #expect(ReadPlanner.plan(sparse).map(\.description) == ["read holding 10..10", "read holding 12..12", "read input 11..11"])
    }

    @Test func readsNeverExceedTheProtocolLimit() {
        let entries = (0..<300).map { RegisterEntry(variable: VariableName("x.r\($0)"), address: $0) }
        let plan = ReadPlanner.plan(RegisterMap(name: "big", entries: entries))
        #expect(plan.map(\.count) == [125, 125, 50])
    }

    @Test func apcRegistersDecodeToNUTVariables() throws {
        let map = try builtIn("apc-smt")
        var snapshot = RegisterSnapshot()
        snapshot.store(ModbusRead(table: .holding, address: 0, count: 20), words: [0, 0b10] + Array(repeating: 0, count: 16) + [2, 0])
        var dynamic = [UInt16](repeating: 0, count: 24)
        dynamic[0] = 0; dynamic[1] = 3600            // runtime
        dynamic[2] = 50 * 512                        // charge
        dynamic[3] = UInt16(27.25 * 32)              // battery voltage
        dynamic[7] = UInt16(bitPattern: -3 * 128)    // temperature below zero
        dynamic[8] = 64                              // load 0.25 %
        dynamic[14] = 230 * 64                       // output voltage
        dynamic[22] = 1 << 6                         // trimming
        dynamic[23] = 0xFFFF                         // input voltage not available
        snapshot.store(ModbusRead(table: .holding, address: 128, count: 24), words: dynamic)
        let values = Dictionary(uniqueKeysWithValues: map.decode(snapshot, at: t0).map { ($0.name.rawValue, $0.value) })
        #expect(values["battery.runtime"] == .number(3600))
        #expect(values["battery.charge"] == .number(50))
        #expect(values["battery.voltage"] == .number(27.25))
        #expect(values["battery.temperature"] == .number(-3))
        #expect(values["ups.load"] == .number(0.25))
        #expect(values["output.voltage"] == .number(230))
        #expect(values["input.voltage"] == nil, "0xFFFF means not available")
        #expect(values["ups.status"] == .status([.onLine, .lowBattery, .trim]))
    }

    @Test func thirtyTwoBitValuesHonourWordOrderAndSign() {
        var snapshot = RegisterSnapshot()
        snapshot.store(ModbusRead(table: .input, address: 0, count: 6), words: [0x0001, 0x0002, 0xFFFF, 0xFFFE, 0x0000, 0x41C8])
        let map = RegisterMap(
            name: "w",
            entries: [
                RegisterEntry(variable: "a.big", table: .input, address: 0, type: .u32),
                RegisterEntry(variable: "a.little", table: .input, address: 0, type: .u32, wordOrder: .little),
                RegisterEntry(variable: "a.neg", table: .input, address: 2, type: .s32),
                RegisterEntry(variable: "a.float", table: .input, address: 4, type: .float32, wordOrder: .little),
            ])
        let values = map.decode(snapshot, at: t0).map(\.value)
        #expect(values == [.number(65538), .number(131073), .number(-2), .number(25)])
    }

    /// Every issue as `line: key: message` from a map file named m.toml.
    func issues(_ text: String) -> [String] {
        let d = ConfigDiagnostics(file: "agent.toml")
        _ = RegisterMapReader.parse(text, file: "m.toml", defaultName: "m", into: d)
        return d.issues.map { "\($0.file):\($0.line): \($0.key): \($0.message)" }
    }

    @Test func overlappingRegistersAreRejectedWithBothLines() {
        #expect(
            issues("[[register]]\nvariable = \"a.b\"\naddress = 10\ntype = \"u32\"\n[[register]]\nvariable = \"a.c\"\naddress = 11\n")
                == ["m.toml:7: register[1].address: holding 11..11 overlaps a.b at holding 10..11 (line 3)"])
    }

    @Test func unknownWidthsAndBadScalesAreRejected() {
        #expect(
            issues("[[register]]\nvariable = \"a.b\"\naddress = 1\ntype = \"u24\"\nscale = 0\n")
                == [
                    "m.toml:4: register[0].type: \"u24\" is not one of \"u16\", \"s16\", \"u32\", \"s32\", \"float32\", \"bool\"",
                    "m.toml:5: register[0].scale: must not be 0",
                ])
        #expect(
            issues("[[register]]\nvariable = \"a.b\"\naddress = 1\nscale = \"x10\"\n")
                == ["m.toml:4: register[0].scale: expected a number, got string \"x10\""])
    }

    @Test func flagBitsMustBeKnownTokensWithinTheWidth() {
        #expect(
            issues("[[flags]]\naddress = 0\nbits = { 1 = \"OL\", 16 = \"OB\", 3 = \"ONBATT\" }\n")
                == [
                    "m.toml:3: flags[0].bits.16: bit must be a number 0..15",
                    "m.toml:3: flags[0].bits.3: \"ONBATT\" is not a status flag (OL OB LB RB CHRG DISCHRG BYPASS OVER TRIM BOOST FSD)",
                ])
    }

    @Test func addressesAndFunctionsAreChecked() {
        #expect(
            issues("[[register]]\nvariable = \"a.b\"\naddress = 70000\nfunction = \"holdings\"\n")
                == [
                    "m.toml:4: register[0].function: \"holdings\" is not one of \"holding\", \"input\", \"coil\", \"discrete\"; did you mean \"holding\"?",
                    "m.toml:3: register[0].address: 70000 is out of range 0...65535",
                ])
        #expect(issues("name = \"empty\"\n") == ["m.toml:1: : a register map needs at least one [[register]] or [[flags]] table"])
    }
}
