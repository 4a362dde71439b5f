import ClosetConfig
import ClosetModel
import ClosetStore
import ClosetTesting
import ClosetUplink
import ClosetWire
import Dispatch
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The store's load generator: many simulated closets pushing real signed batches of the
/// reference closet's records over HTTP, as agents do (`StorePush`, the agent's own code).
enum StoreLoad {
    /// Creates `count` sites `load-0001`... in the store's database and writes their keys
    /// (`NAME HEX` lines) to `keysFile`.
    static func setup(db: String, keyFile: String, count: Int, keysFile: String) async throws {
        let backend = try StoreBackend.open(db)
        _ = try await backend.migrate()
        let vault = try KeyVault.open(path: keyFile, create: true)
        var lines = ""
        for i in 1...count {
            let name = "load-" + String(repeating: "0", count: max(0, 4 - String(i).count)) + String(i)
            let key = randomBytes(32)
            try await backend.addSite(name: name, sealedKey: vault.seal(key), now: Int64(time(nil)))
            lines += "\(name) \(hex(key))\n"
        }
        try writeAtomically(keysFile, lines)
        print("\(count) sites in \(db), keys in \(keysFile)")
    }

    /// Push outcomes from many threads: latencies, records stored, failures.
    final class Tally: Sendable {
        let latencies = Mutex<[Duration]>([])
        /// Pushes after each site's first (a dictionary and a full snapshot): the steady state.
        let later = Mutex<[Duration]>([])
        let records = Atomic<Int>(0)
        let failures = Mutex<[String]>([])

        /// Pushes `bodies` for one site, timing it; true when stored.
        func push(_ push: StorePush, _ bodies: [[UInt8]], first: Bool = true) -> Bool {
            let sent = ContinuousClock.now
            let outcome = push.push(records: bodies, thinned: 0, refused: 0, now: Int64(time(nil)))
            let took = sent.duration(to: .now)
            guard case .stored = outcome else {
                failures.withLock { $0.append("\(push.site): \(outcome)") }
                return false
            }
            latencies.withLock { $0.append(took) }
            if !first { later.withLock { $0.append(took) } }
            records.add(bodies.count, ordering: .relaxed)
            return true
        }

        func report(_ what: String, since start: ContinuousClock.Instant) {
            StoreLoad.report(what, latencies.withLock { $0 }, records.load(ordering: .relaxed), start.duration(to: .now).seconds, failures.withLock { $0 })
            let steady = later.withLock { $0 }.sorted()
            if !steady.isEmpty {
                func p(_ q: Double) -> String { ClosetBench.format3(steady[min(steady.count - 1, Int(Double(steady.count) * q))].seconds * 1000) }
                print("  after each site's first push (deltas only): \(steady.count) pushes, p50 \(p(0.5)) ms, p99 \(p(0.99)) ms, max \(p(1.0)) ms")
            }
        }
    }

