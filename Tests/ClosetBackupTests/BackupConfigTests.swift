#if canImport(Glibc)
import Glibc
#endif
import ClosetConfig
import ClosetModel
import ClosetTesting
import Testing

@testable import ClosetBackup

@Suite struct BackupConfigTests {
    let loader = ConfigLoader(drivers: [BackupDriver.factory])

    func load(_ body: String) -> (BackupDriver.Configuration?, [String]) {
        let d = ConfigDiagnostics(file: "agent.toml")
        let config = loader.parse("[agent]\nsite = \"s1\"\nself_monitoring = false\n\n" + body, diagnostics: d, directory: "/etc/closet")
        let issues = d.sortedIssues.map { "\($0.line): \($0.key): \($0.message)" }
        return (config?.devices.first?.driver as? BackupDriver.Configuration, issues)
    }

    @Test func readsABackupSet() throws {
        let (config, issues) = load(
            """
            [[backup]]
            name = "sql"
            driver = "share"
            path = "/mnt/nas/backup/sql"
            mount = "/mnt/nas"
            pattern = "sql-*.bak"
            schedule = "daily 02:00"
            min_size = "1 GiB"
            verify_rate = "20 MB/s"
            verify_sample = 1
            [backup.nas]
            host = "127.0.0.1"
            tcp_ports = [446, 2049]
            community = "public"
            """)
        #expect(issues == [])
        let c = try #require(config)
        #expect(c.expectations.schedule == BackupSchedule(.daily(minute: 120)))
        #expect(c.maxAge == .seconds(26 * 3600))
        #expect(c.critAge == .seconds(52 * 3600))
        #expect(c.minSize == 1 << 30)
        #expect(c.verifyRate == 20_000_000)
        #expect(c.expectations.window == .seconds(7 * 86_400))
        #expect(c.nas?.tcpPorts == [446, 2049])
        #expect(c.nas?.snmp?.host == "127.0.0.1")
    }

    @Test func namesEveryMistakeWithItsLineAndKey() {
        let (_, issues) = load(
            """
            [[backup]]
            name = "sql"
            driver = "share"
            path = "/srv/sql"
            mount = "/mnt/nas"
            pattern = "*/sql-*.bak"
            schedule = "nightly"
            min_size = "lots"
            max_age = "2h"
            crit_age = "1h"
            verify_rat = "1 MB"
            """)
        #expect(
            issues == [
                "9: backup[0].mount: path /srv/sql is not under the mount point /mnt/nas",
                "10: backup[0].pattern: \"*/sql-*.bak\" must be relative to path, with wildcards only in its last part (\"sql-*.bak\", \"daily/*/\")",
                "11: backup[0].schedule: \"nightly\" is not a schedule (expected \"hourly :15\", \"daily 02:00\" or \"weekly sun 03:00\")",
                "12: backup[0].min_size: expected a size such as \"512 MB\", \"4 GiB\" or a number of bytes, got string \"lots\"",
                "14: backup[0].crit_age: must not be shorter than max_age (2h)",
                "15: backup[0].verify_rat: unknown key; did you mean \"verify_rate\"?",
            ])
    }

    @Test func parsesByteCounts() {
        #expect(parseByteCount("20 MB") == 20_000_000)
        #expect(parseByteCount("4GiB") == 4 << 30)
        #expect(parseByteCount("1.5 k") == 1500)
        #expect(parseByteCount("500kB/s") == 500_000)
        #expect(parseByteCount("12") == 12)
        #expect(parseByteCount("-1 MB") == nil)
        #expect(parseByteCount("10 parsecs") == nil)
    }

    @Test func checksTheNASPortsOnLoopback() async throws {
        // One port listening, one closed.
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var sa = sockaddr_in()
        sa.sin_family = sa_family_t(AF_INET)
        sa.sin_addr.s_addr = inet_addr("127.0.0.1")
        let open = freeLoopbackPort()
        sa.sin_port = in_port_t(UInt16(open).bigEndian)
        _ = withUnsafePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        #expect(listen(listener, 4) == 0)
        let closed = freeLoopbackPort()
        let tree = FixtureTree(prefix: "closet-backup")
        defer { tree.remove() }
        tree.directory("sql")
        var c = BackupDriver.Configuration(path: tree.path("sql"), pattern: "*.bak")
        c.nas = .init(host: "127.0.0.1", tcpPorts: [open, closed], snmp: nil, volumes: [])
        let readings = await BackupDriver(configuration: c).check(at: Timestamp(secondsSinceEpoch: Double(time(nil))), verification: .skip)
        let v = Dictionary(readings.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
        #expect(v[VariableName("nas.port.\(open)")] == .text("open"))
        #expect(v[VariableName("nas.port.\(closed)")] == .text("refused"))
        #expect(v["backup.last.name"] == .text("none"))
    }
}
