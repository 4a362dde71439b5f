import ClosetAgent
import ClosetConfig
import ClosetModel
import ClosetSensors
import ClosetTesting
import ClosetUplink
import ClosetWire
import Logging
import Testing

/// The uplink against an endpoint that fails in each of the ways a store or a proxy does.
@Suite(.serialized) struct UplinkFaultTests {
    final class Faulty: @unchecked Sendable {
        let tree = FixtureTree(prefix: "closet-faults")
        let port = freeLoopbackPort()
        let process: ChildProcess

        init(_ mode: String) async throws {
            process = try ChildProcess(
                simulatorPython,
                [repositoryRoot + "/tools/sim/http-faults.py", String(port), mode, tree.path("count"), "--ready", tree.path("ready")],
                logPath: tree.path("log"))
            guard await waitUntil({ (try? readTextFile(tree.path("ready"))) != nil }) else { throw TestSetupError("http-faults did not start") }
        }

        var requests: Int { ((try? readTextFile(tree.path("count"))) ?? "").count }
        var endpoint: HTTPEndpoint { HTTPEndpoint("http://127.0.0.1:\(port)/v1/ingest")! }

        func stop() {
            process.stop()
            tree.remove()
        }
    }

    func push(_ f: Faulty, timeout: Duration = .seconds(5)) async throws -> StorePush.Outcome {
        let push = StorePush(endpoint: f.endpoint, site: "s", key: randomBytes(32), client: try HTTPClient(timeout: timeout), bandwidth: nil)
        let body = WireRecord(boot: 1, seq: 1, time: 1, body: .events([])).encoded()
        return await blocking { push.push(records: [body], thinned: 0, refused: 0, now: 1) }
    }

    @Test func aServerErrorIsAFailureToRetry() async throws {
        let f = try await Faulty("500")
        defer { f.stop() }
        guard case .failed(let why) = try await push(f) else { Issue.record("500 not a failure"); return }
        #expect(why.contains("500"))
    }

    @Test func retryAfterIsObeyed() async throws {
        let f = try await Faulty("429")
        defer { f.stop() }
        guard case .later(let delay, _) = try await push(f) else { Issue.record("429 not a wait"); return }
        #expect(delay == .seconds(2))
    }

    @Test func aSlowStoreTimesOut() async throws {
        let f = try await Faulty("slow")
        defer { f.stop() }
        let started = ContinuousClock.now
        guard case .failed(let why) = try await push(f, timeout: .milliseconds(500)) else { Issue.record("no timeout"); return }
        #expect(why.contains("no answer within 500ms"))
        #expect(started.duration(to: .now) < .seconds(20))
    }

    @Test func aConnectionResetMidBodyIsAFailure() async throws {
        let f = try await Faulty("reset")
        defer { f.stop() }
        guard case .failed = try await push(f) else { Issue.record("a reset was not a failure"); return }
    }

    @Test func aRefusedKeyDoesNotBecomeARetryStorm() async throws {
        let f = try await Faulty("401")
        defer { f.stop() }
        let tree = FixtureTree(prefix: "closet-storm")
        defer { tree.remove() }
        var logger = Logger(label: "storm")
        logger.logLevel = .critical
        let (initial, _) = ReferenceCloset.state(at: WallClock().now, site: "s")
        let store = StateStore(state: initial, logger: logger)
        var config = UplinkConfiguration(url: f.endpoint.description, key: randomBytes(32), outboxPath: tree.path("outbox.db"))
        config.recordInterval = .milliseconds(50)
        config.commitInterval = .zero
        config.maxBackoff = .seconds(1)
        let services = try UplinkAssembly.services(config, site: "s", store: store, vitals: AgentVitals(), clock: WallClock(), logger: logger)
        let running = services.map { s in Task { try await s.service.run() } }
        #expect(await waitUntil(timeout: .seconds(60)) { f.requests >= 1 }, "the uplink never tried")
        let first = f.requests
        try await Task.sleep(for: .seconds(3))
        for t in running { t.cancel() }
        // After the refusal, one attempt per max_backoff (1 s): at most 4 in 3 s, not hundreds.
        #expect(f.requests - first <= 4, "\(f.requests - first) requests in 3 s after the first")
        // Nothing was deleted: every record waits for a store that accepts it.
        #expect(try Outbox.inspect(path: tree.path("outbox.db")).stats.records > 0)
        #expect(try Outbox.inspect(path: tree.path("outbox.db")).lastPush?.contains("401") == true)
    }
}