    /// Runs `body` on `workers` threads, each with its share of `items` and its own HTTP
    /// client; returns when all are done.
    static func onWorkers<T: Sendable>(_ workers: Int, _ items: [T], timeout: Duration, _ body: @escaping @Sendable (Int, [T], HTTPClient) -> Void) {
        let group = DispatchGroup()
        for w in 0..<workers {
            let mine = items.enumerated().filter { $0.offset % workers == w }.map(\.element)
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                guard let client = try? HTTPClient(timeout: timeout) else { return }
                body(w, mine, client)
            }
        }
        group.wait()
    }

    struct Site {
        var name: String
        var key: [UInt8]
        var encoder: RecordEncoder
        var state: SiteState
        var pending: [WireRecord]
    }

    static func sites(_ keysFile: String) throws -> [(String, [UInt8])] {
        try readTextFile(keysFile).split(separator: "\n").compactMap { line in
            let parts = line.split(separator: " ")
            guard parts.count == 2, let key = unhex(String(parts[1])) else { return nil }
            return (String(parts[0]), key)
        }
    }

    /// Every site pushes every `interval`: the first push is its dictionary and full
    /// snapshot, later ones a delta (probe temperatures move). Runs `seconds`, then prints
    /// pushes, records/s and latency percentiles. `workers` threads share the sites.
    static func steady(url: String, keysFile: String, interval: Duration, seconds: Int, workers: Int) throws {
        let all = try sites(keysFile)
        guard let endpoint = HTTPEndpoint(url) else { throw TestSetupError("not a URL: \(url)") }
        let tally = Tally()
        let start = ContinuousClock.now
        let end = start + .seconds(seconds)
        onWorkers(workers, all, timeout: .seconds(30)) { w, mine, client in
            var sites = mine.map { name, key in
                let t = Timestamp(secondsSinceEpoch: Double(time(nil)))
                let (state, events) = ReferenceCloset.state(at: t, site: name)
                var e = RecordEncoder(site: "", boot: 1, nextSeq: 1)
                let first = e.records(state: state, events: events, at: t)
                return Site(name: name, key: key, encoder: e, state: state, pending: first)
            }
            // Spread the sites over the interval, as real closets are.
            var due = sites.indices.map { i in start + interval * (Double(i * workers + w) / Double(max(1, all.count))) }
            var step = 0
            while true {
                guard let i = due.indices.min(by: { due[$0] < due[$1] }), due[i] < end else { return }
                let wait = ContinuousClock.now.duration(to: due[i])
                if wait > .zero { usleep(UInt32(wait.nanoseconds / 1000)) }
                step += 1
                if sites[i].pending.isEmpty {
                    let t = Timestamp(secondsSinceEpoch: Double(time(nil)))
                    var ev: [Event] = []
                    for p in ReferenceCloset.polls(at: t, temperature: 24 + Double(step % 20) * 0.2) where p.name.hasPrefix("probe") {
                        ev += sites[i].state.apply(.readings(p.readings), device: p.name, at: t)
                    }
                    sites[i].pending = sites[i].encoder.records(state: sites[i].state, events: ev, at: t)
                }
                let push = StorePush(endpoint: endpoint, site: sites[i].name, key: sites[i].key, client: client, bandwidth: nil)
                if tally.push(push, sites[i].pending.map { $0.encoded() }, first: sites[i].encoder.nextSeq <= UInt64(sites[i].pending.count) + 1) {
                    sites[i].pending = []
                }
                due[i] = due[i] + interval
            }
        }
        tally.report("steady: \(all.count) sites every \(interval.compactDescription) for \(seconds) s", since: start)
    }

    /// A backlog burst: `sites` closets each send `backlog` records (a week of deltas) in
    /// batches of `batch`, as fast as the store takes them.
    static func burst(url: String, keysFile: String, sites count: Int, backlog: Int, batch: Int, workers: Int) throws {
        let all = Array(try sites(keysFile).suffix(count))
        guard let endpoint = HTTPEndpoint(url) else { throw TestSetupError("not a URL: \(url)") }
        let tally = Tally()
        // The week is built once and sent by every site (each under its own name and key).
        let week = ClosetBench.week(backlog).map { $0.encoded() }
        let start = ContinuousClock.now
        onWorkers(workers, all, timeout: .seconds(60)) { _, mine, client in
            for (name, key) in mine {
                let push = StorePush(endpoint: endpoint, site: name, key: key, client: client, bandwidth: nil)
                for chunk in stride(from: 0, to: week.count, by: batch) {
                    _ = tally.push(push, Array(week[chunk..<min(chunk + batch, week.count)]))
                }
            }
        }
        tally.report("burst: \(all.count) sites x \(backlog) records in batches of \(batch)", since: start)
    }

    static func report(_ what: String, _ latencies: [Duration], _ records: Int, _ elapsed: Double, _ failures: [String]) {
        let sorted = latencies.sorted()
        func p(_ q: Double) -> String {
            sorted.isEmpty ? "-" : ClosetBench.format3(sorted[min(sorted.count - 1, Int(Double(sorted.count) * q))].seconds * 1000)
        }
        print(
            "\(what): \(sorted.count) pushes, \(records) records in \(ClosetBench.format3(elapsed)) s = \(Int(Double(records) / elapsed)) records/s; "
                + "latency p50 \(p(0.5)) ms, p99 \(p(0.99)) ms, max \(p(1.0)) ms; \(failures.count) failed\(failures.first.map { " (first: \($0))" } ?? "")")
    }
}
