#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ClosetModel

/// The configuration could not be used: every problem found, each with file:line and key.
public struct ConfigError: Error, Sendable, CustomStringConvertible {
    public var issues: [ConfigIssue]
    public var description: String { issues.map(\.description).joined(separator: "\n") }
}

/// Reads the agent's TOML file, its board profile and every driver's settings.
public struct ConfigLoader: Sendable {
    public var drivers: [DriverFactory]
    /// Where board profiles live when `agent.boards_dir` is not set.
    public var defaultBoardsDirectory: String

    public init(drivers: [DriverFactory], defaultBoardsDirectory: String = "/usr/share/closet/boards") {
        self.drivers = drivers
        self.defaultBoardsDirectory = defaultBoardsDirectory
    }

    public static let deviceSections: [(String, DeviceKind)] = [
        ("ups", .ups), ("sensor", .sensor), ("switch", .switch), ("link", .link), ("backup", .backup),
    ]

    /// Loads `path`, or throws `ConfigError` listing every problem.
    public func load(path: String) throws(ConfigError) -> AgentConfiguration {
        let diagnostics = ConfigDiagnostics(file: path)
        let text: String
        do {
            text = try readTextFile(path)
        } catch {
            throw ConfigError(issues: [ConfigIssue(file: path, line: 0, key: "", message: error.description)])
        }
        let config = parse(text, diagnostics: diagnostics, directory: directoryOf(path))
        checkSecretsArePrivate(path: path, diagnostics: diagnostics)
        guard diagnostics.issues.isEmpty, let config else { throw ConfigError(issues: diagnostics.sortedIssues) }
        return config
    }

    /// Parses TOML text; problems go to `diagnostics`. Returns nil if the result is unusable.
    public func parse(_ text: String, diagnostics: ConfigDiagnostics, directory: String) -> AgentConfiguration? {
        let root: ConfigTable
        do {
            root = try TOMLParser.parse(text)
        } catch {
            diagnostics.report(line: error.line, key: "", "TOML syntax error at column \(error.column): \(error.message)")
            return nil
        }
        let r = ConfigReader(table: root, path: "", line: 1, diagnostics: diagnostics)

        var site = "closet"
        var sysfsRoot = "/sys"
        var logLevel = "info"
        var board: BoardProfile?
        var boardsDirectory = defaultBoardsDirectory
        var consoleSocket: String?
        var selfMonitoring = true
        var useWatchdog = false
        var watchdogOverride: String?
        if let agent = r.table("agent") {
            selfMonitoring = agent.bool("self_monitoring") ?? true
            useWatchdog = agent.bool("hardware_watchdog") ?? false
            watchdogOverride = agent.string("watchdog_device")
            if let socket = agent.string("console_socket") {
                if !socket.isEmpty, !socket.hasPrefix("/") { agent.report("console_socket", "must be an absolute path, got \"\(socket)\"") }
                consoleSocket = socket.isEmpty ? nil : socket
            }
            site = agent.requiredString("site") ?? site
            if let s = agent.string("sysfs_root") {
                sysfsRoot = resolve(s, in: directory)
                if !isDirectory(sysfsRoot) { agent.report("sysfs_root", "no such directory: \(sysfsRoot)") }
            }
            logLevel = agent.choice("log_level", AgentConfiguration.logLevels) ?? logLevel
            if let dir = agent.string("boards_dir") { boardsDirectory = resolve(dir, in: directory) }
            if let name = agent.string("board") {
                board = loadBoard(name, from: boardsDirectory, reader: agent)
            }
            agent.finish()
        } else {
            r.reportTable("missing [agent] table (at least: site = \"...\")")
        }

        var defaults = PollSettings()
        if let d = r.table("defaults") {
            defaults = readPoll(d, base: defaults)
            d.finish()
        }

        let context = ConfigContext(sysfsRoot: sysfsRoot, board: board, directory: directory)
        var devices: [DeviceConfiguration] = []
        var firstLine: [String: Int] = [:]
        for (section, kind) in Self.deviceSections {
            for t in r.tables(section) {
                guard let device = readDevice(t, kind: kind, section: section, defaults: defaults, context: context)
                else { continue }
                if let line = firstLine[device.name] {
                    t.report("name", "duplicate device name \"\(device.name)\" (first defined on line \(line))")
                    continue
                }
                firstLine[device.name] = t.line
                devices.append(device)
            }
        }
        if selfMonitoring, let factory = drivers.first(where: { $0.name == "self" && $0.kinds.contains(.agent) }),
            firstLine["agent"] == nil,
            let driver = factory.read(ConfigReader(table: ConfigTable(), path: "agent", line: 1, diagnostics: ConfigDiagnostics(file: "")), context)
        {
            // The agent reports on itself like any device, so the store sees a sick board.
            devices.append(
                DeviceConfiguration(
                    name: "agent", kind: .agent, driverName: "self", driver: driver,
                    poll: PollSettings(interval: .seconds(60), timeout: .seconds(5)), rules: selfRules, line: 0))
        }
        var consoles: [ConsoleConfiguration] = []
        for c in r.tables("console") {
            defer { c.finish() }
            guard let device = c.string("device") ?? board?.consoleDevice else {
                c.reportTable("missing 'device' (and the board profile names no console)")
                continue
            }
            if !device.hasPrefix("/") { c.report("device", "must be an absolute path such as /dev/ttyS0, got \"\(device)\"") }
            let speed = c.integer("speed", in: 1200...4_000_000).map(Int.init) ?? board?.consoleSpeed ?? 115_200
            let language = c.choice("language", ["en", "vi", "vi-ascii"]) ?? "en"
            consoles.append(ConsoleConfiguration(device: device, speed: speed, language: language, line: c.line))
        }
        let uplink = r.table("uplink").flatMap { readUplink($0, directory: directory) }
        let nutServer = r.table("nut_server").map(readNUTServer)
        r.finish()
        var config = AgentConfiguration(site: site, board: board, sysfsRoot: sysfsRoot, logLevel: logLevel, devices: devices)
        config.consoles = consoles
        config.consoleSocket = consoleSocket
        config.uplink = uplink
        config.nutServer = nutServer
        if useWatchdog {
            config.watchdogDevice = watchdogOverride ?? board?.watchdogDevice
            if config.watchdogDevice == nil {
                r.diagnostics.report(
                    line: r.table["agent"]?.line ?? 1, key: "agent.hardware_watchdog",
                    "no watchdog device: the board profile names none; set agent.watchdog_device")
            }
        }
        return config
    }

