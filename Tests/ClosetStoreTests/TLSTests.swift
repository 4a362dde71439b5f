import ClosetModel
import ClosetStore
import ClosetTesting
import ClosetUplink
import ClosetWire
import Testing

/// The uplink's TLS against the store's, with a private CA made for the test.
@Suite(.serialized) struct TLSTests {
    func certificates() throws -> FixtureTree {
        let tree = FixtureTree(prefix: "closet-certs")
        let p = try ChildProcess(simulatorPython, [repositoryRoot + "/tools/sim/make-certs.py", tree.root], logPath: tree.path("make-certs.log"))
        p.process.waitUntilExit()
        guard p.process.terminationStatus == 0 else { throw TestSetupError("make-certs failed: \(p.log)") }
        return tree
    }

    func record() -> WireRecord {
        WireRecord(boot: 1, seq: 1, time: 1, body: .events([WireEvent(time: 1, device: nil, kind: "health", variable: "", old: "unknown", new: "ok", level: 0, reason: "all devices OK")]))
    }

    func outcome(_ store: StoreFixture, ca: String) async throws -> StorePush.Outcome {
        let endpoint = HTTPEndpoint("https://127.0.0.1:\(store.port)/v1/ingest")!
        var last: StorePush.Outcome = .failed("not tried")
        // The server may still be starting: retry connection refusals only.
        for _ in 0..<50 {
            last = try await store.push([record()], client: try HTTPClient(caFile: ca, timeout: .seconds(30)), endpoint: endpoint)
            if case .failed(let why) = last, why.contains("Connection refused") {
                try await Task.sleep(for: .milliseconds(100))
                continue
            }
            break
        }
        return last
    }

    @Test func thePrivateCAIsTrustedAndTheHostChecked() async throws {
        let certs = try certificates()
        defer { certs.remove() }
        let store = try await StoreFixture(tls: (certs.path("server.pem"), certs.path("server.key")))
        defer { store.stop() }
        guard case .stored(let through, _, _) = try await outcome(store, ca: certs.path("ca.pem")) else {
            Issue.record("TLS push failed: \(try await outcome(store, ca: certs.path("ca.pem")))")
            return
        }
        #expect(through == 1)
    }

    @Test func aCertificateFromAnotherCAIsRefusedWithTheReason() async throws {
        let certs = try certificates()
        defer { certs.remove() }
        let store = try await StoreFixture(tls: (certs.path("server.pem"), certs.path("server.key")))
        defer { store.stop() }
        guard case .failed(let why) = try await outcome(store, ca: certs.path("other-ca.pem")) else {
            Issue.record("a certificate from another CA was accepted")
            return
        }
        #expect(why.contains("certificate of 127.0.0.1 not accepted: unable to get local issuer certificate"), "\(why)")
    }

    @Test func anExpiredCertificateIsRefusedWithTheReason() async throws {
        let certs = try certificates()
        defer { certs.remove() }
        let store = try await StoreFixture(tls: (certs.path("expired.pem"), certs.path("expired.key")))
        defer { store.stop() }
        guard case .failed(let why) = try await outcome(store, ca: certs.path("ca.pem")) else {
            Issue.record("an expired certificate was accepted")
            return
        }
        #expect(why.contains("certificate has expired"), "\(why)")
    }

    @Test func aMissingCAFileIsNamed() {
        #expect(throws: HTTPFailure.self) { try HTTPClient(caFile: "/nonexistent/ca.pem") }
        do {
            _ = try HTTPClient(caFile: "/nonexistent/ca.pem")
        } catch {
            #expect(error.description.hasPrefix("cannot load CA file /nonexistent/ca.pem"))
        }
    }
}
