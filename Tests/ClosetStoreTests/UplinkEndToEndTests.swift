import ClosetAgent
import ClosetConfig
import ClosetModel
import ClosetSensors
import ClosetStore
import ClosetTesting
import ClosetUplink
import ClosetWire
import Logging
import Testing

/// The agent's recorder and uplink against the real store: an outage, then every record
/// arrives once, state records in sequence order.
@Suite(.serialized) struct UplinkEndToEndTests {
    @Test func aStoreThatIsDownThenBackGetsEveryRecordOnceInOrder() async throws {
        let port = freeLoopbackPort()
        let tree = FixtureTree(prefix: "closet-e2e")
        defer { tree.remove() }
        let t0 = WallClock().now
        let (initial, _) = ReferenceCloset.state(at: t0, site: "so-tttt-hanoi")
        var logger = Logger(label: "e2e")
        logger.logLevel = .critical
        let store = StateStore(state: initial, logger: logger)
        let key = randomBytes(32)
        var config = UplinkConfiguration(url: "http://127.0.0.1:\(port)/v1/ingest", key: key, outboxPath: tree.path("outbox.db"))
        config.recordInterval = .milliseconds(50)
        config.commitInterval = .zero
        config.maxBackoff = .milliseconds(200)
        config.fullEvery = .seconds(1)
        let services = try UplinkAssembly.services(config, site: "so-tttt-hanoi", store: store, vitals: AgentVitals(), clock: WallClock(), logger: logger)
        let running = services.map { s in Task { try await s.service.run() } }
        // The closet keeps changing: probe temperatures walk up and down (the probes only:
        // cheap enough for a loaded CI machine).
        let poller = Task {
            var i = 0
            while !Task.isCancelled {
                i += 1
                let t = WallClock().now
                for p in ReferenceCloset.polls(at: t, temperature: 24 + Double(i % 10)) where p.name.hasPrefix("probe") {
                    await store.apply(.readings(p.readings), device: p.name, at: t)
                }
                try await Task.sleep(for: .milliseconds(40))
            }
        }
        // An outage: nothing listens on the port while records pile up in the outbox.
        var waiting = 0
        for _ in 0..<300 where waiting < 10 {
            try await Task.sleep(for: .milliseconds(100))
            waiting = (try? Outbox.inspect(path: tree.path("outbox.db")).stats.records) ?? 0
        }
        #expect(waiting >= 10, "records pile up in the outbox while the store is down (\(waiting))")
        let fixture = try await StoreFixture(port: port, key: key)
        defer { fixture.stop() }
        // Back: the backlog drains.
        try await Task.sleep(for: .seconds(1))
        poller.cancel()
        var drained = false
        for _ in 0..<300 {
            if try Outbox.inspect(path: tree.path("outbox.db")).stats.records == 0 { drained = true; break }
            try await Task.sleep(for: .milliseconds(100))
        }
        for t in running { t.cancel() }
        #expect(drained, "the outbox drained once the store was back")
        let stored = try await fixture.backend.storedRecords(site: fixture.site)
        let seqs = stored.map(\.seq)
        #expect(Set(seqs).count == seqs.count, "no record stored twice")
        #expect(seqs.sorted() == Array(1...UInt64(seqs.count)), "no sequence number missing")
        let state = stored.filter { $0.kind == 1 || $0.kind == 2 }.map(\.seq)
        #expect(state == state.sorted(), "state records applied in sequence order")
        #expect(try await fixture.backend.latest(site: fixture.site, device: "ups", variable: "battery.charge") == 100)
    }

    @Test func theInfluxSinkGetsEveryRecordAsLineProtocol() async throws {
        let tree = FixtureTree(prefix: "closet-influx")
        defer { tree.remove() }
        let influxPort = freeLoopbackPort()
        let sink = try ChildProcess(
            simulatorPython, [repositoryRoot + "/tools/sim/http-sink.py", String(influxPort), tree.path("lines.txt"), "--ready", tree.path("ready")],
            logPath: tree.path("sink.log"))
        defer { sink.stop() }
        #expect(await waitUntil { (try? readTextFile(tree.path("ready"))) != nil })
        let store = try await StoreFixture()
        defer { store.stop() }
        var logger = Logger(label: "influx")
        logger.logLevel = .critical
        let t0 = WallClock().now
        let (initial, _) = ReferenceCloset.state(at: t0, site: store.site)
        let state = StateStore(state: initial, logger: logger)
        var config = UplinkConfiguration(url: "http://127.0.0.1:\(store.port)/v1/ingest", key: store.key, outboxPath: tree.path("outbox.db"))
        config.recordInterval = .milliseconds(50)
        config.commitInterval = .zero
        config.influxURL = "http://127.0.0.1:\(influxPort)/write?db=closet"
        let services = try UplinkAssembly.services(config, site: store.site, store: state, vitals: AgentVitals(), clock: WallClock(), logger: logger)
        let running = services.map { s in Task { try await s.service.run() } }
        for i in 0..<10 {
            let t = WallClock().now
            let down: Set<String>? = i >= 5 ? ["core1:24"] : nil
            for p in ReferenceCloset.polls(at: t, downPorts: down, temperature: 24 + Double(i)) { await state.apply(.readings(p.readings), device: p.name, at: t) }
            try await Task.sleep(for: .milliseconds(60))
        }
        // Let the recorder turn the last poll into a record.
        try await Task.sleep(for: .milliseconds(300))
        var drained = false
        for _ in 0..<300 {
            if try Outbox.inspect(path: tree.path("outbox.db")).stats.records == 0 { drained = true; break }
            try await Task.sleep(for: .milliseconds(100))
        }
        for t in running { t.cancel() }
        #expect(drained, "both sinks acknowledged every record")
        let text = (try? readTextFile(tree.path("lines.txt"))) ?? ""
        #expect(text.contains("closet,site=so-tttt-hanoi,device=ups "))
        #expect(text.contains("battery.charge=100"))
        #expect(text.contains("closet,site=so-tttt-hanoi,device=probe-rack1 ambient.temperature=33"), "the last delta's temperature")
        #expect(text.contains("closet_ports,site=so-tttt-hanoi,device=access1 up=45i,down=7i"))
        #expect(text.contains("closet_ports,site=so-tttt-hanoi,device=core1 up=24i,down=0i"))
        #expect(text.contains("closet_event,site=so-tttt-hanoi"))
        // Both sinks saw the same records.
        #expect(try await store.backend.latest(site: store.site, device: "probe-rack1", variable: "ambient.temperature") == 33)
    }
}
