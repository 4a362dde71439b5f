import ClosetModel
import ClosetTesting
import Foundation
import Testing

@testable import ClosetConsole

/// A fixed closet: a UPS on battery, four probes (one hot), a core switch with a down
/// uplink and an admin-down port, an access switch, a stale device, and some events.
func fixedView() -> ConsoleView {
    let t0 = Timestamp(secondsSinceEpoch: 1_800_000_000)
    var s = SiteState(site: "so-tttt-hanoi")
    s.register("ups", policy: DevicePolicy(kind: .ups, driver: "modbus", rules: DevicePolicy.defaultRules(for: .ups)))
    for name in ["rack-front", "rack-back", "room", "ceiling"] {
        s.register(name, policy: DevicePolicy(kind: .sensor, driver: "modbus", rules: [BoundRule(VariablePattern("ambient.temperature"), .limits(.init(warnHigh: 30, critHigh: 35)))]))
    }
    let uplinks = HealthRule.PortSelector(names: ["Te1/0/*"], level: .crit, role: "uplink")
    s.register("core1", policy: DevicePolicy(kind: .switch, driver: "snmp", rules: [BoundRule(VariablePattern("port.*.oper"), .ports([uplinks], otherwise: .ok))], staleLevel: .crit))
    s.register("access1", policy: DevicePolicy(kind: .switch, driver: "snmp", staleLevel: .warn))
    var events: [Event] = []
    events += s.apply(.readings([
        Reading(.upsStatus, .status([.onLine]), time: t0), Reading(.batteryCharge, .number(100), unit: .percent, time: t0),
    ]), device: "ups", at: t0)
    let t1 = t0.advanced(by: .seconds(60))
    events += s.apply(.readings([
        Reading(.upsStatus, .status([.onBattery, .discharging]), time: t1), Reading(.batteryCharge, .number(87), unit: .percent, time: t1),
        Reading(.batteryRuntime, .number(1800), unit: .second, time: t1), Reading(.upsLoad, .number(31), unit: .percent, time: t1),
        Reading(.inputVoltage, .number(0), unit: .volt, time: t1),
    ]), device: "ups", at: t1)
    for (i, name) in ["rack-front", "rack-back", "room", "ceiling"].enumerated() {
        events += s.apply(.readings([
            Reading(.ambientTemperature, .number([24.5, 36.0, 27.25, 29.0][i]), unit: .celsius, time: t1),
            Reading(.ambientHumidity, .number(55), unit: .relativeHumidity, time: t1),
        ]), device: name, at: t1)
    }
    var ports: [Reading] = []
    for i in 1...12 {
        let name = i > 10 ? "Te1/0/\(i - 10)" : "Gi1/0/\(i)"
        let oper = i == 11 ? "down" : i == 5 ? "down" : "up"
        ports += [Reading(.port(i, .name), .text(name), time: t1), Reading(.port(i, .oper), .text(oper), time: t1),
                  Reading(.port(i, .admin), .text(i == 5 ? "down" : "up"), time: t1)]
    }
    events += s.apply(.readings(ports), device: "core1", at: t1)
    events += s.apply(.failed(reason: "snmp v2c 10.0.0.3:161: no answer within 1s x 2 tries"), device: "access1", at: t1)
    return ConsoleView(
        state: s, events: events,
        configuration: [("core1", [("target", "snmp v2c 10.0.0.2:161"), ("community", "****")])],
        now: t1.advanced(by: .seconds(5)), version: "0.1.0")
}

struct FixedSource: ConsoleDataSource {
    func view() async -> ConsoleView { fixedView() }
    func selftest() async -> [String] { ["  OK    ups: 5 readings, WARN"] }
}

let goldenFolder = repositoryRoot + "/Tests/ClosetConsoleTests/golden/"

func golden(_ name: String, _ lines: [String]) throws {
    let path = goldenFolder + name
    let text = lines.joined(separator: "\n") + "\n"
    if ProcessInfo.processInfo.environment["CLOSET_UPDATE_GOLDEN"] != nil {
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }
    let expected = try String(contentsOfFile: path, encoding: .utf8)
    #expect(text == expected, "\(name) differs; CLOSET_UPDATE_GOLDEN=1 rewrites it after a deliberate change")
}

