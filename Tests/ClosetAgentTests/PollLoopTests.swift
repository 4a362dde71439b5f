import ClosetAgent
import ClosetConfig
import ClosetModel
import ClosetTesting
import Logging
import Testing

/// Hands a ready driver to the agent, as a driver's configuration would build one.
struct GivenDriver: DriverConfiguration {
    let driver: any DeviceDriver
    var summary: [(key: String, value: String)] { [] }
    func makeDriver(_ runtime: DriverRuntime) throws -> any DeviceDriver { driver }
}

/// Waits in real time (bounded) until `condition` holds; the clock under test never moves here.
func eventually(_ what: String, _ condition: () async -> Bool) async -> Bool {
    for _ in 0..<20_000 {
        if await condition() { return true }
        try? await Task.sleep(for: .microseconds(500))
    }
    Issue.record("never happened: \(what)")
    return false
}

@Suite struct PollLoopTests {
    let clock = ManualClock()
    var t0: Timestamp { Timestamp(secondsSinceEpoch: 1_800_000_000) }
    func t(_ s: Int64) -> Timestamp { t0.advanced(by: .seconds(s)) }

    func agent(_ devices: [(String, ScriptedDriver, PollSettings)]) throws -> Agent<ManualClock> {
        let configuration = AgentConfiguration(
            site: "test",
            devices: devices.map {
                DeviceConfiguration(name: $0.0, kind: .sensor, driverName: "scripted", driver: GivenDriver(driver: $0.1), poll: $0.2)
            })
        return try Agent(configuration: configuration, clock: clock, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
    }

    @Test func aDeviceWhosePollHangsForeverDoesNotDelayTheOthers() async throws {
        let hung = ScriptedDriver([.hang])
        let good = ScriptedDriver([.readings([(.ambientTemperature, .number(24))])])
        let settings = PollSettings(interval: .seconds(10), timeout: .seconds(2), maxBackoff: .seconds(60))
        let agent = try agent([("hung", hung, settings), ("good", good, settings)])
        let running = Task { try await agent.run() }
        defer {
            running.cancel()
            hung.releaseHung()
        }

        // t=0: both polled at once; the good one answers, the hung one's timeout is pending.
        #expect(await eventually("first polls") { good.pollTimes == [t(0)] && hung.pollTimes == [t(0)] && clock.deadlines == [t(2), t(10)] })
        #expect(await agent.store.state.device("good")?.freshness == .fresh)

        // t=2: the hung poll is abandoned and the device marked stale, at exactly its timeout.
        await clock.advance(by: .seconds(2))
        #expect(await eventually("hung marked stale") { await agent.store.state.device("hung")?.freshness != .neverRead })
        #expect(await agent.store.state.device("hung")?.freshness == .stale(reason: "timed out after 2s", since: t(2)))

        // t=10, 20, 30: the good device keeps its schedule to the nanosecond.
        #expect(await eventually("both asleep") { clock.deadlines == [t(10), t(10)] })
        await clock.advance(by: .seconds(8))
        #expect(await eventually("good poll 1") { good.pollTimes.count == 2 && clock.deadlines == [t(20), t(30)] })
        await clock.advance(by: .seconds(10))
        #expect(await eventually("good poll 2") { good.pollTimes.count == 3 && clock.deadlines == [t(30), t(30)] })
        await clock.advance(by: .seconds(10))
        #expect(await eventually("good poll 3") { good.pollTimes.count == 4 && clock.deadlines == [t(40), t(70)] })
        #expect(good.pollTimes == [t(0), t(10), t(20), t(30)])
        let reading = await agent.store.state.device("good")?.readings[.ambientTemperature]
        #expect(reading?.time == t(30))

        // The stuck driver is never polled twice: while its first call hangs, the device stays
        // stale with that reason, retried with backoff (10 s, then 20 s).
        #expect(hung.pollTimes == [t(0)])
        let state = await agent.store.state.device("hung")
        guard case .stale(let reason, let since) = state?.freshness else {
            Issue.record("not stale")
            return
        }
        #expect(since == t(2))
        #expect(reason.hasPrefix("previous poll has not returned since \(t(0))"))
        #expect(state?.consecutiveFailures == 3, "timed out at 2 s, then failed at once at 10 s and 30 s")
    }

    @Test func aFailingDeviceIsRetriedWithBackoffAndRecovers() async throws {
        let flaky = ScriptedDriver(
            [.fail("CRC error"), .fail("CRC error"), .fail("no response"), .readings([(.ambientHumidity, .number(55))])])
        let agent = try agent([("probe", flaky, PollSettings(interval: .seconds(10), timeout: .seconds(2), maxBackoff: .seconds(30)))])
        let running = Task { try await agent.run() }
        defer { running.cancel() }

        #expect(await eventually("first poll") { flaky.pollTimes.count == 1 && clock.deadlines == [t(10)] })
        // Failures retried after 10 s, 20 s, then 30 s (capped), then back to the interval.
        for (advance, count, next) in [(10, 2, 30), (20, 3, 60), (30, 4, 70), (10, 5, 80)] as [(Int64, Int, Int64)] {
            await clock.advance(by: .seconds(advance))
            #expect(await eventually("poll \(count)") { flaky.pollTimes.count == count && clock.deadlines == [t(next)] })
        }
        #expect(flaky.pollTimes == [t(0), t(10), t(30), t(60), t(70)])
        let events = await agent.store.recentEvents.filter { $0.device == "probe" }
        #expect(events.map(\.kind) == [.freshness, .freshness])
        #expect(events[0].new == "stale" && events[0].reason == "CRC error" && events[0].time == t(0))
        #expect(events[1].new == "fresh" && events[1].time == t(60))
        #expect(events[1].reason == "answering again after 3 failed polls since \(t(0)) (last error: no response)")
        #expect(await agent.store.state.device("probe")?.health == .ok)
    }

    @Test func pollAllOnceWaitsOnlyForTheTimeout() async throws {
        let hung = ScriptedDriver([.hang])
        let good = ScriptedDriver([.readings([(.ambientTemperature, .number(24))])])
        let agent = try agent([
            ("hung", hung, PollSettings(interval: .seconds(10), timeout: .seconds(3))),
            ("good", good, PollSettings(interval: .seconds(10), timeout: .seconds(3))),
        ])
        defer { hung.releaseHung() }
        let once = Task { await agent.pollAllOnce(clock: clock) }
        #expect(await eventually("timeout armed") { clock.deadlines == [t(3)] && good.pollTimes.count == 1 && hung.pollTimes.count == 1 })
        await clock.advance(by: .seconds(3))
        let state = await once.value
        #expect(state.device("good")?.freshness == .fresh)
        #expect(state.device("hung")?.freshness == .stale(reason: "timed out after 3s", since: t(3)))
        #expect(state.health == .unknown)
    }

    @Test func cancellationStopsTheLoopPromptly() async throws {
        let good = ScriptedDriver([.readings([(.ambientTemperature, .number(24))])])
        let agent = try agent([("good", good, PollSettings())])
        let running = Task { try await agent.run() }
        #expect(await eventually("asleep") { clock.deadlines == [t(10)] })
        running.cancel()
        try await running.value
        #expect(clock.sleeperCount == 0)
    }
}
