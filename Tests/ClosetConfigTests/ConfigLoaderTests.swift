import ClosetConfig
import ClosetModel
import ClosetSensors
import ClosetTesting
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The repository's boards/ folder, found from this file's path.
let repositoryBoards: String = {
    var parts = #filePath.split(separator: "/").dropLast(3)
    parts.append("boards")
    return "/" + parts.joined(separator: "/")
}()

/// A driver config with a secret, to check the permission rule on the real loader.
struct SecretDriverConfiguration: DriverConfiguration {
    var community: String
    var summary: [(key: String, value: String)] { [("community", "****")] }
    func makeDriver(_ runtime: DriverRuntime) throws -> any DeviceDriver { throw SensorErrorForTest() }
}
struct SensorErrorForTest: Error {}

let secretDriver = DriverFactory(name: "secretive", kinds: [.switch]) { r, _ in
    r.secret("community").map { SecretDriverConfiguration(community: $0) }
}

@Suite struct ConfigLoaderTests {
    let loader = ConfigLoader(
        drivers: SensorDrivers.factories + [secretDriver], defaultBoardsDirectory: repositoryBoards)

    /// Every issue as `line: key: message`.
    func issues(_ text: String) -> [String] {
        let d = ConfigDiagnostics(file: "agent.toml")
        _ = loader.parse(text, diagnostics: d, directory: "/tmp")
        return d.sortedIssues.map { $0.key.isEmpty ? "\($0.line): \($0.message)" : "\($0.line): \($0.key): \($0.message)" }
    }

    /// Three lines: the device table of a test starts on line 4.
    static let head = "[agent]\nsite = \"s1\"\n\n"

