import ClosetModel
import ClosetStore
import ClosetTesting
import ClosetUplink
import ClosetWire
import Testing

@Suite struct MonthIntervalsTests {
    let oct31 = MonthIntervals.daysFromCivil(2026, 10, 31) * 86_400

    @Test func monthsAndDays() {
        #expect(MonthIntervals.daysFromCivil(1970, 1, 1) == 0)
        #expect(MonthIntervals.daysFromCivil(2000, 3, 1) == 11_017)
        #expect(MonthIntervals.month(oct31 + 86_399) == "2026-10")
        #expect(MonthIntervals.month(oct31 + 86_400) == "2026-11")
        #expect(MonthIntervals.month(MonthIntervals.daysFromCivil(2024, 2, 29) * 86_400) == "2024-02")
    }

    @Test func timeInAStateIsSplitAtTheMonthAndCountedOnceAcrossKeys() {
        let from = oct31 - 30 * 86_400
        let to = oct31 + 31 * 86_400
        let changes: [(time: Int64, key: String, bad: Bool)] = [
            (oct31 + 85_500, "ups", true),  // 23:45
            (oct31 + 86_400 + 900, "ups", false),  // 00:15 the next day
            (oct31 + 90_000, "a", true), (oct31 + 90_060, "b", true), (oct31 + 90_120, "a", false), (oct31 + 90_180, "b", false),
        ]
        let m = MonthIntervals.byMonth(changes, from: from, to: to)
        #expect(m["2026-10"]?.seconds == 900 && m["2026-10"]?.entries == 1)
        #expect(m["2026-11"]?.seconds == 900 + 180 && m["2026-11"]?.entries == 1, "two overlapping keys are one stretch")
        // A state already bad before the range counts from the range's start, not as an entry.
        let before = MonthIntervals.byMonth([(from - 100, "x", true)], from: from, to: from + 60)
        #expect(before["2026-10"]?.seconds == 60 && before["2026-10"]?.entries == 0)
    }
}

/// The report from records pushed through the real ingest: a power cut across midnight at
/// the month's end, an uplink port down for 10 minutes, a hot day.
@Suite(.serialized) struct ReportTests {
    @Test(arguments: StoreEngine.allCases) func theMonthlyFiguresFromStoredRecords(_ engine: StoreEngine) async throws {
        let store = try await StoreFixture(engine: engine)
        defer { store.stop() }
        let oct31 = MonthIntervals.daysFromCivil(2026, 10, 31) * 86_400
        func at(_ s: Int64) -> Timestamp { Timestamp(nanosecondsSinceEpoch: s * 1_000_000_000) }
        var e = RecordEncoder(site: "", boot: 1, nextSeq: 1)
        var (state, events) = ReferenceCloset.state(at: at(oct31 + 82_800))
        var records = e.records(state: state, events: events, at: at(oct31 + 82_800))
        func step(_ t: Int64, onBattery: Bool = false, down: Set<String> = [], temperature: Double = 24.3) {
            var ev: [Event] = []
            let desks = Set(ReferenceCloset.switches.flatMap { s in s.ports == 52 ? stride(from: 7, through: 52, by: 7).map { "\(s.name):\($0)" } : [] })
            for var p in ReferenceCloset.polls(at: at(t), downPorts: desks.union(down), temperature: temperature) {
                if p.name == "ups", onBattery {
                    p.readings = p.readings.map { $0.name == .upsStatus ? Reading(.upsStatus, .status([.onBattery, .discharging]), time: at(t)) : $0 }
                }
                ev += state.apply(.readings(p.readings), device: p.name, at: at(t))
            }
            records += e.records(state: state, events: ev, at: at(t))
        }
        step(oct31 + 85_500, onBattery: true)  // 23:45
        step(oct31 + 87_300)  // 00:15 on 1 November
        let nov10 = MonthIntervals.daysFromCivil(2026, 11, 10) * 86_400 + 8 * 3600
        step(nov10, down: ["core1:24"], temperature: 33)
        step(nov10 + 600)
        guard case .stored = try await store.push(records) else { Issue.record("not stored"); return }

        let report = try await store.backend.report(from: MonthIntervals.daysFromCivil(2026, 10, 1) * 86_400, to: MonthIntervals.daysFromCivil(2026, 12, 1) * 86_400)
        #expect(report.rows.map(\.month) == ["2026-10", "2026-11"])
        let (oct, nov) = (report.rows[0], report.rows[1])
        #expect(oct.upsOutages == 1 && oct.upsMinutesOnBattery == 15)
        #expect(nov.upsOutages == 0 && nov.upsMinutesOnBattery == 15, "the outage that began in October ends in November")
        // This fixture's access ports have no `level = "ok"` selection: every 7th is down, a
        // WARN, from the first record on (an hour of October, all of November).
        #expect(oct.portsDown.count == 21 && oct.portsDown.values.allSatisfy { $0 == 60 })
        #expect(nov.portsDown["core1 port.24.oper"] == 10)
        #expect(nov.portsDown.filter { $0.key != "core1 port.24.oper" }.values.allSatisfy { $0 == 30 * 24 * 60 })
        #expect(!nov.portsDown.keys.contains { $0.hasPrefix("core2") }, "ports that stayed up are not listed")
        #expect(oct.maxAmbientTemperature == 26.4 && nov.maxAmbientTemperature == 35.1)
        #expect(oct.minutesSilent == 0)
        #expect(report.csv.hasPrefix("site,month,ups_outages,ups_minutes_on_battery,port_down_minutes,ports_down,"))
        #expect(report.csv.contains("\nso-tttt-hanoi,2026-11,0,15.0,907210.0,access1 port.14.oper 43200.0; "))
        #expect(report.csv.contains("; core1 port.24.oper 10.0,0,0.0,35.1,0.0\n"))
        let html = ReportPage.html(report)
        #expect(html.contains("<td>so-tttt-hanoi</td><td>2026-10</td><td>1</td><td>15.0</td>"))
    }
}