    private func readUplink(_ u: ConfigReader, directory: String) -> UplinkConfiguration? {
        defer { u.finish() }
        let url = u.requiredString("url")
        if let url, !(url.hasPrefix("https://") || url.hasPrefix("http://")) {
            u.report("url", "must start with https:// (or http:// on a test bench), got \"\(url)\"")
        }
        let keyText = u.secret("key")
        var key: [UInt8]?
        if let keyText {
            key = unhex(keyText).flatMap { $0.count == 32 ? $0 : nil }
            if key == nil { u.report("key", "must be the 64 hex digits 'closet-store site add' printed") }
        } else {
            u.reportTable("missing 'key' (from 'closet-store site add')")
        }
        var config = UplinkConfiguration(url: url ?? "", key: key ?? [], outboxPath: "/var/lib/closet/outbox.db")
        config.line = u.line
        if let ca = u.string("ca_file") { config.caFile = resolve(ca, in: directory) }
        if let path = u.string("outbox") { config.outboxPath = resolve(path, in: directory) }
        config.outboxMaxBytes = u.bytes("outbox_max", in: 65_536...(1 << 40)) ?? config.outboxMaxBytes
        config.recordInterval = u.duration("record_interval", in: .milliseconds(100)...(.seconds(3600))) ?? config.recordInterval
        config.fullEvery = u.duration("full_every", in: .seconds(10)...(.seconds(86_400))) ?? config.fullEvery
        config.commitInterval = u.duration("commit_interval", in: .seconds(0)...(.seconds(3600))) ?? config.commitInterval
        config.bandwidth = u.bytes("bandwidth", in: 100...(1 << 34)).map(Int.init)
        config.batchBytes = u.bytes("batch_bytes", in: 1024...(16 << 20)).map(Int.init) ?? config.batchBytes
        config.timeout = u.duration("timeout", in: .seconds(1)...(.seconds(600))) ?? config.timeout
        config.maxBackoff = u.duration("max_backoff", in: .seconds(1)...(.seconds(86_400))) ?? config.maxBackoff
        if let d = u.table("deadband") {
            for key in d.table.keys.sorted() {
                if let v = d.number(key, in: 0...1e18) { config.deadbands.append((VariablePattern(key), v)) }
            }
            d.finish()
        }
        if let influx = u.string("influx_url") {
            if !(influx.hasPrefix("https://") || influx.hasPrefix("http://")) { u.report("influx_url", "must start with http:// or https://") }
            config.influxURL = influx
        }
        guard url != nil, key != nil else { return nil }
        return config
    }

