import ClosetModel
import ClosetStore
import ClosetTesting
import ClosetUplink
import ClosetWire
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Two closet-store instances on one PostgreSQL database, as behind a load balancer: any
/// instance takes any push, and what must happen once happens once.
@Suite(.serialized) struct SharedDatabaseTests {
    @Test func twoInstancesOnOneDatabaseStoreEachRecordOnce() async throws {
        let a = try await StoreFixture(engine: .postgres)
        defer { a.stop() }
        let b = try await StoreFixture(sharing: a)
        defer { b.stop() }
        #expect(a.backend.database.hasPrefix("postgres://") && a.database == b.database)
        let (first, second) = IngestTests().referenceRecords()

        // The same batch to both at once (an agent that timed out on one and retried on the
        // other): both acknowledge it, it is stored once.
        async let toA = a.push(first)
        async let toB = b.push(first)
        let (outcomeA, outcomeB) = try await (toA, toB)
        for outcome in [outcomeA, outcomeB] {
            guard case .stored(let through, _, let resync) = outcome else {
                Issue.record("not stored: \(outcome)")
                return
            }
            #expect(through == 3 && !resync)
        }
        #expect(try await a.backend.count("records", site: a.site) == 3)
        let readings = try await a.backend.count("readings", site: a.site)

        // The next batch through the other instance applies onto the snapshot the first stored.
        guard case .stored(5, _, false) = try await b.push(second) else {
            Issue.record("the delta was not applied at the second instance")
            return
        }
        #expect(try await a.backend.latest(site: a.site, device: "probe-rack1", variable: "ambient.temperature") == 26)
        #expect(try await a.backend.count("readings", site: a.site) > readings)

        // A nonce used at one instance is a replay at the other.
        let body = Deflate.compress(encodeBatch(site: a.site, records: [], thinned: 0, refused: 0))
        let nonce = hex(randomBytes(12))
        #expect(try await a.post(body: body, nonce: nonce).status == 200)
        #expect(try await b.post(body: body, nonce: nonce).status == 409)

        // Both instances' silence checks run at once: the site goes silent once.
        let later = a.clock.now() + 3600
        async let silentA = a.backend.markSilent(now: later, after: 60)
        async let silentB = b.backend.markSilent(now: later, after: 60)
        let (namesA, namesB) = try await (silentA, silentB)
        #expect(namesA + namesB == [a.site])
        #expect(try await b.backend.events(site: a.site).filter { $0.kind == "silence" }.count == 1)

        // And both fold old readings at once without counting any twice.
        async let foldA = a.backend.downsample(before: later + 86_400)
        async let foldB = b.backend.downsample(before: later + 86_400)
        let (foldedA, foldedB) = try await (foldA, foldB)
        #expect(foldedA + foldedB > 0 && min(foldedA, foldedB) == 0)
    }
}

/// The store's connection to PostgreSQL over TLS, against a server that takes TLS only and
/// a certificate from the private CA the tests make.
@Suite(.serialized) struct PostgresTLSTests {
    @Test func verifyFullTrustsTheCAAndRefusesAnother() async throws {
        let certs = try TLSTests().certificates()
        defer { certs.remove() }
        let tree = FixtureTree(prefix: "closet-pgtls")
        defer { tree.remove() }
        chmod(tree.root, 0o755)
        let cluster = tree.path("cluster")
        let port = freeLoopbackPort()
        let admin = try TestPostgres.startCluster(in: cluster, port: port, options: ["tls=\(certs.root)"])
        defer { TestPostgres.stopCluster(in: cluster) }

        let verified = try StoreBackend.open(admin + "?sslmode=verify-full&sslrootcert=\(certs.path("ca.pem"))")
        #expect(try await verified.migrate() == 4)
        await verified.close()

        // The server takes no plain connections: its own message comes through.
        let plain = try StoreBackend.open(admin)
        await #expect { try await plain.migrate() } throws: { "\($0)".contains("no pg_hba.conf entry") && "\($0)".contains("127.0.0.1:\(port)") }
        await plain.close()

        // A certificate from another CA is refused by verify-full, accepted (encrypted,
        // unverified) by require, as libpq does.
        let otherCA = "sslrootcert=\(certs.path("other-ca.pem"))"
        let refused = try StoreBackend.open(admin + "?sslmode=verify-full&" + otherCA)
        await #expect { try await refused.migrate() } throws: { "\($0)".lowercased().contains("certificate") }
        await refused.close()
        let unverified = try StoreBackend.open(admin + "?sslmode=require&" + otherCA)
        #expect(try await unverified.migrate() == 4)
        await unverified.close()
    }
}