    @Test func aGoodConfigReadsIntoPlainStructs() throws {
        let d = ConfigDiagnostics(file: "agent.toml")
        let config = try #require(
            loader.parse(
                """
                [agent]
                site = "so-tttt"
                board = "raspberry-pi-4"
                log_level = "debug"

                [defaults]
                interval = "30s"
                timeout = "3s"

                [[sensor]]
                name = "board"
                driver = "hwmon"
                interval = "1m"
                [sensor.thresholds]
                "board.temperature" = { warn_high = 70, crit_high = 85, hysteresis = 2 }

                [[link]]
                name = "nics"
                driver = "netif"
                interfaces = ["eth*"]
                stale_level = "crit"
                [link.thresholds]
                "port.*.oper" = { expect = "up", level = "warn" }
                """, diagnostics: d, directory: "/tmp"))
        #expect(d.issues.isEmpty, "\(d.issues)")
        #expect(config.site == "so-tttt")
        #expect(config.board?.consoleDevice == "/dev/ttyAMA0")
        #expect(config.logLevel == "debug")
        #expect(config.devices.map(\.name) == ["board", "nics"])
        let board = config.devices[0]
        #expect(board.poll.interval == .seconds(60) && board.poll.timeout == .seconds(3))
        #expect(board.rules == [BoundRule(VariablePattern("board.temperature"), .limits(.init(warnHigh: 70, critHigh: 85, hysteresis: 2)))])
        let hwmon = try #require(board.driver as? HwmonDriver.Configuration)
        #expect(hwmon.chips == ["cpu_thermal", "rpi_volt"], "defaults come from the board profile")
        let nics = config.devices[1]
        #expect(nics.kind == .link && nics.staleLevel == .crit && nics.poll.interval == .seconds(30))
        #expect(
            nics.rules == [
                BoundRule(VariablePattern("port.*.oper"), .expect(values: ["up"], level: .warn)),
                BoundRule(VariablePattern("port.*.oper"), .ports([], otherwise: .warn)),
            ], "configured rules first, the kind's default after")
    }

    @Test func aSyntaxErrorNamesLineAndColumn() {
        #expect(issues("[agent\nsite = \"x\"") == ["1: TOML syntax error at column 7: expected ']' to close the table header"])
    }

    @Test func anUnknownSectionSuggestsTheNearestOne() {
        #expect(
            issues(Self.head + "[[sensr]]\nname = \"a\"\n")
                == ["4: sensr: unknown key; did you mean \"sensor\"?"])
    }

    @Test func anUnknownDeviceKeySuggestsTheNearestOne() {
        #expect(
            issues(Self.head + "[[sensor]]\nname = \"b\"\ndriver = \"hwmon\"\nintervall = \"5s\"\n")
                == ["7: sensor[0].intervall: unknown key; did you mean \"interval\"?"])
    }

    @Test func aDurationMustBeAStringWithAUnit() {
        #expect(
            issues(Self.head + "[[sensor]]\nname = \"b\"\ndriver = \"hwmon\"\ninterval = 10\n")
                == ["7: sensor[0].interval: expected a duration such as \"10s\", \"500ms\" or \"5m\", got integer 10"])
    }

    @Test func duplicateDeviceNamesAcrossKindsAreErrors() {
        #expect(
            issues(
                Self.head
                    + "[[sensor]]\nname = \"board\"\ndriver = \"hwmon\"\n\n[[link]]\nname = \"board\"\ndriver = \"netif\"\n")
                == ["9: link[0].name: duplicate device name \"board\" (first defined on line 4)"])
    }

    @Test func aDriverUnderTheWrongKindSaysWhereItGoes() {
        #expect(
            issues(Self.head + "[[sensor]]\nname = \"n\"\ndriver = \"netif\"\ninterfaces = [\"eth0\"]\n")
                == ["6: sensor[0].driver: unknown driver \"netif\" for [[sensor]] (available: hwmon, onewire); \"netif\" goes under [[link]]"])
        #expect(
            issues(Self.head + "[[sensor]]\nname = \"n\"\ndriver = \"hwmn\"\n")
                == ["6: sensor[0].driver: unknown driver \"hwmn\" for [[sensor]] (available: hwmon, onewire); did you mean \"hwmon\"?"])
    }

    @Test func requiredKeysAreNamed() {
        #expect(issues(Self.head + "[[sensor]]\ndriver = \"hwmon\"\n") == ["4: sensor[0]: missing required key 'name'"])
        #expect(issues("[agent]\nlog_level = \"info\"\n") == ["1: agent: missing required key 'site'"])
        #expect(issues("") == ["1: missing [agent] table (at least: site = \"...\")"])
    }

    @Test func thresholdLimitsMustBeOrdered() {
        #expect(
            issues(
                Self.head + "[[sensor]]\nname = \"b\"\ndriver = \"hwmon\"\n[sensor.thresholds]\n"
                    + "\"board.temperature\" = { warn_high = 90, crit_high = 85 }\n")
                == ["8: sensor[0].thresholds.\"board.temperature\".warn_high: 90 is above crit_high 85"])
    }

    @Test func thresholdsAreEitherLimitsOrExpected() {
        #expect(
            issues(
                Self.head + "[[link]]\nname = \"n\"\ndriver = \"netif\"\n[link.thresholds]\n"
                    + "\"port.*.oper\" = { expect = \"up\", warn_high = 1 }\n"
                    + "\"port.*.speed\" = { hysteresis = 1 }\n")
                == [
                    "8: link[0].thresholds.\"port.*.oper\": use either limits (warn_high, crit_high, ...) or expect, not both",
                    "9: link[0].thresholds.\"port.*.speed\": a threshold needs warn_high, crit_high, warn_low, crit_low or expect",
                ])
    }

    @Test func aTimeoutLongerThanTheIntervalIsRejected() {
        #expect(
            issues(Self.head + "[[sensor]]\nname = \"b\"\ndriver = \"hwmon\"\ninterval = \"2s\"\ntimeout = \"5s\"\n")
                == ["8: sensor[0].timeout: timeout (5s) must not exceed interval (2s)"])
    }

    @Test func choicesListTheAllowedWordsAndSuggest() {
        #expect(
            issues("[agent]\nsite = \"s\"\nlog_level = \"debg\"\n")
                == [
                    "3: agent.log_level: \"debg\" is not one of \"trace\", \"debug\", \"info\", \"notice\", \"warning\", \"error\", \"critical\"; did you mean \"debug\"?"
                ])
    }

    @Test func aMissingBoardProfileListsTheKnownOnes() {
        #expect(
            issues("[agent]\nsite = \"s\"\nboard = \"raspberry-pi-44\"\n")
                == [
                    "3: agent.board: board profile \"raspberry-pi-44\" not found in \(repositoryBoards) (known: \(knownBoards)); did you mean \"raspberry-pi-4\"?"
                ])
    }

    var knownBoards: String {
        var names: [String] = []
        if let dir = opendir(repositoryBoards) {
            while let e = readdir(dir) {
                let n = withUnsafePointer(to: e.pointee.d_name) { $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) } }
                if n.hasSuffix(".toml") { names.append(String(n.dropLast(5))) }
            }
            closedir(dir)
        }
        return names.sorted().joined(separator: ", ")
    }

    @Test func aMissingSysfsRootIsReported() {
        #expect(
            issues("[agent]\nsite = \"s\"\nsysfs_root = \"/nonexistent/sys\"\n")
                == ["3: agent.sysfs_root: no such directory: /nonexistent/sys"])
    }

    @Test func arrayElementsOfTheWrongTypeAreNamedByIndex() {
        #expect(
            issues(Self.head + "[[sensor]]\nname = \"b\"\ndriver = \"hwmon\"\nchips = [\n  \"coretemp\",\n  5,\n]\n")
                == ["9: sensor[0].chips[1]: expected a string, got integer 5"])
    }

    @Test func portSelectionsBecomeOnePortRule() throws {
        let d = ConfigDiagnostics(file: "agent.toml")
        let config = loader.parse(
            Self.head + "[[link]]\nname = \"n\"\ndriver = \"netif\"\n[[link.ports]]\nmatch = \"eth0\"\nrole = \"uplink\"\nlevel = \"crit\"\n"
                + "[[link.ports]]\nindex = [7, 8]\nlevel = \"warn\"\n[[link.ports]]\nmatch = \"*\"\nlevel = \"ok\"\n",
            diagnostics: d, directory: "/tmp")
        #expect(d.issues.isEmpty, "\(d.issues)")
        let rule = try #require(config?.devices.first?.rules.first)
        #expect(
            rule
                == BoundRule(
                    VariablePattern("port.*.oper"),
                    .ports([.init(names: ["eth0"], level: .crit, role: "uplink"), .init(indexes: [7, 8], level: .warn)], otherwise: .ok)))
        #expect(
            issues(Self.head + "[[link]]\nname = \"n\"\ndriver = \"netif\"\n[[link.ports]]\nlevel = \"crit\"\n")
                == ["7: link[0].ports[0]: a port selection needs match = \"Gi1/0/*\" or index = [1, 2]"])
    }

    @Test func badNamesAndLevelsAreRejected() {
        #expect(
            issues(Self.head + "[[sensor]]\nname = \"my board\"\ndriver = \"hwmon\"\nstale_level = \"bad\"\n")
                == [
                    "5: sensor[0].name: \"my board\" may hold only letters, digits, '-', '_' and '.'",
                    "7: sensor[0].stale_level: \"bad\" is not one of \"ok\", \"warn\", \"crit\", \"unknown\"",
                ])
    }

    @Test func everyProblemIsReportedAtOnceInLineOrder() {
        let found = issues(
            Self.head + "[[sensor]]\nname = \"b\"\ndriver = \"hwmon\"\ninterval = \"soon\"\nfans = \"yes\"\ncolour = 1\n")
        #expect(
            found == [
                "7: sensor[0].interval: expected a duration such as \"10s\", \"500ms\" or \"5m\", got string \"soon\"",
                "8: sensor[0].fans: expected true or false, got string \"yes\"",
                "9: sensor[0].colour: unknown key",
            ])
    }

    @Test func aWorldReadableFileWithSecretsIsRejected() throws {
        let tree = FixtureTree()
        defer { tree.remove() }
        let text = Self.head + "[[switch]]\nname = \"core1\"\ndriver = \"secretive\"\ncommunity = \"s3cret\"\n"
        let open = tree.file("agent.toml", text, mode: 0o644)
        do {
            _ = try loader.load(path: open)
            Issue.record("accepted a world-readable file with a secret")
        } catch {
            #expect(
                error.issues.map(\.description) == [
                    "\(open):7: switch[0].community: the file holds secrets but is readable by everyone (mode 644); run: chmod o-rwx \(open)"
                ])
        }
        let closed = tree.file("private.toml", text, mode: 0o640)
        #expect(try loader.load(path: closed).devices.map(\.name) == ["core1"])
    }

    @Test func aMissingFileIsAClearError() {
        do {
            _ = try loader.load(path: "/nonexistent/agent.toml")
            Issue.record("loaded a missing file")
        } catch {
            #expect(error.description == "/nonexistent/agent.toml:0: /nonexistent/agent.toml: No such file or directory")
        }
    }

    @Test func everyBoardProfileParsesWithAbsolutePaths() throws {
        for name in knownBoards.split(separator: ", ") {
            let text = try readTextFile(repositoryBoards + "/\(name).toml")
            let d = ConfigDiagnostics(file: "\(name).toml")
            let profile = BoardProfile.read(ConfigReader(table: try TOMLParser.parse(text), path: "", line: 1, diagnostics: d), name: String(name))
            #expect(d.issues.isEmpty, "\(d.issues)")
            let p = try #require(profile)
            #expect(p.consoleDevice?.hasPrefix("/dev/") == true)
            #expect(BoardProfile.architectures.contains(p.architecture))
            for path in [p.oneWirePath, p.watchdogDevice].compactMap({ $0 }) { #expect(path.hasPrefix("/")) }
        }
    }
}