    private func readNUTServer(_ n: ConfigReader) -> NUTServerConfiguration {
        defer { n.finish() }
        var config = NUTServerConfiguration()
        config.line = n.line
        if let listen = n.strings("listen") {
            if listen.isEmpty { n.report("listen", "needs at least one address, such as \"127.0.0.1\"") }
            config.listen = listen
        }
        config.port = n.integer("port", in: 1...65535).map(Int.init) ?? config.port
        config.maxClients = n.integer("max_clients", in: 1...1000).map(Int.init) ?? config.maxClients
        // 0 turns a floor off (a UPS at 0 % or 0 s has already dropped the load).
        if let v = n.number("fsd_charge", in: 0...100) { config.fsdCharge = v > 0 ? v : nil }
        if let v = n.duration("fsd_runtime", in: .zero...(.seconds(86_400))) { config.fsdRuntime = v > .zero ? v : nil }
        var seen: [String: Int] = [:]
        for u in n.tables("user") {
            defer { u.finish() }
            guard let name = u.requiredString("name"), let password = u.secret("password") ?? { u.reportTable("missing 'password'"); return nil }() else { continue }
            if !name.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != 0x22 }) { u.report("name", "no spaces or quotes in a NUT user name") }
            // upsmon sends the password unquoted: a space would split it.
            if !password.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != 0x22 }) { u.report("password", "no spaces or quotes: upsmon cannot send them") }
            let role = u.choice("upsmon", ["primary", "secondary", "master", "slave"]) ?? "secondary"
            if let first = seen[name] { u.report("name", "user \"\(name)\" is already defined on line \(first)") }
            seen[name] = u.line
            config.users.append(.init(name: name, password: password, primary: role == "primary" || role == "master"))
        }
        return config
    }

    /// The agent's own limits: a leaking agent or a full disk is a problem worth a warning.
    private var selfRules: [BoundRule] {
        [
            BoundRule(VariablePattern("agent.rss"), .limits(.init(warnHigh: 64 * 1_048_576, critHigh: 128 * 1_048_576, hysteresis: 4 * 1_048_576))),
            BoundRule(VariablePattern("disk.free.percent"), .limits(.init(warnLow: 10, critLow: 3, hysteresis: 1))),
            BoundRule(VariablePattern("clock.synced"), .expect(values: ["yes", "unknown"], level: .warn)),
        ]
    }

    private func readPoll(_ r: ConfigReader, base: PollSettings) -> PollSettings {
        var p = base
        let limit = Duration.milliseconds(100)...Duration.seconds(86_400)
        if let v = r.duration("interval", in: limit) { p.interval = v }
        if let v = r.duration("timeout", in: limit) { p.timeout = v }
        if let v = r.duration("max_backoff", in: limit) { p.maxBackoff = v }
        if p.timeout > p.interval, r.table["timeout"] != nil || r.table["interval"] != nil {
            r.report(
                r.table["timeout"] != nil ? "timeout" : "interval",
                "timeout (\(p.timeout.compactDescription)) must not exceed interval (\(p.interval.compactDescription))")
        }
        return p
    }

    private func readDevice(
        _ t: ConfigReader, kind: DeviceKind, section: String, defaults: PollSettings, context: ConfigContext
    ) -> DeviceConfiguration? {
        let name = t.requiredString("name")
        if let name, !name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }) {
            t.report("name", "\"\(name)\" may hold only letters, digits, '-', '_' and '.'")
        }
        let poll = readPoll(t, base: defaults)
        let staleLevel = t.level("stale_level") ?? .unknown
        var rules = t.table("thresholds").map { readRules($0) } ?? []
        if kind == .switch || kind == .link {
            rules += readPortSelectors(t)
        } else if t.table["ports"] != nil {
            t.report("ports", "port selections apply to [[switch]] and [[link]] devices")
        }

        let candidates = drivers.filter { $0.kinds.contains(kind) }
        let driverName = t.requiredString("driver")
        var driver: (any DriverConfiguration)?
        if let driverName {
            if let factory = candidates.first(where: { $0.name == driverName }) {
                driver = factory.read(t, context)
            } else {
                let names = candidates.map(\.name)
                let others = drivers.filter { $0.name == driverName }.map { $0.kinds.map { "[[\($0.rawValue)]]" } }
                let hint = others.first.map { "; \"\(driverName)\" goes under \($0.joined(separator: " or "))" }
                    ?? suggestion(for: driverName, among: names)
                t.report(
                    "driver",
                    "unknown driver \"\(driverName)\" for [[\(section)]] (available: \(names.joined(separator: ", ")))"
                        + hint)
                t.allowEverything()
            }
        }
        t.finish()
        guard let name, let driverName, let driver else { return nil }
        return DeviceConfiguration(
            name: name, kind: kind, driverName: driverName, driver: driver, poll: poll,
            rules: rules + driver.defaultRules + DevicePolicy.defaultRules(for: kind), staleLevel: staleLevel, line: t.line)
    }

    private func readRules(_ r: ConfigReader) -> [BoundRule] {
        var rules: [BoundRule] = []
        for key in r.table.keys {
            guard let rule = r.table(key) else { continue }
            if let bound = readRule(rule, pattern: key) { rules.append(bound) }
            rule.finish()
        }
        return rules
    }

    /// `[[switch.ports]]` tables: which ports matter and how much, first match wins.
    /// `match` is an interface-name glob or a list of them, `index` a port index or a list;
    /// `level` is what a down port means (default warn); `role` names it in messages.
    private func readPortSelectors(_ t: ConfigReader) -> [BoundRule] {
        var selectors: [HealthRule.PortSelector] = []
        var otherwise = HealthLevel.warn
        for p in t.tables("ports") {
            defer { p.finish() }
            let names = p.strings("match") ?? []
            var indexes: [Int] = []
            if let node = p.node("index") {
                switch node.value {
                case .integer(let i): indexes = [Int(i)]
                case .array(let items):
                    indexes = items.compactMap { if case .integer(let i) = $0.value { Int(i) } else { nil } }
                    if indexes.count != items.count { p.report("index", "expected port numbers, e.g. index = [1, 2, 49]") }
                default: p.report("index", "expected a port number or a list of them, got \(node.value.typeName)")
                }
            }
            let level = p.level("level") ?? .warn
            let role = p.string("role")
            if names.isEmpty && indexes.isEmpty {
                p.reportTable("a port selection needs match = \"Gi1/0/*\" or index = [1, 2]")
                continue
            }
            if names == ["*"], indexes.isEmpty { otherwise = level; continue }
            selectors.append(.init(names: names, indexes: indexes, level: level, role: role))
        }
        guard !selectors.isEmpty || otherwise != .warn else { return [] }
        return [BoundRule(VariablePattern("port.*.oper"), .ports(selectors, otherwise: otherwise))]
    }

    private func readRule(_ r: ConfigReader, pattern: String) -> BoundRule? {
        let names = pattern.split(separator: ".", omittingEmptySubsequences: false)
        if names.contains(where: { $0.isEmpty }) {
            r.reportTable("\"\(pattern)\" is not a variable name or pattern (empty segment)")
            return nil
        }
        let warnHigh = r.number("warn_high")
        let critHigh = r.number("crit_high")
        let warnLow = r.number("warn_low")
        let critLow = r.number("crit_low")
        let hysteresis = r.number("hysteresis", in: 0...1e9)
        let expect = r.strings("expect")
        let level = r.level("level")
        let hasLimits = [warnHigh, critHigh, warnLow, critLow].contains { $0 != nil }
        if let expect {
            if hasLimits || hysteresis != nil {
                r.reportTable("use either limits (warn_high, crit_high, ...) or expect, not both")
                return nil
            }
            if expect.isEmpty { r.report("expect", "must list at least one value") }
            return BoundRule(VariablePattern(pattern), .expect(values: expect, level: level ?? .crit))
        }
        if level != nil { r.report("level", "only applies to an expect rule") }
        guard hasLimits else {
            r.reportTable("a threshold needs warn_high, crit_high, warn_low, crit_low or expect")
            return nil
        }
        if let w = warnHigh, let c = critHigh, w > c {
            r.report("warn_high", "\(w.compactDescription) is above crit_high \(c.compactDescription)")
        }
        if let w = warnLow, let c = critLow, w < c {
            r.report("warn_low", "\(w.compactDescription) is below crit_low \(c.compactDescription)")
        }
        if let lo = warnLow ?? critLow, let hi = warnHigh ?? critHigh, lo >= hi {
            r.reportTable("low limits (\(lo.compactDescription)) must be below high limits (\(hi.compactDescription))")
        }
        return BoundRule(
            VariablePattern(pattern),
            .limits(
                .init(
                    warnHigh: warnHigh, critHigh: critHigh, warnLow: warnLow, critLow: critLow,
                    hysteresis: hysteresis ?? 0)))
    }

    private func loadBoard(_ name: String, from directory: String, reader: ConfigReader) -> BoardProfile? {
        let path = directory + "/" + name + ".toml"
        guard let text = try? readTextFile(path) else {
            let known = (listDirectory(directory) ?? []).filter { $0.hasSuffix(".toml") }.map { String($0.dropLast(5)) }.sorted()
            reader.report(
                "board",
                "board profile \"\(name)\" not found in \(directory)"
                    + (known.isEmpty ? "" : " (known: \(known.joined(separator: ", ")))")
                    + suggestion(for: name, among: known))
            return nil
        }
        let diagnostics = ConfigDiagnostics(file: path)
        var profile: BoardProfile?
        do {
            let table = try TOMLParser.parse(text)
            profile = BoardProfile.read(ConfigReader(table: table, path: "", line: 1, diagnostics: diagnostics), name: name)
        } catch {
            diagnostics.report(line: error.line, key: "", "TOML syntax error at column \(error.column): \(error.message)")
        }
        for issue in diagnostics.issues {
            reader.diagnostics.report(line: reader.table["board"]?.line ?? reader.line, key: reader.keyPath("board"), "in \(issue)")
        }
        return diagnostics.issues.isEmpty ? profile : nil
    }

    private func checkSecretsArePrivate(path: String, diagnostics: ConfigDiagnostics) {
        guard let first = diagnostics.secretLines.first else { return }
        var st = stat()
        guard stat(path, &st) == 0 else { return }
        let mode = st.st_mode & 0o777
        if mode & 0o004 != 0 {
            diagnostics.report(
                line: first.line, key: first.key,
                "the file holds secrets but is readable by everyone (mode \(String(mode, radix: 8))); "
                    + "run: chmod o-rwx \(path)")
        }
    }
}

