import ClosetModel
import ClosetTesting
import Dispatch
import Foundation
import Testing

@testable import ClosetNUT

let servedUPS = NUTServedUPS(
    name: "ups", description: "modbus UPS read by closet-agent",
    variables: ["battery.charge": "93", "ups.status": "OL", "device.mfr": "American Power Conversion"], stale: false)
let users = [NUTServerUser(name: "mon", password: "s3cret", primary: false), NUTServerUser(name: "boss", password: "b0ss", primary: true)]

@Suite struct NUTServerSessionTests {
    func run(_ lines: [String], upses: [String: NUTServedUPS] = ["ups": servedUPS]) -> [[String]] {
        var session = NUTServerSession()
        return lines.map { session.handle($0, upses: upses, users: users) { _ in 2 }.lines }
    }

    @Test func readsLikeUpsd() {
        let out = run(["GET VAR ups battery.charge", "GET VAR ups nope", "GET VAR other battery.charge", "LIST UPS", "LIST VAR ups", "GET NUMLOGINS ups", "GET UPSDESC ups", "GET TYPE ups battery.charge", "GET TYPE ups device.mfr"])
        #expect(out[0] == [#"VAR ups battery.charge "93""#])
        #expect(out[1] == ["ERR VAR-NOT-SUPPORTED"])
        #expect(out[2] == ["ERR UNKNOWN-UPS"])
        #expect(out[3] == ["BEGIN LIST UPS", #"UPS ups "modbus UPS read by closet-agent""#, "END LIST UPS"])
        #expect(out[4] == ["BEGIN LIST VAR ups", #"VAR ups battery.charge "93""#, #"VAR ups device.mfr "American Power Conversion""#, #"VAR ups ups.status "OL""#, "END LIST VAR ups"])
        #expect(out[5] == ["NUMLOGINS ups 2"])
        #expect(out[6] == [#"UPSDESC ups "modbus UPS read by closet-agent""#])
        #expect(out[7] == ["TYPE ups battery.charge NUMBER"])
        #expect(out[8] == ["TYPE ups device.mfr STRING:25"])
    }

    @Test func staleDataIsRefusedAsUpsdDoes() {
        var stale = servedUPS
        stale.stale = true
        let out = run(["GET VAR ups battery.charge", "LIST VAR ups"], upses: ["ups": stale])
        #expect(out == [["ERR DATA-STALE"], ["ERR DATA-STALE"]])
    }

    @Test func loginNeedsAUserAndOnlyAPrimaryMaySetFSD() {
        #expect(run(["LOGIN ups"]) == [["ERR USERNAME-REQUIRED"]])
        #expect(run(["USERNAME mon", "LOGIN ups"]) == [["OK"], ["ERR PASSWORD-REQUIRED"]])
        #expect(run(["USERNAME mon", "PASSWORD wrong", "LOGIN ups"]).last == ["ERR ACCESS-DENIED"])
        #expect(run(["USERNAME mon", "USERNAME again"]).last == ["ERR ALREADY-SET-USERNAME"])
        #expect(
            run(["USERNAME mon", "PASSWORD s3cret", "LOGIN ups", "LOGIN ups", "PRIMARY ups", "FSD ups"])
                == [["OK"], ["OK"], ["OK"], ["ERR ALREADY-LOGGED-IN"], ["ERR ACCESS-DENIED"], ["ERR ACCESS-DENIED"]])
        var session = NUTServerSession()
        var outcomes: [NUTServerSession.Outcome] = []
        for line in ["USERNAME boss", "PASSWORD b0ss", "LOGIN ups", "MASTER ups", "FSD ups"] {
            outcomes.append(session.handle(line, upses: ["ups": servedUPS], users: users) { _ in 0 })
        }
        #expect(outcomes.map(\.lines) == [["OK"], ["OK"], ["OK"], ["OK MASTER-GRANTED"], ["OK FSD-SET"]])
        #expect(outcomes[2].login == "ups")
        #expect(outcomes[4].forcedShutdown == "ups")
    }

    @Test func readOnlyAndGarbageGetErrorsNotCrashes() {
        #expect(run(["SET VAR ups ups.delay.shutdown 10", "INSTCMD ups shutdown.return"]) == [["ERR ACCESS-DENIED"], ["ERR ACCESS-DENIED"]])
        #expect(run(["BOGUS", "GET", "GET VAR", #"GET VAR "ups"#, "LIST", "LIST ENUM ups nope"]) == [
            ["ERR UNKNOWN-COMMAND"], ["ERR INVALID-ARGUMENT"], ["ERR INVALID-ARGUMENT"], ["ERR INVALID-ARGUMENT unbalanced quotes"],
            ["ERR INVALID-ARGUMENT"], ["ERR VAR-NOT-SUPPORTED"],
        ])
        var session = NUTServerSession()
        let long = session.handle(String(repeating: "A", count: 600), upses: [:], users: []) { _ in 0 }
        #expect(long.close && long.lines == ["ERR INVALID-ARGUMENT line too long"])
        #expect(run(["LOGOUT"]) == [["OK Goodbye"]])
        // Random bytes: always an answer, never a trap.
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let bytes = (0..<Int.random(in: 0..<80, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            var s = NUTServerSession()
            _ = s.handle(String(decoding: bytes, as: UTF8.self), upses: ["ups": servedUPS], users: users) { _ in 0 }
        }
    }
}

