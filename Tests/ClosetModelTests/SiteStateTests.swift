import ClosetModel
import Testing

@Suite struct SiteStateTests {
    let t0 = Timestamp(secondsSinceEpoch: 1_800_000_000)
    func t(_ s: Double) -> Timestamp { t0.advanced(by: .milliseconds(Int64(s * 1000))) }

    func site() -> SiteState {
        var s = SiteState(site: "test")
        s.register("ups", policy: DevicePolicy(kind: .ups, driver: "test", rules: DevicePolicy.defaultRules(for: .ups)))
        s.register(
            "probe",
            policy: DevicePolicy(
                kind: .sensor, driver: "test",
                rules: [BoundRule(VariablePattern("ambient.temperature"), .limits(.init(warnHigh: 30, critHigh: 40, hysteresis: 1)))]))
        s.register(
            "core1",
            policy: DevicePolicy(
                kind: .switch, driver: "test",
                rules: [BoundRule(VariablePattern("port.*.oper"), .expect(values: ["up"], level: .crit))],
                staleLevel: .crit))
        return s
    }

    func ups(_ status: UPSStatus, charge: Double, at time: Timestamp) -> PollOutcome {
        .readings([
            Reading(.upsStatus, .status(status), time: time),
            Reading(.batteryCharge, .number(charge), unit: .percent, time: time),
        ])
    }

    @Test func devicesStartUnknownAndFirstOKReadingsMakeNoDeviceEvents() {
        var s = site()
        #expect(s.health == .unknown)
        #expect(s.device("ups")?.freshness == .neverRead)
        let events = s.apply(ups([.onLine, .charging], charge: 100, at: t(0)), device: "ups", at: t(0))
        #expect(events.isEmpty)
        #expect(s.device("ups")?.health == .ok)
        #expect(s.device("ups")?.freshness == .fresh)
        #expect(s.health == .unknown, "the other devices are still never read")
    }

    @Test func goingOnBatteryIsAStatusChangeAndAHealthChange() {
        var s = site()
        _ = s.apply(ups([.onLine, .charging], charge: 100, at: t(0)), device: "ups", at: t(0))
        let all = s.apply(ups([.onBattery, .discharging], charge: 97, at: t(10)), device: "ups", at: t(10))
        #expect(all.last?.device == nil && all.last?.new == "WARN", "the site follows its worst device")
        let events = all.filter { $0.device == "ups" }
        #expect(events.count == 2)
        let health = events[0]
        #expect(health.kind == .health && health.device == "ups" && health.variable == .upsStatus)
        #expect(health.old == "OK" && health.new == "WARN" && health.reason == "on battery")
        #expect(health.time == t(10))
        let status = events[1]
        #expect(status.kind == .status && status.old == "OL CHRG" && status.new == "OB DISCHRG")
        #expect(status.reason == "+OB DISCHRG -OL CHRG")
        #expect(status.level == .warn)

        let low = s.apply(ups([.onBattery, .discharging, .lowBattery], charge: 9, at: t(20)), device: "ups", at: t(20))
            .filter { $0.device == "ups" }
        #expect(low.map(\.kind) == [.health, .status])
        #expect(low[0].new == "CRIT" && low[0].reason == "on battery, battery low")
        #expect(low[1].reason == "+LB")
        #expect(s.device("ups")?.health == .crit)
    }

    @Test func siteHealthIsTheWorstDeviceAndItsChangesAreEvents() {
        var s = site()
        _ = s.apply(ups([.onLine], charge: 100, at: t(0)), device: "ups", at: t(0))
        _ = s.apply(.readings([Reading(.ambientTemperature, .number(25), time: t(0))]), device: "probe", at: t(0))
        let events = s.apply(.readings([Reading(.port(1, .oper), .text("up"), time: t(0))]), device: "core1", at: t(0))
        #expect(events.count == 1)
        #expect(events[0].device == nil && events[0].old == "UNKNOWN" && events[0].new == "OK")
        #expect(s.health == .ok)
        let hot = s.apply(.readings([Reading(.ambientTemperature, .number(41), unit: .celsius, time: t(5))]), device: "probe", at: t(5))
        #expect(hot.map(\.kind) == [.health, .health])
        #expect(hot[0].device == "probe" && hot[0].new == "CRIT" && hot[0].reason == "41 degC >= crit 40 degC")
        #expect(hot[1].device == nil && hot[1].new == "CRIT" && hot[1].reason == "worst: probe")
    }

