import ClosetAgent
import ClosetConfig
import ClosetModbus
import ClosetSNMP
import ClosetUSBHID
import ClosetWire
import ClosetModel
import Logging
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

@main
enum ClosetAgentMain {
    static func main() async {
        MemoryTuning.limitMallocArenas()  // before any other thread allocates
        let arguments = Array(CommandLine.arguments.dropFirst())
        do {
            let command = try AgentCommandLine.parse(arguments)
            exit(await execute(command))
        } catch {
            writeStandardError(error.description + "\n")
            exit(64)  // EX_USAGE
        }
    }

    /// Runs a parsed command; returns the exit code.
    static func execute(_ command: ParsedCommand) async -> Int32 {
        let config = command.value("config", default: "/etc/closet/agent.toml")
        let boards = command.value("boards-dir", default: "/usr/share/closet/boards")
        switch command.name {
        case "help":
            if let name = command.argument, let spec = AgentCommandLine.commands.first(where: { $0.name == name }) {
                print(spec.help, terminator: "")
            } else {
                print(AgentCommandLine.overview, terminator: "")
            }
            return 0
        case "version":
            print("closet-agent \(ClosetVersion.string)")
            return 0
        case "check-config":
            let path = command.argument ?? config
            do {
                let c = try loader(boards).load(path: path)
                let devices = c.devices.map { "\($0.kind.rawValue) '\($0.name)' (\($0.driverName))" }
                var extras: [String] = []
                if let u = c.uplink { extras.append("uplink to \(u.url), outbox \(u.outboxPath)") }
                if let n = c.nutServer {
                    extras.append("NUT server on \(n.listen.map { "\($0):\(n.port)" }.joined(separator: ", ")) (\(n.users.count) user\(n.users.count == 1 ? "" : "s"))")
                }
                print("\(path): OK, site '\(c.site)', \(c.devices.count) devices: \(devices.joined(separator: ", "))" + extras.map { "; " + $0 }.joined())
                return 0
            } catch {
                writeStandardError(error.description + "\n")
                writeStandardError("\(path): \(error.issues.count) problem\(error.issues.count == 1 ? "" : "s")\n")
                return 1
            }
        case "console":
            return ConsoleClient.attach(path: command.value("socket", default: "/run/closet/console.sock"))
        case "probe":
            do {
                print(try await probe(command), terminator: "")
                return 0
            } catch let failure as ProbeFailure {
                writeStandardError("probe: \(failure)\n")
                return 1
            } catch {
                writeStandardError("probe: \(error)\n")
                return 64
            }
        case "backup":
            guard command.argument == "check" else {
                writeStandardError("backup: say 'closet-agent backup check [SET] [--verify]'\n")
                return 64
            }
            guard let configuration = load(config, boards) else { return 3 }
            bootstrapLogging(level: command.flags.contains("verify") ? "info" : "error")
            return await BackupCheck.run(
                configuration, set: command.arguments.dropFirst().first, verify: command.flags.contains("verify"))
        case "outbox":
            guard let configuration = load(config, boards) else { return 2 }
            guard let uplink = configuration.uplink else {
                writeStandardError("outbox: \(config) has no [uplink] table: the agent keeps no outbox\n")
                return 1
            }
            return OutboxReport.print(path: uplink.outboxPath, now: WallClock().now)
        case "decode":
            let path = command.argument ?? "-"
            do {
                let bytes = path == "-" ? readStandardInput() : try readFileBytes(path)
                print(try RecordJSON.decode(bytes), terminator: "")
                return 0
            } catch {
                writeStandardError("decode: \(path == "-" ? "standard input" : path): \(error)\n")
                return 1
            }
        case "once":
            guard let configuration = load(config, boards) else { return 2 }
            bootstrapLogging(level: "error")
            let clock = WallClock()
            do {
                let agent = try Agent(configuration: configuration, clock: clock, logger: Logger(label: "closet-agent"))
                let state = await agent.pollAllOnce(clock: clock)
                let events = await agent.store.recentEvents
                if command.flags.contains("json") {
                    print(SnapshotRendering.json(state, events: events, now: clock.now), terminator: "")
                } else {
                    print(SnapshotRendering.table(state, events: events, now: clock.now), terminator: "")
                }
                return 0
            } catch {
                writeStandardError("closet-agent: \(error)\n")
                return 1
            }
        default:  // run
            if let level = command.values["log-level"], Logger.Level(rawValue: level) == nil {
                writeStandardError(
                    "run: --log-level must be one of \(AgentConfiguration.logLevels.joined(separator: ", "))\n")
                return 64
            }
            guard let configuration = load(config, boards) else { return 2 }
            bootstrapLogging(level: command.values["log-level"] ?? configuration.logLevel)
            let logger = Logger(label: "closet-agent")
            do {
                let agent = try Agent(configuration: configuration, clock: WallClock(), logger: logger)
                let console = ConsoleService(agent: agent, clock: WallClock(), logger: logger)
                let longest = configuration.devices.map { $0.poll.maxBackoff }.max() ?? .seconds(60)
                let supervision = Supervision(
                    store: agent.store, clock: WallClock(), logger: logger, environment: environment(),
                    hardwareDevice: configuration.watchdogDevice, stallLimit: max(.seconds(60), longest * 2))
                var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
                    .init(service: agent, successTerminationBehavior: .gracefullyShutdownGroup),
                    .init(service: console, successTerminationBehavior: .ignore),
                    .init(service: supervision, successTerminationBehavior: .ignore),
                    .init(service: StartupPageRelease(store: agent.store, clock: WallClock(), logger: logger), successTerminationBehavior: .ignore),
                ]
                if let nut = configuration.nutServer {
                    services.append(.init(service: try NUTServerService(nut, store: agent.store, clock: WallClock(), logger: logger), successTerminationBehavior: .ignore))
                }
                if let uplink = configuration.uplink {
                    services += try UplinkAssembly.services(uplink, site: configuration.site, store: agent.store, vitals: agent.runtime.vitals, clock: WallClock(), logger: logger)
                }
                let group = ServiceGroup(
                    configuration: .init(
                        services: services,
                        gracefulShutdownSignals: [.sigterm, .sigint],
                        logger: logger))
                try await group.run()
                return 0
            } catch {
                logger.critical("\(error)")
                return 1
            }
        }
    }

    static func probe(_ command: ParsedCommand) async throws -> String {
        let timeout = try Duration(parsing: command.value("timeout", default: "300ms"))
            .orThrow(UsageError(description: "--timeout: not a duration such as 300ms"))
        switch command.argument {
        case "modbus":
            let endpoint: ModbusEndpoint
            if let host = command.values["host"] {
                let port = try Int(command.value("port", default: "502")).orThrow(UsageError(description: "--port: not a number"))
                endpoint = .tcp(host: host, port: port)
            } else if let device = command.values["device"] {
                let baud = try Int(command.value("baud", default: "9600")).orThrow(UsageError(description: "--baud: not a number"))
                let parity = try ModbusEndpoint.Parity(rawValue: command.value("parity", default: "none"))
                    .orThrow(UsageError(description: "--parity: none, even or odd"))
                endpoint = .rtu(device: device, baud: baud, parity: parity, dataBits: 8, stopBits: 1, rs485: false)
            } else {
                throw UsageError(description: "modbus: give --device PATH (RTU) or --host HOST (TCP)")
            }
            let units = try parseUnits(command.value("unit", default: "1..10"))
            return await Probe.modbus(endpoint: endpoint, units: units, timeout: timeout)
        case "usb":
            do throws(USBError) {
                return try Probe.usb(device: command.values["device"])
            } catch {
                throw ProbeFailure(description: "usb: \(error)")
            }
        case "megatec":
            guard let device = command.values["device"] else { throw UsageError(description: "megatec: give --device PATH") }
            let baud = try Int(command.value("baud", default: "2400")).orThrow(UsageError(description: "--baud: not a number"))
            return await Probe.megatec(device: device, baud: baud, timeout: timeout)
        case let kind? where kind.hasPrefix("snmp"):
            // `probe snmp HOST` arrives as one argument "snmp" plus the host in --host, or as "snmp:HOST".
            guard let host = command.values["host"] else {
                throw UsageError(description: "snmp: give the host: closet-agent probe snmp --host 10.0.0.2")
            }
            let port = try Int(command.value("port", default: "161")).orThrow(UsageError(description: "--port: not a number"))
            let security: SNMPTarget.Security
            if let user = command.values["v3-user"] {
                let auth = command.values["auth-password"]
                let priv = command.values["priv-password"]
                security = .user(
                    name: user, level: auth == nil ? .noAuthNoPriv : priv == nil ? .authNoPriv : .authPriv, auth: .sha,
                    authPassword: auth ?? "", privacy: .aes, privPassword: priv ?? "")
            } else {
                security = .community(command.value("community", default: "public"))
            }
            return await Probe.snmp(target: SNMPTarget(host: host, port: port, security: security, timeout: max(timeout, .seconds(1)), retries: 1))
        case nil:
            var roots = Discovery.Roots()
            if let sys = command.values["sysfs-root"] { roots.sys = sys }
            if let dev = command.values["dev-root"] { roots.dev = dev }
            if let proc = command.values["proc-root"] { roots.proc = proc }
            roots.boards = command.value("boards-dir", default: roots.boards)
            if !roots.boards.hasPrefix("/") {
                // The starter config may be saved anywhere: name the folder absolutely.
                var buffer = [CChar](repeating: 0, count: 4096)
                if getcwd(&buffer, buffer.count) != nil {
                    roots.boards = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) + "/" + roots.boards
                }
            }
            return Discovery.starterConfig(roots)
        default:
            throw UsageError(description: "say what to probe: nothing (the whole board), 'probe modbus', 'probe megatec', 'probe usb' or 'probe snmp --host HOST'")
        }
    }

    /// `3` or `1..10`, within Modbus's 0..247.
    static func parseUnits(_ text: String) throws(UsageError) -> ClosedRange<Int> {
        let parts = text.split(separator: ".", omittingEmptySubsequences: true).compactMap { Int($0) }
        let range: ClosedRange<Int>? =
            parts.count == 1 ? parts[0]...parts[0] : parts.count == 2 && parts[0] <= parts[1] ? parts[0]...parts[1] : nil
        guard let range, range.lowerBound >= 0, range.upperBound <= 247 else {
            throw UsageError(description: "--unit: \"\(text)\" is not a unit id or range like 1..10 (0..247)")
        }
        return range
    }

    /// The process environment, without Foundation.
    static func environment() -> [String: String] {
        var out: [String: String] = [:]
        var p = environ
        while let entry = p.pointee {
            let text = String(cString: entry)
            if let eq = text.firstIndex(of: "=") { out[String(text[..<eq])] = String(text[text.index(after: eq)...]) }
            p += 1
        }
        return out
    }

    static func loader(_ boards: String) -> ConfigLoader {
        ConfigLoader(drivers: DriverRegistry.builtIn, defaultBoardsDirectory: boards)
    }

    static func load(_ path: String, _ boards: String) -> AgentConfiguration? {
        do {
            return try loader(boards).load(path: path)
        } catch {
            writeStandardError(error.description + "\n")
            return nil
        }
    }

    static func bootstrapLogging(level: String) {
        let chosen = Logger.Level(rawValue: level) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = chosen
            return handler
        }
    }
}

extension Optional {
    func orThrow<E: Error>(_ error: E) throws(E) -> Wrapped {
        guard let self else { throw error }
        return self
    }
}