@Suite struct NUTExportTests {
    func state(_ status: UPSStatus, charge: Double, runtime: Double, fresh: Bool = true) -> SiteState {
        var state = SiteState(site: "t")
        state.register("ups", policy: DevicePolicy(kind: .ups, driver: "modbus"))
        let t = Timestamp(secondsSinceEpoch: 1_800_000_000)
        _ = state.apply(
            .readings([
                Reading(.upsStatus, .status(status), time: t), Reading(.batteryCharge, .number(charge), unit: .percent, time: t),
                Reading(.batteryRuntime, .number(runtime), unit: .second, time: t),
            ]), device: "ups", at: t)
        if !fresh { _ = state.apply(.failed(reason: "timeout"), device: "ups", at: t) }
        return state
    }

    @Test func forcedShutdownAtTheFloorsStaysUntilMainsReturn() {
        var export = NUTExport(chargeFloor: 20, runtimeFloor: .seconds(180))
        var r = export.update(state(.onLine, charge: 100, runtime: 1800))
        #expect(r.upses["ups"]?.variables["ups.status"] == "OL")
        #expect(r.upses["ups"]?.variables["battery.charge"] == "100")
        r = export.update(state([.onBattery, .discharging], charge: 45, runtime: 900))
        #expect(r.upses["ups"]?.variables["ups.status"] == "OB DISCHRG" && r.set.isEmpty)
        r = export.update(state([.onBattery, .discharging], charge: 40, runtime: 170))
        #expect(r.upses["ups"]?.variables["ups.status"] == "FSD OB DISCHRG")
        #expect(r.set.first?.1 == "on battery, runtime 170 s <= 3m")
        r = export.update(state([.onBattery, .discharging], charge: 41, runtime: 200))
        #expect(r.upses["ups"]?.variables["ups.status"] == "FSD OB DISCHRG", "FSD is not taken back while on battery")
        #expect(r.set.isEmpty, "set once")
        r = export.update(state([.onLine, .charging], charge: 42, runtime: 220))
        #expect(r.upses["ups"]?.variables["ups.status"] == "OL CHRG" && r.cleared == ["ups"])
    }

    @Test func lowBatteryFromTheUPSOrTheChargeFloor() {
        var export = NUTExport(chargeFloor: 20, runtimeFloor: nil)
        #expect(export.update(state([.onBattery, .lowBattery], charge: 60, runtime: 900)).set.first?.1 == "on battery and the UPS reports low battery")
        var other = NUTExport(chargeFloor: 20, runtimeFloor: nil)
        #expect(other.update(state([.onBattery], charge: 20, runtime: 10)).set.first?.1 == "on battery, charge 20 % <= 20 %")
        var none = NUTExport(chargeFloor: nil, runtimeFloor: nil)
        #expect(none.update(state([.onBattery], charge: 5, runtime: 10)).set.isEmpty, "no floors: only the UPS's LB")
    }