@Suite(.serialized) struct RetentionTests {
    @Test(arguments: StoreEngine.allCases) func oldReadingsBecomeHourlyValuesThatChartsAndReportsStillUse(_ engine: StoreEngine) async throws {
        let store = try await StoreFixture(engine: engine)
        defer { store.stop() }
        let now = store.clock.now()
        let old = (now - 40 * 86_400).floorDivided(by: 3600) * 3600  // an hour 40 days ago
        func at(_ s: Int64) -> Timestamp { Timestamp(nanosecondsSinceEpoch: s * 1_000_000_000) }
        var e = RecordEncoder(site: "", boot: 1, nextSeq: 1)
        var (state, events) = ReferenceCloset.state(at: at(old))
        var records = e.records(state: state, events: events, at: at(old))
        // Within that old hour: 24.3, 30, 20 degrees and a short power cut; then today.
        for (t, temperature, onBattery) in [(old + 600, 30.0, true), (old + 1200, 20.0, false), (now - 60, 25.0, false)] {
            var ev: [Event] = []
            for var p in ReferenceCloset.polls(at: at(t), temperature: temperature) {
                if p.name == "ups", onBattery {
                    p.readings = p.readings.map { $0.name == .upsStatus ? Reading(.upsStatus, .status([.onBattery]), time: at(t)) : $0 }
                }
                ev += state.apply(.readings(p.readings), device: p.name, at: at(t))
            }
            records += e.records(state: state, events: ev, at: at(t))
            events = []
        }
        guard case .stored = try await store.push(records) else { Issue.record("not stored"); return }
        let before = try await store.backend.count("readings", site: store.site)
        let folded = try await store.backend.downsample(before: now - 30 * 86_400)
        #expect(folded > 0)
        #expect(try await store.backend.count("readings", site: store.site) == before - folded)
        // The chart over 60 days still sees the old hour: its min and max survive the folding.
        let history = try await store.backend.history(site: store.site, device: "probe-rack1", variable: "ambient.temperature", from: now - 60 * 86_400, to: now, buckets: 60)
        let oldPoint = try #require(history.first)
        #expect(oldPoint.min == 20 && oldPoint.max == 30)
        #expect(abs(oldPoint.mean - (24.3 + 30 + 20) / 3) < 0.01)
        #expect(history.last?.max == 25)
        // The power cut is still counted: ups.status is kept raw.
        let report = try await store.backend.report(from: old - 86_400, to: old + 86_400)
        #expect(report.rows.reduce(0) { $0 + $1.upsOutages } == 1)
        #expect(report.rows.compactMap(\.maxAmbientTemperature).max() == 32.1, "the hottest probe (30 + 2.1) from the hourly max")
        // Folding again changes nothing.
        #expect(try await store.backend.downsample(before: now - 30 * 86_400) == 0)
    }
}