extension ConfigReader {
    /// Accepts every key of this table (after an error that makes them meaningless).
    public func allowEverything() {
        for key in table.keys { allow(key) }
    }
}

/// A file that could not be read, with the path and the system's reason.
public struct FileReadError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var errno: Int32
    public var description: String { "\(path): \(String(cString: strerror(errno)))" }
}

/// Reads a whole (small) text file.
public func readTextFile(_ path: String, limit: Int = 4 << 20) throws(FileReadError) -> String {
    String(decoding: try readFileBytes(path, limit: limit), as: UTF8.self)
}

/// Reads a whole file, at most `limit` bytes.
public func readFileBytes(_ path: String, limit: Int = 64 << 20) throws(FileReadError) -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw FileReadError(path: path, errno: errno) }
    defer { close(fd) }
    var data: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 16_384)
    while data.count < limit {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 {
            if errno == EINTR { continue }
            throw FileReadError(path: path, errno: errno)
        }
        if n == 0 { break }
        data.append(contentsOf: chunk[0..<n])
    }
    return data
}

/// Whether `path` is a directory (following symlinks).
package func isDirectory(_ path: String) -> Bool {
    var st = stat()
    return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
}

/// The entries of a directory (following symlinks), without `.` and `..`; nil if unreadable.
package func listDirectory(_ path: String) -> [String]? {
    guard let dir = opendir(path) else { return nil }
    defer { closedir(dir) }
    var names: [String] = []
    while let entry = readdir(dir) {
        let name = withUnsafePointer(to: entry.pointee.d_name) {
            $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
        }
        if name != ".", name != ".." { names.append(name) }
    }
    return names
}

func directoryOf(_ path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "." }
    return slash == path.startIndex ? "/" : String(path[..<slash])
}

func resolve(_ path: String, in directory: String) -> String {
    path.hasPrefix("/") ? path : directory + "/" + path
}
