import ClosetModel
import ClosetStore
import ClosetTesting
import ClosetUplink
import ClosetWire
import Testing

@Suite(.serialized) struct IngestTests {
    let t0 = Timestamp(secondsSinceEpoch: 1_795_608_000)

    /// The reference closet's first records (dictionary, events, full) and a delta 10 s on
    /// where core1's port 24 goes down.
    func referenceRecords() -> (first: [WireRecord], second: [WireRecord]) {
        var e = RecordEncoder(site: "", boot: 1, nextSeq: 1)
        let (state, events) = ReferenceCloset.state(at: t0)
        let first = e.records(state: state, events: events, at: t0)
        var s2 = state
        var ev: [Event] = []
        let t1 = t0.advanced(by: .seconds(10))
        var down = Set(ReferenceCloset.switches.flatMap { s in s.ports == 52 ? stride(from: 7, through: 52, by: 7).map { "\(s.name):\($0)" } : [] })
        down.insert("core1:24")
        for p in ReferenceCloset.polls(at: t1, downPorts: down, temperature: 26) { ev += s2.apply(.readings(p.readings), device: p.name, at: t1) }
        return (first, e.records(state: s2, events: ev, at: t1))
    }

    @Test(arguments: StoreEngine.allCases) func aValidBatchIsStoredAndAppliedOnce(_ engine: StoreEngine) async throws {
        let store = try await StoreFixture(engine: engine)
        defer { store.stop() }
        let (first, second) = referenceRecords()
        let outcome = try await store.push(first)
        guard case .stored(let through, _, let resync) = outcome else { Issue.record("not stored: \(outcome)"); return }
        #expect(through == 3 && !resync)
        #expect(try await store.backend.latest(site: store.site, device: "probe-rack1", variable: "ambient.temperature") == 24.3)
        #expect(try await store.backend.latest(site: store.site, device: "ups", variable: "battery.charge") == 100)
        let outcome2 = try await store.push(second)
        guard case .stored(let through2, _, _) = outcome2 else { Issue.record("not stored: \(outcome2)"); return }
        #expect(through2 == 5)
        #expect(try await store.backend.latest(site: store.site, device: "probe-rack1", variable: "ambient.temperature") == 26)
        let events = try await store.backend.events(site: store.site)
        #expect(events.contains { $0.device == "core1" && $0.variable == "port.24.oper" && $0.level == 2 })
        let overview = try await store.backend.overview()
        #expect(overview.first?.level == 2)
        // The same batch again: acknowledged, nothing stored twice.
        let records = try await store.backend.count("records", site: store.site)
        let readings = try await store.backend.count("readings", site: store.site)
        let duplicate = try await store.push(second)
        guard case .stored(let again, _, _) = duplicate else { Issue.record("duplicate not acknowledged: \(duplicate)"); return }
        #expect(again == 5)
        #expect(try await store.backend.count("records", site: store.site) == records)
        #expect(try await store.backend.count("readings", site: store.site) == readings)
    }

    @Test(arguments: StoreEngine.allCases) func aClockSteppedBackChangesTimesNotOrder(_ engine: StoreEngine) async throws {
        let store = try await StoreFixture(engine: engine)
        defer { store.stop() }
        var e = RecordEncoder(site: "", boot: 1, nextSeq: 1)
        var (state, events0) = ReferenceCloset.state(at: t0)
        var records = e.records(state: state, events: events0, at: t0)
        // NTP steps the board's clock back an hour; the probes keep warming up.
        for (i, t) in [t0.advanced(by: .seconds(10)), t0.advanced(by: .seconds(-3600)), t0.advanced(by: .seconds(-3590))].enumerated() {
            for p in ReferenceCloset.polls(at: t, temperature: 26 + Double(i)) where p.name.hasPrefix("probe") { _ = state.apply(.readings(p.readings), device: p.name, at: t) }
            records += e.records(state: state, events: [], at: t)
        }
        #expect(records.map(\.seq) == Array(1...UInt64(records.count)))
        #expect(records.last!.time < records[records.count - 3].time, "the last record is stamped earlier than an older one")
        let outcome = try await store.push(records)
        guard case .stored(let through, _, let resync) = outcome else { Issue.record("not stored: \(outcome)"); return }
        #expect(through == UInt64(records.count) && !resync, "every delta applied: none out of order")
        #expect(try await store.backend.latest(site: store.site, device: "probe-rack1", variable: "ambient.temperature") == 28)
    }

    @Test(arguments: StoreEngine.allCases) func aDeltaBeforeAnySnapshotAsksForAResync(_ engine: StoreEngine) async throws {
        let store = try await StoreFixture(engine: engine)
        defer { store.stop() }
        let (_, second) = referenceRecords()
        guard case .stored(_, _, let resync) = try await store.push(second) else { Issue.record("not stored"); return }
        #expect(resync)
        #expect(try await store.backend.count("readings", site: store.site) == 0)
    }

