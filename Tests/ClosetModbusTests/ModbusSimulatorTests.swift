import ClosetConfig
import ClosetModel
import ClosetTesting
import Foundation
import Testing

@testable import ClosetModbus

/// The closet's Modbus devices served by pymodbus (tools/sim/modbus-sim.py): an APC SMT on
/// unit 1, probes on units 2..5; any other unit id never answers.
final class ModbusSimulator: @unchecked Sendable {
    let work: FixtureTree
    let control: String
    var processes: [ChildProcess] = []
    /// The serial device the agent opens (RTU), or the TCP port.
    let agentDevice: String
    let port: Int
    let rtu: Bool

    init(rtu: Bool, lineBaud: Int = 0) async throws {
        self.rtu = rtu
        work = FixtureTree(prefix: "closet-modbus")
        control = work.path("control.json")
        agentDevice = work.path("ttyAGENT")
        port = rtu ? 0 : freeLoopbackPort()
        try await start(lineBaud: lineBaud)
    }

    func start(lineBaud: Int = 0) async throws {
        let python = try simulatorPython
        var args = [repositoryRoot + "/tools/sim/modbus-sim.py", "--control", control, "--ready", work.path("ready")]
        if rtu {
            let simDevice = work.path("ttySIM")
            processes.append(
                try ChildProcess(
                    "/usr/bin/socat",
                    ["-d", "-d", "pty,raw,echo=0,link=\(agentDevice)", "pty,raw,echo=0,link=\(simDevice)"],
                    logPath: work.path("socat.log")))
            guard await waitUntil({ FileManager.default.fileExists(atPath: simDevice) }) else {
                throw TestSetupError("socat made no pty: \(processes.last!.log)")
            }
            args += ["--rtu", simDevice]
        } else {
            args += ["--tcp", String(port)]
        }
        if lineBaud > 0 { args += ["--line-baud", String(lineBaud)] }
        unlink(work.path("ready"))
        processes.append(try ChildProcess(python, args, logPath: work.path("sim.log")))
        guard await waitUntil({ FileManager.default.fileExists(atPath: self.work.path("ready")) }) else {
            throw TestSetupError("modbus simulator did not start: \(processes.last!.log)")
        }
    }

    func stop() {
        for p in processes.reversed() { p.stop() }
        processes.removeAll()
    }

    func set(_ json: String) throws { try writeAtomically(control, json) }

    var endpoint: ModbusEndpoint {
        rtu ? .rtu(device: agentDevice, baud: 9600, parity: .none, dataBits: 8, stopBits: 1, rs485: false)
            : .tcp(host: "127.0.0.1", port: port)
    }

    func driver(unit: Int, map: String, bus: ModbusBus? = nil, timeout: Duration = .milliseconds(300)) throws -> ModbusDriver {
        let configuration = ModbusDriver.Configuration(endpoint: endpoint, unit: unit, map: try builtIn(map), responseTimeout: timeout)
        return ModbusDriver(
            configuration: configuration,
            bus: bus ?? ModbusBus(endpoint: endpoint, responseTimeout: timeout, byteTimeout: .milliseconds(100)))
    }

    deinit {
        stop()
        work.remove()
    }
}

/// Polls until a poll succeeds: the first RTU read after the simulator starts may time out,
/// as on a real bus after power-up.
func firstGoodPoll(_ driver: ModbusDriver, attempts: Int = 5) async throws -> [String: ReadingValue] {
    var lastError: (any Error)?
    for _ in 0..<attempts {
        do {
            return values(try await driver.poll(at: Timestamp(secondsSinceEpoch: 0)))
        } catch {
            lastError = error
        }
    }
    throw lastError!
}

func values(_ readings: [Reading]) -> [String: ReadingValue] {
    Dictionary(uniqueKeysWithValues: readings.map { ($0.name.rawValue, $0.value) })
}

func pollError(_ driver: ModbusDriver) async -> String? {
    do {
        _ = try await driver.poll(at: Timestamp(secondsSinceEpoch: 0))
        return nil
    } catch {
        return String(describing: error)
    }
}