@Suite struct ConsoleRendererTests {
    @Test func statusFitsOneScreen() throws {
        let lines = ConsoleRenderer(language: .en).status(fixedView())
        #expect(lines.count <= 24)
        #expect(lines.allSatisfy { $0.count <= 80 && $0.allSatisfy(\.isASCII) })
        try golden("status.txt", lines)
    }

    @Test func theUplinkLineShowsTheOutbox() {
        var view = fixedView()
        let r = ConsoleRenderer(language: .en)
        #expect(r.uplink(view) == ["Uplink: not configured (no [uplink] in the config)"])
        view.uplink = "3 waiting, last push ok at 2026-11-29T10:00:00.000Z: 5 records, 312 bytes"
        #expect(r.uplink(view) == ["Uplink: 3 waiting, last push ok at 2026-11-29T10:00:00.000Z: 5 records, 312 bytes"])
        #expect(r.status(view).contains { $0.contains("3 waiting, last push ok") })
    }

    @Test func switchMapGrid() throws {
        let lines = ConsoleRenderer(language: .en).switchMap(fixedView(), name: "core1")
        #expect(lines.allSatisfy { $0.count <= 80 })
        try golden("switch-core1.txt", lines)
    }

    @Test func vietnameseWithAndWithoutDiacritics() {
        let vi = ConsoleRenderer(language: .vi).status(fixedView())
        #expect(vi[0].contains("Trạm so-tttt-hanoi") && vi[0].contains("Tình trạng CRIT"))
        let ascii = ConsoleRenderer(language: .viASCII).status(fixedView())
        #expect(ascii[0].contains("Tram so-tttt-hanoi") && ascii[0].contains("Tinh trang CRIT"))
        #expect(ascii.allSatisfy { $0.allSatisfy(\.isASCII) })
        #expect("Đường truyền".withoutDiacritics == "Duong truyen")
    }
}

@Suite struct ConsoleSessionTests {
    func type(_ s: ConsoleSession, _ text: String) async -> String {
        String(decoding: await s.receive(Array(text.utf8)).output, as: UTF8.self)
    }

    @Test func commandsAnswerAndUnknownOnesSaySo() async {
        let s = ConsoleSession(language: .en, source: FixedSource())
        #expect(await type(s, "ups\r").contains("ups.status                     OB DISCHRG  <- WARN on battery"))
        #expect(await type(s, "events 2\r").contains("access1: never read -> stale"))
        #expect(await type(s, "config\r").contains("community          ****"))
        #expect(await type(s, "selftest\r").contains("OK    ups"))
        #expect(await type(s, "reboot\r").contains("unknown command 'reboot' (help)"))
        #expect(await type(s, "env\r").contains("ambient.temperature            36 degC  <- CRIT 36 degC >= crit 35 degC"))
    }

    @Test func langSwitchesTheSession() async {
        let s = ConsoleSession(language: .en, source: FixedSource())
        #expect(await type(s, "lang vi-ascii\r").contains("ngon ngu: vi-ascii"))
        #expect(await type(s, "status\r").contains("Tinh trang CRIT"))
        #expect(await type(s, "lang fr\r").contains("lang en|vi|vi-ascii"))
    }

    @Test func watchRedrawsUntilAKeyIsPressed() async {
        let s = ConsoleSession(language: .en, source: FixedSource())
        let first = await type(s, "watch switch core1\r")
        #expect(first.contains("[CRIT] core1") && s.isWatching)
        #expect(String(decoding: await s.tick(), as: UTF8.self).contains("(press any key to stop)"))
        let stopped = await type(s, "x")
        #expect(!s.isWatching && stopped.hasSuffix(ConsoleSession.prompt))
        #expect(await s.tick().isEmpty)
    }

    @Test func exitAndCtrlDEndTheSession() async {
        let s = ConsoleSession(language: .en, source: FixedSource())
        #expect(await s.receive(Array("exit\r".utf8)).ended)
        let t = ConsoleSession(language: .vi, source: FixedSource())
        let (out, ended) = await t.receive([0x04])
        #expect(ended && String(decoding: out, as: UTF8.self).contains("tạm biệt"))
    }
}
