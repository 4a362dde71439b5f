import ClosetModel
import ClosetStore
import ClosetTesting
import ClosetUplink
import ClosetWire
import Dispatch
import Hummingbird
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// The databases the store runs on; the storage tests run on each.
enum StoreEngine: String, CaseIterable, Sendable, CustomStringConvertible {
    case sqlite, postgres
    var description: String { rawValue }

    /// A new, empty database of this engine.
    func freshDatabase(in tree: FixtureTree) throws -> String {
        switch self {
        case .sqlite: "sqlite:" + tree.path("store.db")
        case .postgres: try TestPostgres.freshDatabase()
        }
    }
}

/// A real closet-store (Hummingbird; SQLite in a temp folder, or a fresh database on the
/// test PostgreSQL) on a loopback port, with one site whose key the test knows.
final class StoreFixture: @unchecked Sendable {
    let tree = FixtureTree(prefix: "closet-store")
    let backend: StoreBackend
    /// The database's URL, for a second instance on the same one.
    let database: String
    let vault: KeyVault
    let port: Int
    let site = "so-tttt-hanoi"
    let key: [UInt8]
    var server: Task<Void, any Error>?
    let clock: Clock

    /// The store's notion of now (seconds), settable by tests.
    final class Clock: @unchecked Sendable {
        var offset: Int64 = 0
        func now() -> Int64 { Int64(time(nil)) + offset }
    }

    /// `sharing`: another instance on `other`'s database, master key and site (as several
    /// instances behind a load balancer).
    init(
        engine: StoreEngine = .sqlite, sharing other: StoreFixture? = nil, tls: (certificate: String, key: String)? = nil, rate: (Double, Double) = (1e6, 1e6),
        port: Int = freeLoopbackPort(), key: [UInt8] = randomBytes(32)
    ) async throws {
        self.port = port
        self.key = other?.key ?? key
        vault = other?.vault ?? KeyVault(master: randomBytes(32))
        database = try other?.database ?? engine.freshDatabase(in: tree)
        backend = try StoreBackend.open(database)
        _ = try await backend.migrate()
        if other == nil { try await backend.addSite(name: site, sealedKey: vault.seal(self.key), now: 0) }
        clock = Clock()
        let clock = self.clock
        var logger = Logger(label: "test-store")
        logger.logLevel = .critical
        let app = try StoreServer(backend: backend, vault: vault, logger: logger, rate: rate, now: { clock.now() })
            .application(host: "127.0.0.1", port: port, tls: tls)
        server = Task { try await app.runService() }
        let endpoint = HTTPEndpoint("\(tls == nil ? "http" : "https")://127.0.0.1:\(port)/healthz")!
        for _ in 0..<100 {
            if tls != nil { return }
            let status = (try? await blocking { try HTTPClient(timeout: .seconds(1)).send("GET", endpoint, headers: [], body: []) })?.status
            if status == 200 { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestSetupError("store did not start on port \(port)")
    }

    var ingest: HTTPEndpoint { HTTPEndpoint("http://127.0.0.1:\(port)/v1/ingest")! }

    func push(_ records: [WireRecord], key: [UInt8]? = nil, site: String? = nil, client: HTTPClient? = nil, endpoint: HTTPEndpoint? = nil) async throws -> StorePush.Outcome {
        let push = StorePush(
            endpoint: endpoint ?? ingest, site: site ?? self.site, key: key ?? self.key, client: try client ?? HTTPClient(timeout: .seconds(60)),
            bandwidth: nil)
        let bodies = records.map { r in
            var r = r
            r.site = ""
            return r.encoded()
        }
        let now = clock.now()
        return await blocking { push.push(records: bodies, thinned: 0, refused: 0, now: now) }
    }

    /// A raw signed POST, for requests StorePush would never make.
    func post(body: [UInt8], nonce: String = hex(randomBytes(12)), timestamp: Int64? = nil, signWith: [UInt8]? = nil, site: String? = nil) async throws -> HTTPReply {
        let ts = timestamp ?? clock.now()
        let signature = RequestSigning.signature(key: signWith ?? key, method: "POST", path: "/v1/ingest", timestamp: ts, nonce: nonce, body: body)
        let headers = [
            (RequestSigning.siteHeader, site ?? self.site), (RequestSigning.timestampHeader, String(ts)),
            (RequestSigning.nonceHeader, nonce), (RequestSigning.signatureHeader, signature),
        ]
        let endpoint = ingest
        return try await blocking { try HTTPClient(timeout: .seconds(60)).send("POST", endpoint, headers: headers, body: body) }
    }

    func stop() {
        server?.cancel()
        let backend = self.backend
        Task { await backend.close() }
        tree.remove()
    }
}

/// Runs a blocking call off the cooperative pool.
func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { c in
        DispatchQueue.global().async { c.resume(with: Result { try body() }) }
    }
}

func blocking<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { c in
        DispatchQueue.global().async { c.resume(returning: body()) }
    }
}
