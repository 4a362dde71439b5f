import ClosetConfig
import ClosetModel
import ClosetTesting
import Testing

@testable import ClosetModbus

@Suite struct ModbusConfigTests {
    let loader = ConfigLoader(drivers: [ModbusDriver.factory])

    func load(_ text: String, files: [String: String] = [:]) -> (AgentConfiguration?, [String]) {
        let tree = FixtureTree()
        defer { tree.remove() }
        for (name, body) in files { tree.file(name, body) }
        let d = ConfigDiagnostics(file: "agent.toml")
        let c = loader.parse(text, diagnostics: d, directory: tree.root)
        return (c, d.sortedIssues.map { "\($0.file.hasPrefix("/") ? String($0.file.split(separator: "/").last!) : $0.file):\($0.line): \($0.key): \($0.message)" })
    }

    let head = "[agent]\nsite = \"s\"\n\n"

    @Test func rtuAndTCPDevicesWithBuiltInMaps() throws {
        let (config, issues) = load(
            head + """
                [[ups]]
                name = "ups"
                driver = "modbus"
                device = "/dev/serial/by-id/usb-FTDI-if00"
                baud = 19200
                parity = "even"
                unit = 1
                map = "apc-smt"

                [[sensor]]
                name = "rack"
                driver = "modbus"
                host = "127.0.0.1"
                port = 5020
                unit = 2
                map = "generic-th-probe"
                response_timeout = "250ms"
                """)
        #expect(issues.isEmpty, "\(issues)")
        let ups = try #require(config?.devices[0].driver as? ModbusDriver.Configuration)
        #expect(ups.endpoint == .rtu(device: "/dev/serial/by-id/usb-FTDI-if00", baud: 19200, parity: .even, dataBits: 8, stopBits: 1, rs485: false))
        #expect(ups.map.name == "apc-smt")
        let probe = try #require(config?.devices[1].driver as? ModbusDriver.Configuration)
        #expect(probe.endpoint == .tcp(host: "127.0.0.1", port: 5020) && probe.unit == 2)
        #expect(probe.responseTimeout == .milliseconds(250))
    }

    @Test func aMapFileIsReadRelativeToTheConfigAndItsErrorsNameItsLines() {
        let (_, issues) = load(
            head + "[[sensor]]\nname = \"p\"\ndriver = \"modbus\"\nhost = \"127.0.0.1\"\nmap = \"maps/probe.toml\"\n",
            files: ["maps/probe.toml": "[[register]]\nvariable = \"ambient.temperature\"\naddress = 1\ntype = \"i16\"\n"])
        #expect(issues == ["probe.toml:4: register[0].type: \"i16\" is not one of \"u16\", \"s16\", \"u32\", \"s32\", \"float32\", \"bool\"; did you mean \"s16\"?"])
    }

    @Test func anInlineMapInTheConfig() throws {
        let (config, issues) = load(
            head + """
                [[sensor]]
                name = "meter"
                driver = "modbus"
                host = "127.0.0.1"
                [sensor.map]
                name = "my-meter"
                [[sensor.map.register]]
                variable = "input.voltage"
                function = "input"
                address = 0
                type = "float32"
                word_order = "little"
                unit = "V"
                """)
        #expect(issues.isEmpty, "\(issues)")
        let c = try #require(config?.devices[0].driver as? ModbusDriver.Configuration)
        #expect(c.map.entries == [RegisterEntry(variable: "input.voltage", table: .input, address: 0, type: .float32, wordOrder: .little, unit: .volt)])
    }

    @Test func endpointMistakesAreNamed() {
        #expect(
            load(head + "[[ups]]\nname = \"u\"\ndriver = \"modbus\"\nmap = \"apc-smt\"\n").1
                == ["agent.toml:4: ups[0]: missing 'host' (Modbus TCP) or 'device' (Modbus RTU serial line)"])
        #expect(
            load(head + "[[ups]]\nname = \"u\"\ndriver = \"modbus\"\ndevice = \"ttyUSB0\"\nunit = 300\nmap = \"apc-smx\"\n").1
                == [
                    "agent.toml:7: ups[0].device: must be an absolute path such as /dev/ttyUSB0, got \"ttyUSB0\"",
                    "agent.toml:8: ups[0].unit: 300 is out of range 1...247",
                    "agent.toml:9: ups[0].map: unknown map \"apc-smx\" (built in: apc-smt, generic-th-probe; or a .toml file); did you mean \"apc-smt\"?",
                ])
    }
}
