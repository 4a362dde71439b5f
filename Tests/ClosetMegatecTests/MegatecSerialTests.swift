import ClosetConfig
import ClosetModel
import ClosetTesting
import Foundation
import Testing

@testable import ClosetMegatec

/// A Q1 UPS (tools/sim/megatec-sim.py) behind a socat pseudo-terminal pair.
final class MegatecSimulator: @unchecked Sendable {
    let work = FixtureTree(prefix: "closet-megatec")
    var processes: [ChildProcess] = []
    var agentDevice: String { work.path("ttyUPS") }
    var control: String { work.path("control.json") }

    init() async throws { try await start() }

    func start() async throws {
        let simDevice = work.path("ttySIM")
        processes.append(
            try ChildProcess(
                "/usr/bin/socat", ["-d", "-d", "pty,raw,echo=0,link=\(agentDevice)", "pty,raw,echo=0,link=\(simDevice)"],
                logPath: work.path("socat.log")))
        guard await waitUntil({ FileManager.default.fileExists(atPath: simDevice) }) else {
            throw TestSetupError("socat made no pty: \(processes.last!.log)")
        }
        unlink(work.path("ready"))
        processes.append(
            try ChildProcess(
                try simulatorPython,
                [
                    repositoryRoot + "/tools/sim/megatec-sim.py", "--port", simDevice, "--fixtures", megatecFixturesPath,
                    "--control", control, "--ready", work.path("ready"),
                ], logPath: work.path("sim.log")))
        guard await waitUntil({ FileManager.default.fileExists(atPath: self.work.path("ready")) }) else {
            throw TestSetupError("megatec simulator did not start: \(processes.last!.log)")
        }
    }

    func stop() {
        for p in processes.reversed() { p.stop() }
        processes.removeAll()
    }

    func set(_ json: String) throws { try writeAtomically(control, json) }

    func driver(timeout: Duration = .milliseconds(400)) -> MegatecDriver {
        let c = MegatecDriver.Configuration(device: agentDevice, baud: 2400, answerTimeout: timeout)
        return MegatecDriver(configuration: c, line: MegatecLine(configuration: c))
    }

    deinit {
        stop()
        work.remove()
    }
}

func poll(_ driver: MegatecDriver, at second: Double = 0) async -> Result<[String: ReadingValue], any Error> {
    do {
        return .success(values(try await driver.poll(at: Timestamp(secondsSinceEpoch: second))))
    } catch {
        return .failure(error)
    }
}

func eventuallyPolls(_ driver: MegatecDriver, _ condition: ([String: ReadingValue]) -> Bool) async -> [String: ReadingValue]? {
    for _ in 0..<40 {
        if case .success(let v) = await poll(driver), condition(v) { return v }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return nil
}

@Suite(.serialized, .enabled(if: haveFixtures, "../shared/fixtures/megatec-q1 is absent"))
struct MegatecSerialTests {
    @Test func readsStatusRatingsAndIdentity() async throws {
        let sim = try await MegatecSimulator()
        let v = try #require(await eventuallyPolls(sim.driver()) { _ in true })
        #expect(v["ups.status"] == .status([.onLine]))
        #expect(v["input.voltage"] == .number(226))
        #expect(v["battery.charge"] == .number(100))
        #expect(v["battery.voltage.nominal"] == .number(24))
        #expect(v["device.model"] == .text("MicroSinus"))
        #expect(v["ups.firmware"] == .text("V5.15C0503"))
    }

    @Test func goingOnBatteryAndLowBatteryAreEvents() async throws {
        let sim = try await MegatecSimulator()
        let driver = sim.driver()
        var site = SiteState(site: "t")
        site.register("ups", policy: DevicePolicy(kind: .ups, driver: "megatec", rules: DevicePolicy.defaultRules(for: .ups)))
        var events: [Event] = []
        func apply(_ v: [String: ReadingValue]?, _ second: Double) {
            let time = Timestamp(secondsSinceEpoch: second)
            let readings = (v ?? [:]).map { Reading(VariableName($0.key), $0.value, time: time) }
            events += site.apply(.readings(readings), device: "ups", at: time)
        }
        apply(await eventuallyPolls(driver) { _ in true }, 0)
        try sim.set(#"{"q1": "armac-r2000i-psw-onbatt"}"#)
        apply(await eventuallyPolls(driver) { $0["ups.status"] == .status([.onBattery]) }, 10)
        try sim.set(#"{"q1_line": "(000.0 000.0 220.0 045 00.0 21.6 30.0 11001000"}"#)
        apply(await eventuallyPolls(driver) { $0["ups.status"] == .status([.onBattery, .lowBattery]) }, 20)
        #expect(events.filter { $0.kind == .status }.map { "\($0.old) -> \($0.new)" } == ["OL -> OB", "OB -> OB LB"])
        #expect(site.device("ups")?.health == .crit)
    }

    @Test func silenceGarbageAndNAKGiveReasonsAndThenRecover() async throws {
        let sim = try await MegatecSimulator()
        let driver = sim.driver(timeout: .milliseconds(300))
        _ = await eventuallyPolls(driver) { _ in true }
        try sim.set(#"{"silent": true}"#)
        try await Task.sleep(for: .milliseconds(150))
        guard case .failure(let silent) = await poll(driver) else { Issue.record("answered while silent"); return }
        #expect("\(silent)" == "\(sim.agentDevice): no answer to Q1 within 300ms")
        try sim.set(#"{"garbage": 30}"#)
        try await Task.sleep(for: .milliseconds(150))
        if case .success = await poll(driver) { Issue.record("garbage parsed as a status") }
        try sim.set(#"{"q1_line": "NAK"}"#)
        try await Task.sleep(for: .milliseconds(150))
        guard case .failure(let nak) = await poll(driver) else { Issue.record("NAK accepted"); return }
        #expect("\(nak)" == "\(sim.agentDevice): the UPS does not support Q1 (answered \"NAK\")")
        try sim.set(#"{}"#)
        #expect(await eventuallyPolls(driver) { $0["ups.status"] == .status([.onLine]) } != nil)
    }

    @Test func aSerialAdapterThatIsPulledAndReplugged() async throws {
        let sim = try await MegatecSimulator()
        let driver = sim.driver(timeout: .milliseconds(300))
        _ = await eventuallyPolls(driver) { _ in true }
        sim.stop()
        guard case .failure(let gone) = await poll(driver) else { Issue.record("answered without a device"); return }
        #expect("\(gone)".hasPrefix(sim.agentDevice), "\(gone)")
        try await sim.start()
        #expect(await eventuallyPolls(driver) { $0["ups.status"] == .status([.onLine]) } != nil)
    }
}