    @Test(arguments: StoreEngine.allCases) func rejectionsAreFourHundredsWithAReasonAndStoreNothing(_ engine: StoreEngine) async throws {
        let store = try await StoreFixture(engine: engine)
        defer { store.stop() }
        let (first, _) = referenceRecords()
        let body = Deflate.compress(encodeBatch(site: store.site, records: first.map { var r = $0; r.site = ""; return r.encoded() }, thinned: 0, refused: 0))

        let wrongKey = try await store.post(body: body, signWith: randomBytes(32))
        #expect(wrongKey.status == 401)
        #expect(String(decoding: wrongKey.body, as: UTF8.self).contains("bad signature for site 'so-tttt-hanoi'"))

        let unknown = try await store.post(body: body, site: "nowhere")
        #expect(unknown.status == 403)

        let stale = try await store.post(body: body, timestamp: store.clock.now() - 3600)
        #expect(stale.status == 401)
        #expect(String(decoding: stale.body, as: UTF8.self).contains("check NTP on the agent"))

        let nonce = hex(randomBytes(12))
        #expect(try await store.post(body: body, nonce: nonce).status == 200)
        let replay = try await store.post(body: body, nonce: nonce)
        #expect(replay.status == 409)

        let huge = try await store.post(body: randomBytes(IngestDecoder.maxBody + 1))
        #expect(huge.status == 413)

        let otherSite = Deflate.compress(encodeBatch(site: "elsewhere", records: [], thinned: 0, refused: 0))
        #expect(try await store.post(body: otherSite).status == 400)
        // Numbers the database cannot hold (64-bit signed) are refused, not trapped on.
        var far = first[0]
        far.seq = UInt64.max
        far.site = ""
        let farSeq = try await store.post(body: Deflate.compress(encodeBatch(site: store.site, records: [far.encoded()], thinned: 0, refused: 0)))
        #expect(farSeq.status == 400 && String(decoding: farSeq.body, as: UTF8.self).contains("over 2^63 - 1"))
        guard case .dictionary(var d) = first[0].body else { throw TestSetupError("the first record is not the dictionary") }
        d.devices[0].name = "ups\u{0}"
        let nul = WireRecord(boot: 2, seq: 1, time: 0, body: .dictionary(d))
        let nulBody = try await store.post(body: Deflate.compress(encodeBatch(site: store.site, records: [nul.encoded()], thinned: 0, refused: 0)))
        #expect(nulBody.status == 400 && String(decoding: nulBody.body, as: UTF8.self).contains("NUL"))
        let farCount = try await store.post(body: Deflate.compress(encodeBatch(site: store.site, records: [], thinned: UInt64.max, refused: 0)))
        #expect(farCount.status == 400)
        #expect(try await store.backend.count("records", site: store.site) == 3)
    }

    @Test(arguments: StoreEngine.allCases) func garbageBodiesAreAlwaysFourHundredsNeverStored(_ engine: StoreEngine) async throws {
        let store = try await StoreFixture(engine: engine)
        defer { store.stop() }
        let (first, second) = referenceRecords()
        let valid = encodeBatch(site: store.site, records: (first + second).map { var r = $0; r.site = ""; return r.encoded() }, thinned: 0, refused: 0)
        var rng = SystemRandomNumberGenerator()
        var statuses: [Int: Int] = [:]
        // Through HTTP: random bytes, random deflated bytes, and the valid batch mutated.
        for i in 0..<300 {
            var plain: [UInt8]
            switch i % 3 {
            case 0: plain = randomBytes(Int.random(in: 0...400, using: &rng))
            case 1:
                plain = valid
                for _ in 0..<Int.random(in: 1...8, using: &rng) { plain[Int.random(in: 0..<plain.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng) }
            default:
                plain = Array(valid.prefix(Int.random(in: 0..<valid.count, using: &rng)))
            }
            let body = i % 3 == 0 ? plain : Deflate.compress(plain)
            let response = try await store.post(body: body)
            statuses[response.status, default: 0] += 1
            #expect(response.status < 500, "a garbage body made a \(response.status): \(String(decoding: response.body, as: UTF8.self))")
        }
        // The decoder alone, thousands more times.
        for _ in 0..<5000 {
            var plain = valid
            for _ in 0..<Int.random(in: 1...4, using: &rng) { plain[Int.random(in: 0..<plain.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng) }
            _ = try? IngestDecoder.decode(body: Deflate.compress(plain), site: store.site)
        }
        // Mutations that still decode are valid batches (stored); nothing else is.
        #expect(statuses.keys.allSatisfy { $0 == 200 || (400..<500).contains($0) })
        #expect(statuses[400, default: 0] > 100)
    }

    @Test(arguments: StoreEngine.allCases) func aSiteThatStopsReportingGoesSilentAndComesBack(_ engine: StoreEngine) async throws {
        let store = try await StoreFixture(engine: engine)
        defer { store.stop() }
        let (first, second) = referenceRecords()
        _ = try await store.push(first)
        let now = store.clock.now()
        #expect(try await store.backend.markSilent(now: now + 30, after: 60).isEmpty)
        #expect(try await store.backend.markSilent(now: now + 61, after: 60) == [store.site])
        #expect(try await store.backend.overview().first?.silent == true)
        // Silence is reported once, not on every check.
        #expect(try await store.backend.markSilent(now: now + 120, after: 60).isEmpty)
        _ = try await store.push(second)
        #expect(try await store.backend.overview().first?.silent == false)
        let kinds = try await store.backend.events(site: store.site).map(\.reason)
        #expect(kinds.contains("the site reports again"))
        #expect(kinds.contains("no report for more than 60 s"))
    }
}
