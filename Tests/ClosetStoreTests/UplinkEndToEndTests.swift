import ClosetAgent
import ClosetConfig
import ClosetModel
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
        let services = try UplinkAssembly.services(config, site: "so-tttt-hanoi", store: store, clock: WallClock(), logger: logger)
        let running = services.map { s in Task { try await s.service.run() } }
        // The closet keeps changing: probe temperatures walk up and down.
        let poller = Task {
            var i = 0
            while !Task.isCancelled {
                i += 1
                let t = WallClock().now
                for p in ReferenceCloset.polls(at: t, temperature: 24 + Double(i % 10)) { await store.apply(.readings(p.readings), device: p.name, at: t) }
                try await Task.sleep(for: .milliseconds(40))
            }
        }
        // Two seconds of outage: nothing listens on the port.
        try await Task.sleep(for: .seconds(2))
        let outbox = try Outbox(path: tree.path("outbox.db"))
        let waiting = try outbox.stats().records
        #expect(waiting >= 10, "records pile up in the outbox while the store is down (\(waiting))")
        let fixture = try await StoreFixture(port: port, key: key)
        defer { fixture.stop() }
        // Back: the backlog drains.
        try await Task.sleep(for: .seconds(1))
        poller.cancel()
        var drained = false
        for _ in 0..<100 {
            if try Outbox(path: tree.path("outbox.db")).stats().records == 0 { drained = true; break }
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
}