    @Test func aFailedPollMarksStaleKeepsReadingsAndRecovers() {
        var s = site()
        _ = s.apply(.readings([Reading(.port(1, .oper), .text("up"), time: t(0))]), device: "core1", at: t(0))
        let down = s.apply(.failed(reason: "timed out after 2s"), device: "core1", at: t(10))
        #expect(down.count == 2)
        #expect(down[0].kind == .freshness && down[0].old == "fresh" && down[0].new == "stale")
        #expect(down[0].level == .crit && down[0].reason == "timed out after 2s")
        let device = s.device("core1")!
        #expect(device.freshness == .stale(reason: "timed out after 2s", since: t(10)))
        #expect(device.health == .crit)
        #expect(device.readings[.port(1, .oper)]?.value == .text("up"), "last known state kept")
        #expect(device.readings[.port(1, .oper)]?.time == t(0))

        // Further failures update the reason but not the start of the outage, and make no event.
        let again = s.apply(.failed(reason: "no response"), device: "core1", at: t(20))
        #expect(again.isEmpty)
        #expect(s.device("core1")?.freshness == .stale(reason: "no response", since: t(10)))
        #expect(s.device("core1")?.consecutiveFailures == 2)

        let back = s.apply(.readings([Reading(.port(1, .oper), .text("up"), time: t(30))]), device: "core1", at: t(30))
        #expect(back[0].kind == .freshness && back[0].new == "fresh")
        #expect(back[0].reason.contains("after 2 failed polls"))
        #expect(s.device("core1")?.health == .ok)
        #expect(s.device("core1")?.consecutiveFailures == 0)
    }

    @Test func aWatchedValueChangeIsAnEventEvenWhenTheLevelStays() {
        var s = site()
        _ = s.apply(.readings([Reading(.port(3, .oper), .text("down"), time: t(0))]), device: "core1", at: t(0))
        let events = s.apply(.readings([Reading(.port(3, .oper), .text("lowerLayerDown"), time: t(5))]), device: "core1", at: t(5))
        #expect(events.count == 1)
        #expect(events[0].kind == .change && events[0].old == "down" && events[0].new == "lowerLayerDown")
        let up = s.apply(.readings([Reading(.port(3, .oper), .text("up"), time: t(10))]), device: "core1", at: t(10))
        #expect(up.filter { $0.device == "core1" }.map(\.kind) == [.health])
        #expect(up[0].old == "CRIT" && up[0].new == "OK")
    }

    @Test func aProblemVariableThatDisappearsIsCleared() {
        var s = site()
        _ = s.apply(.readings([Reading(.port(3, .oper), .text("down"), time: t(0))]), device: "core1", at: t(0))
        let events = s.apply(.readings([Reading(.port(4, .oper), .text("up"), time: t(5))]), device: "core1", at: t(5))
        #expect(events.first?.variable == .port(3, .oper))
        #expect(events.first?.reason == "no longer reported")
        #expect(s.device("core1")?.health == .ok)
    }

    @Test func hysteresisStateSurvivesAnOutage() {
        var s = site()
        _ = s.apply(.readings([Reading(.ambientTemperature, .number(31), time: t(0))]), device: "probe", at: t(0))
        _ = s.apply(.failed(reason: "CRC error"), device: "probe", at: t(5))
        let events = s.apply(.readings([Reading(.ambientTemperature, .number(29.5), time: t(10))]), device: "probe", at: t(10))
        #expect(events.filter { $0.kind == .health && $0.device == "probe" }.isEmpty, "29.5 is within the 1 degree hysteresis")
        #expect(s.device("probe")?.health == .warn)
    }

    @Test func unknownDevicesAreIgnored() {
        var s = site()
        #expect(s.apply(.failed(reason: "x"), device: "nope", at: t(0)).isEmpty)
    }
}