@Suite(.serialized) struct ModbusTCPTests {
    @Test func readsTheUPSAndAProbeThroughOneConnection() async throws {
        let sim = try await ModbusSimulator(rtu: false)
        let bus = ModbusBus(endpoint: sim.endpoint, responseTimeout: .milliseconds(300), byteTimeout: .milliseconds(100))
        let ups = try await firstGoodPoll(try sim.driver(unit: 1, map: "apc-smt", bus: bus))
        #expect(ups["ups.status"] == .status([.onLine]))
        #expect(ups["battery.charge"] == .number(100))
        #expect(ups["battery.runtime"] == .number(3600))
        #expect(ups["battery.voltage"] == .number(27.3125))
        #expect(ups["ups.load"] == .number(23))
        #expect(ups["input.voltage"] == .number(229.5))
        #expect(ups["output.frequency"] == .number(50))
        let before = bus.transactions
        let probe = try await firstGoodPoll(try sim.driver(unit: 2, map: "generic-th-probe", bus: bus))
        #expect(probe == ["ambient.temperature": .number(24.5), "ambient.humidity": .number(55)])
        #expect(bus.transactions - before == 1, "temperature and humidity in one read")
    }

    @Test func onBatteryAndLowBatteryBecomeEvents() async throws {
        let sim = try await ModbusSimulator(rtu: false)
        let driver = try sim.driver(unit: 1, map: "apc-smt")
        var site = SiteState(site: "t")
        site.register("ups", policy: DevicePolicy(kind: .ups, driver: "modbus", rules: DevicePolicy.defaultRules(for: .ups)))
        var events: [Event] = []
        func poll(_ second: Int64) async throws {
            let time = Timestamp(secondsSinceEpoch: Double(second))
            events += site.apply(.readings(try await driver.poll(at: time)), device: "ups", at: time)
        }
        try await poll(0)
        try sim.set(#"{"ups": {"1": {"status": "OB", "input_voltage": null, "charge": 80}}}"#)
        #expect(await pollUntil(driver) { (try? $0.get())?["ups.status"] == .status([.onBattery]) })
        try await poll(10)
        try sim.set(#"{"ups": {"1": {"status": "OB", "input_voltage": null, "charge": 9, "low_battery": true}}}"#)
        #expect(await pollUntil(driver) { (try? $0.get())?["battery.charge"] == .number(9) })
        try await poll(20)
        let statusEvents = events.filter { $0.kind == .status }.map { "\($0.old) -> \($0.new)" }
        #expect(statusEvents == ["OL -> OB", "OB -> OB LB"])
        #expect(site.device("ups")?.health == .crit)
        #expect(site.device("ups")?.readings[.inputVoltage] == nil, "absent input voltage (0xFFFF) is not 1024 V")
    }

    @Test func aSilentUnitIsATimeoutThatNamesItAndTheOthersGoOn() async throws {
        let sim = try await ModbusSimulator(rtu: false)
        let bus = ModbusBus(endpoint: sim.endpoint, responseTimeout: .milliseconds(200), byteTimeout: .milliseconds(100))
        let silent = try sim.driver(unit: 7, map: "generic-th-probe", bus: bus)
        let error = await pollError(silent)
        #expect(error == "modbus tcp 127.0.0.1:\(sim.port) unit 7: read input 1..2: no answer within 200ms")
        let probe = try await firstGoodPoll(try sim.driver(unit: 3, map: "generic-th-probe", bus: bus))
        #expect(probe["ambient.humidity"] == .number(55))
    }

    @Test func anExceptionResponseGivesTheReason() async throws {
        let sim = try await ModbusSimulator(rtu: false)
        // A probe has no holding register 128: the device answers "illegal data address".
        let configuration = ModbusDriver.Configuration(
            endpoint: sim.endpoint, unit: 2,
            map: RegisterMap(name: "wrong", entries: [RegisterEntry(variable: "battery.runtime", address: 128)]))
        let driver = ModbusDriver(configuration: configuration, bus: ModbusBus(endpoint: sim.endpoint, responseTimeout: .milliseconds(300), byteTimeout: .milliseconds(100)))
        let error = await pollError(driver)
        #expect(error == "modbus tcp 127.0.0.1:\(sim.port) unit 2: read holding 128..128: exception 2 (Illegal data address)")
    }

    @Test func aServerThatIsDownIsAClearErrorAndRecoveryIsAutomatic() async throws {
        let sim = try await ModbusSimulator(rtu: false)
        let driver = try sim.driver(unit: 2, map: "generic-th-probe")
        _ = try await firstGoodPoll(driver)
        sim.stop()
        let error = await pollError(driver)
        #expect(error?.hasPrefix("modbus tcp 127.0.0.1:\(sim.port)") == true, "\(error ?? "no error")")
        try await sim.start()
        #expect(try await firstGoodPoll(driver)["ambient.temperature"] == .number(24.5))
    }
}

/// Polls until `condition` holds on a poll's result (or its error text), for at most ~5 s.
func pollUntil(_ driver: ModbusDriver, _ condition: (Result<[String: ReadingValue], String>) -> Bool) async -> Bool {
    for _ in 0..<50 {
        let result: Result<[String: ReadingValue], String>
        do {
            result = .success(values(try await driver.poll(at: Timestamp(secondsSinceEpoch: 0))))
        } catch {
            result = .failure(String(describing: error))
        }
        if condition(result) { return true }
        try? await Task.sleep(for: .milliseconds(100))
    }
    return false
}

extension String: @retroactive Error {}

@Suite(.serialized) struct ModbusRTUTests {
    @Test func readsTheClosetOverAPseudoTerminal() async throws {
        let sim = try await ModbusSimulator(rtu: true)
        let bus = ModbusBus(endpoint: sim.endpoint, responseTimeout: .milliseconds(500), byteTimeout: .milliseconds(100))
        let ups = try await firstGoodPoll(try sim.driver(unit: 1, map: "apc-smt", bus: bus, timeout: .milliseconds(500)))
        #expect(ups["ups.status"] == .status([.onLine]))
        #expect(ups["output.voltage"] == .number(230))
        for unit in 2...5 {
            let probe = try await firstGoodPoll(try sim.driver(unit: unit, map: "generic-th-probe", bus: bus, timeout: .milliseconds(500)))
            #expect(probe["ambient.temperature"] == .number(24.5))
        }
    }

    @Test func crcErrorsAndGarbageGiveAReasonAndDoNotWedgeTheBus() async throws {
        let sim = try await ModbusSimulator(rtu: true)
        let driver = try sim.driver(unit: 2, map: "generic-th-probe", timeout: .milliseconds(500))
        _ = try await firstGoodPoll(driver)
        try sim.set(#"{"bad_crc": [2]}"#)
        #expect(await pollUntil(driver) { if case .failure(let e) = $0 { e.contains("Invalid CRC") } else { false } })
        try sim.set(#"{"garbage_before": 7}"#)
        try await Task.sleep(for: .milliseconds(200))
        _ = await pollError(driver)  // whatever the noise makes of this one, the next clean poll works
        try sim.set(#"{}"#)
        try await Task.sleep(for: .milliseconds(200))
        #expect(try await firstGoodPoll(driver)["ambient.humidity"] == .number(55))
    }

    @Test func aSerialDeviceThatDisappearsAndComesBackRecovers() async throws {
        let sim = try await ModbusSimulator(rtu: true)
        let driver = try sim.driver(unit: 3, map: "generic-th-probe", timeout: .milliseconds(300))
        _ = try await firstGoodPoll(driver)
        sim.stop()  // the USB adapter is pulled: the pty vanishes
        let error = await pollError(driver)
        #expect(error?.hasPrefix("modbus rtu \(sim.agentDevice) 9600 8N1 unit 3") == true, "\(error ?? "none")")
        try await sim.start()  // plugged back in
        #expect(try await firstGoodPoll(driver)["ambient.temperature"] == .number(24.5))
    }
}