    @Test func staleDevicesAreServedStale() {
        var export = NUTExport()
        #expect(export.update(state(.onLine, charge: 100, runtime: 1800, fresh: false)).upses["ups"]?.stale == true)
    }
}

/// The server with the real `upsc` from Debian's nut-client.
@Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/upsc"), "needs Debian's nut-client (tools/setup)"))
struct NUTServerTests {
    func start(maxClients: Int = 32) throws -> (NUTServer, Int) {
        let port = freeLoopbackPort()
        let server = try NUTServer(settings: .init(addresses: ["127.0.0.1"], port: port, maxClients: maxClients, users: users))
        server.update(["ups": servedUPS])
        DispatchQueue.global().async { server.run(onForcedShutdown: { _, _ in }, log: { _ in }) }
        return (server, port)
    }

    /// stdout: the answer; stderr: upsc's errors (and its "Init SSL" notice).
    func upsc(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let r = try runProgram("/usr/bin/upsc", arguments)
        return (r.status, r.status == 0 ? r.out : r.err)
    }

    @Test func stockUpscReadsTheAgentsUPS() throws {
        let (server, port) = try start()
        defer { server.stop() }
        let all = try upsc(["ups@127.0.0.1:\(port)"])
        #expect(all.status == 0)
        #expect(all.output.contains("battery.charge: 93\n") && all.output.contains("device.mfr: American Power Conversion\n"))
        #expect(try upsc(["ups@127.0.0.1:\(port)", "ups.status"]).output == "OL\n")
        #expect(try upsc(["-l", "127.0.0.1:\(port)"]).output == "ups\n")
        let missing = try upsc(["nosuch@127.0.0.1:\(port)"])
        #expect(missing.status != 0 && missing.output.contains("Unknown UPS"))
    }

    @Test func garbageTooLongLinesAndTooManyConnectionsAreDroppedAloneOthersCarryOn() async throws {
        let (server, port) = try start(maxClients: 4)
        defer { server.stop() }
        // A well-behaved client, logged in, stays connected throughout.
        let good = try connectLoopback(port)
        defer { close(good) }
        func ask(_ fd: Int32, _ line: String) -> String {
            _ = Array((line + "\n").utf8).withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
            var buffer = [UInt8](repeating: 0, count: 4096)
            var tv = timeval(tv_sec: 10, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            return n > 0 ? String(decoding: buffer[..<n], as: UTF8.self) : ""
        }
        #expect(ask(good, "GET VAR ups ups.status") == "VAR ups ups.status \"OL\"\n")
        // Binary garbage, then an endless line.
        let noisy = try connectLoopback(port)
        defer { close(noisy) }
        #expect(ask(noisy, String(decoding: [0xFF, 0x00, 0x1B, 0x5B, 0x22], as: UTF8.self)).hasPrefix("ERR"))
        let flood = Array(repeating: UInt8(ascii: "A"), count: 4000)
        _ = flood.withUnsafeBytes { send(noisy, $0.baseAddress, $0.count, 0) }
        #expect(ask(noisy, "").contains("ERR INVALID-ARGUMENT line too long"))
        // Connections over the limit are refused with a reason.
        var extra: [Int32] = []
        for _ in 0..<6 { extra.append(try connectLoopback(port)) }
        defer { extra.forEach { close($0) } }
        var refused = 0
        for fd in extra where ask(fd, "VER").contains("too many connections") { refused += 1 }
        #expect(refused >= 3)
        #expect(ask(good, "GET VAR ups battery.charge") == "VAR ups battery.charge \"93\"\n", "the good client was not affected")
    }

    @Test func aHundredConcurrentUpscClientsAllGetTheRightAnswer() async throws {
        let (server, port) = try start(maxClients: 200)
        defer { server.stop() }
        let answers = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<100 {
                group.addTask { try self.upsc(["ups@127.0.0.1:\(port)", "battery.charge"]).output }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(answers.count == 100)
        #expect(answers.allSatisfy { $0 == "93\n" })
    }
}
