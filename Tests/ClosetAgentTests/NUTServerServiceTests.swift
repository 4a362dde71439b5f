import ClosetAgent
import ClosetConfig
import ClosetModel
import ClosetTesting
import Foundation
import Logging
import Testing

/// The agent's NUT server with NUT's own `upsmon` as a closet server would run it: when the
/// agent decides the battery is critical it sets FSD, and upsmon runs its SHUTDOWNCMD.
@Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: NUTDaemons.upsmonPath), "needs Debian's nut-client (tools/setup)"))
struct NUTServerServiceTests {
    @Test func upsmonShutsItsServerDownWhenTheAgentSignalsFSD() async throws {
        let tree = FixtureTree(prefix: "closet-upsmon")
        defer { tree.remove() }
        var state = SiteState(site: "t")
        state.register("ups", policy: DevicePolicy(kind: .ups, driver: "modbus"))
        let store = StateStore(state: state, logger: Logger(label: "t", factory: { _ in SwiftLogNoOpLogHandler() }))
        func apply(_ status: UPSStatus, charge: Double) async {
            let t = WallClock().now
            await store.apply(
                .readings([
                    Reading(.upsStatus, .status(status), time: t), Reading(.batteryCharge, .number(charge), unit: .percent, time: t),
                    Reading(.batteryRuntime, .number(charge * 30), unit: .second, time: t),
                ]), device: "ups", at: t)
        }
        await apply([.onLine], charge: 100)
        var config = NUTServerConfiguration()
        config.port = freeLoopbackPort()
        config.users = [.init(name: "mon", password: "pass-word", primary: false)]
        config.fsdCharge = 20
        config.fsdRuntime = nil
        let service = try NUTServerService(config, store: store, clock: WallClock(), logger: Logger(label: "t", factory: { _ in SwiftLogNoOpLogHandler() }))
        let running = Task { try await service.run() }
        defer { running.cancel() }

        let flag = tree.path("shutdown-ran")
        tree.file("conf/upsmon.conf", """
            MONITOR ups@127.0.0.1:\(config.port) 1 mon pass-word secondary
            MINSUPPLIES 1
            SHUTDOWNCMD "/bin/sh -c 'echo shutdown > \(flag)'"
            POLLFREQ 1
            POLLFREQALERT 1
            DEADTIME 15
            FINALDELAY 0
            POWERDOWNFLAG \(tree.path("state/killpower"))

            """, mode: 0o600)
        tree.directory("state")
        mkdir("/run/nut", 0o770)
        let user = String(cString: getpwuid(getuid())!.pointee.pw_name)
        let upsmon = try ChildProcess(
            NUTDaemons.upsmonPath, ["-D", "-u", user], logPath: tree.path("upsmon.log"),
            environment: ["NUT_CONFPATH": tree.path("conf"), "NUT_STATEPATH": tree.path("state"), "NUT_ALTPIDPATH": tree.path("state")])
        defer { upsmon.stop() }
        #expect(await waitUntil(timeout: .seconds(20)) { upsmon.log.contains("Logged into UPS") }, "upsmon logged in: \(upsmon.log)")

        // A power cut: on battery at 60 %: upsmon notices, nothing shuts down.
        await apply([.onBattery, .discharging], charge: 60)
        #expect(await waitUntil(timeout: .seconds(20)) { upsmon.log.contains("on battery") }, "upsmon saw the power cut: \(upsmon.log)")
        try await Task.sleep(for: .seconds(2))
        #expect(!FileManager.default.fileExists(atPath: flag), "no shutdown at 60 %")
        // The charge falls to the floor: FSD, and upsmon runs SHUTDOWNCMD.
        await apply([.onBattery, .discharging], charge: 18)
        #expect(await waitUntil(timeout: .seconds(20)) { FileManager.default.fileExists(atPath: flag) }, "upsmon ran its SHUTDOWNCMD: \(upsmon.log)")
        #expect(upsmon.log.contains("forced shutdown in progress"))
    }
}
