import ClosetModel
import ClosetTesting
import Testing

@testable import ClosetSensors

@Suite struct SelfDriverTests {
    /// A `/proc/self` and `/run` of a fixture: the agent's own readings come from them.
    private func fixture() -> FixtureTree {
        let tree = FixtureTree(prefix: "closet-self")
        tree.file("proc/self/status", "Name:\tcloset-agent\nVmRSS:\t   12288 kB\nThreads:\t5\n")
        // The process name holds a space and a parenthesis; utime 250 + stime 50 ticks.
        tree.file("proc/self/stat", "4242 (closet (x) agent) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 5 0 100 0 0\n")
        tree.directory("run/systemd/timesync")
        tree.file("run/systemd/timesync/synchronized", "")
        tree.directory("outbox")
        return tree
    }

    @Test func readsItsOwnProcessAndTheClock() async throws {
        let tree = fixture()
        defer { tree.remove() }
        let started = Timestamp(nanosecondsSinceEpoch: 1_000_000_000_000)
        var configuration = SelfDriver.Configuration(procRoot: tree.path("proc"), diskPath: tree.root, started: started)
        configuration.runRoot = tree.path("run")
        let readings = try await SelfDriver(configuration: configuration).poll(at: started.advanced(by: .seconds(90)))
        let values = Dictionary(uniqueKeysWithValues: readings.map { ($0.name.rawValue, $0.value) })
        #expect(values["agent.uptime"] == .number(90))
        #expect(values["agent.rss"] == .number(12288 * 1024))
        #expect(values["agent.threads"] == .number(5))
        #expect(values["clock.synced"] == .text("yes"))
        if case .number(let free)? = values["disk.free"] { #expect(free > 0) } else { Issue.record("no disk.free") }
        #expect(values["agent.restarts"] == nil, "without an outbox the restarts are not known")
    }

    @Test func countsRestartsAndTheOutboxOnceTheUplinkAttachesIt() async throws {
        let tree = fixture()
        defer { tree.remove() }
        let vitals = AgentVitals()
        let configuration = SelfDriver.Configuration(procRoot: tree.path("proc"), diskPath: "/nonexistent", started: .init(nanosecondsSinceEpoch: 0))
        let driver = SelfDriver(configuration: configuration, vitals: vitals)
        vitals.outbox = AgentVitals.Outbox(path: tree.path("outbox/outbox.db"), starts: 4) { (records: 17, bytes: 5120) }
        let values = Dictionary(uniqueKeysWithValues: try await driver.poll(at: .init(nanosecondsSinceEpoch: 0)).map { ($0.name.rawValue, $0.value) })
        #expect(values["agent.restarts"] == .number(3), "the fourth start is the third restart")
        #expect(values["outbox.records"] == .number(17))
        #expect(values["outbox.bytes"] == .number(5120))
        #expect(values["disk.free"] != nil, "free space of the outbox's folder, not of the configured path")
        #expect(values["agent.cpu"] != nil)
    }

    @Test func theOutboxFolderOfAPath() {
        #expect(SelfDriver.folder(of: "/var/lib/closet/outbox.db") == "/var/lib/closet")
        #expect(SelfDriver.folder(of: "/outbox.db") == "/")
        #expect(SelfDriver.folder(of: "outbox.db") == ".")
    }
}
