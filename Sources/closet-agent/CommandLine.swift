import ClosetConfig

/// The agent's command line: subcommands with options, help text beside each option.
///
/// Not swift-argument-parser: it imports FoundationEssentials, which measured +3.2 MB resident
/// in the static release agent (13.0 MB with it, see README "Benchmarks"), a fifth of the
/// agent's whole budget, for parsing a handful of options.
struct CommandSpec: Sendable {
    struct Option: Sendable {
        var name: String
        /// nil for a flag; else the value's placeholder (`FILE`).
        var value: String?
        var help: String
        var defaultValue: String?
    }

    var name: String
    var abstract: String
    var options: [Option]
    /// Placeholder and help of the single optional positional argument, if any.
    var argument: (name: String, help: String)?

    var usage: String {
        var parts = ["closet-agent", name]
        if let argument { parts.append("[\(argument.name)]") }
        parts += options.map { o in o.value.map { "[--\(o.name) \($0)]" } ?? "[--\(o.name)]" }
        return parts.joined(separator: " ")
    }

    var help: String {
        var out = "\(abstract)\n\nUSAGE: \(usage)\n"
        if let argument { out += "\nARGUMENTS:\n  \(pad(argument.name, 24)) \(argument.help)\n" }
        if !options.isEmpty {
            out += "\nOPTIONS:\n"
            for o in options {
                let left = "--\(o.name)" + (o.value.map { " \($0)" } ?? "")
                out += "  \(pad(left, 24)) \(o.help)" + (o.defaultValue.map { " (default: \($0))" } ?? "") + "\n"
            }
        }
        out += "  \(pad("-h, --help", 24)) Show this help.\n"
        return out
    }
}

private func pad(_ s: String, _ width: Int) -> String {
    s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
}

/// What the user asked for, with every option's value.
struct ParsedCommand: Equatable {
    var name: String
    var values: [String: String] = [:]
    var flags: Set<String> = []
    var arguments: [String] = []
    var argument: String? { arguments.first }

    func value(_ option: String, default fallback: String) -> String { values[option] ?? fallback }
}

/// A command line the agent cannot run; the description says what to type instead.
struct UsageError: Error, Equatable, CustomStringConvertible {
    var description: String
}

enum AgentCommandLine {
    static let configOption = CommandSpec.Option(
        name: "config", value: "FILE", help: "The agent's configuration file (TOML).",
        defaultValue: "/etc/closet/agent.toml")
    static let boardsOption = CommandSpec.Option(
        name: "boards-dir", value: "DIR", help: "Board profiles, when the config does not set agent.boards_dir.",
        defaultValue: "/usr/share/closet/boards")

    static let commands: [CommandSpec] = [
        CommandSpec(
            name: "run", abstract: "Run the agent: poll every device on its interval until SIGTERM or SIGINT.",
            options: [
                configOption, boardsOption,
                .init(
                    name: "log-level", value: "LEVEL",
                    help: "trace, debug, info, notice, warning, error or critical; overrides agent.log_level."),
            ]),
        CommandSpec(
            name: "once", abstract: "Poll every device once and print the snapshot.",
            options: [
                configOption, boardsOption,
                .init(name: "json", value: nil, help: "Print JSON (schema closet.snapshot/1, see README) instead of a table."),
            ]),
        CommandSpec(
            name: "check-config",
            abstract: "Validate a configuration file and print every problem with file:line and key.",
            options: [configOption, boardsOption], argument: ("FILE", "The file to check (default: --config).")),
        CommandSpec(
            name: "probe",
            abstract: "Look at the board (no KIND: prints a starter config) or a device: 'probe modbus', 'probe megatec', 'probe usb', 'probe snmp --host HOST'.",
            options: [
                .init(name: "sysfs-root", value: "DIR", help: "Where sysfs is, for discovery.", defaultValue: "/sys"),
                .init(name: "dev-root", value: "DIR", help: "Where /dev is, for discovery.", defaultValue: "/dev"),
                .init(name: "proc-root", value: "DIR", help: "Where /proc is, for discovery.", defaultValue: "/proc"),
                boardsOption,
                .init(name: "device", value: "PATH", help: "Serial device (Modbus RTU or Megatec); for usb: VID:PID or bus path of the UPS to dump."),
                .init(name: "host", value: "HOST", help: "Modbus TCP host (instead of --device)."),
                .init(name: "port", value: "N", help: "Modbus TCP port.", defaultValue: "502"),
                .init(name: "baud", value: "N", help: "Serial speed.", defaultValue: "9600 (modbus), 2400 (megatec)"),
                .init(name: "parity", value: "P", help: "none, even or odd (Modbus RTU).", defaultValue: "none"),
                .init(name: "unit", value: "A..B", help: "Modbus unit ids to try.", defaultValue: "1..10"),
                .init(name: "timeout", value: "T", help: "How long each request may take.", defaultValue: "300ms"),
                .init(name: "community", value: "C", help: "SNMP v2c community.", defaultValue: "public"),
                .init(name: "v3-user", value: "U", help: "SNMP v3 user (then --auth-password, --priv-password)."),
                .init(name: "auth-password", value: "P", help: "SNMP v3 authentication passphrase (SHA)."),
                .init(name: "priv-password", value: "P", help: "SNMP v3 privacy passphrase (AES)."),
            ], argument: ("KIND", "modbus, megatec, usb, or snmp followed by the host (probe snmp 10.0.0.2).")),
        CommandSpec(
            name: "console", abstract: "Attach to the running agent's console (the same screens as the serial port).",
            options: [.init(name: "socket", value: "PATH", help: "The agent's console socket (agent.console_socket).", defaultValue: "/run/closet/console.sock")]),
        CommandSpec(
            name: "backup",
            abstract: "Check the backup sets now and print the verdict with reasons ('backup check [SET]').",
            options: [
                configOption, boardsOption,
                .init(name: "verify", value: nil, help: "Also verify the newest backup against its checksums (may take long)."),
            ], argument: ("check [SET]", "'check', then a backup set's name (default: every set). Exit 0 OK, 1 WARN, 2 CRIT, 3 UNKNOWN.")),
        CommandSpec(
            name: "outbox", abstract: "Show the outbox: records waiting, bytes, oldest record's age, last push, records thinned or refused.",
            options: [configOption, boardsOption]),
        CommandSpec(
            name: "decode", abstract: "Print a record or batch (as stored or as sent, deflated or not) as JSON.",
            options: [], argument: ("FILE", "The file to read; - or nothing: standard input.")),
        CommandSpec(name: "version", abstract: "Print the agent's version.", options: []),
    ]

    static var overview: String {
        var out = """
            closet-agent: reads a server closet's UPS, sensors, switches and backups and reports their health.

            USAGE: closet-agent <command> [options]   (no command: run)

            COMMANDS:

            """
        for c in commands { out += "  \(pad(c.name, 14)) \(c.abstract)\n" }
        out += "\nSee 'closet-agent <command> --help' for a command's options.\n"
        return out
    }

    /// Parses `arguments` (without the program name). `--help` anywhere yields `help`.
    static func parse(_ arguments: [String]) throws(UsageError) -> ParsedCommand {
        var args = arguments[...]
        if let first = args.first, first == "-h" || first == "--help" || first == "help" {
            return ParsedCommand(name: "help")
        }
        if let first = args.first, first == "--version" { return ParsedCommand(name: "version") }
        var name = "run"
        if let first = args.first, !first.hasPrefix("-") {
            name = first
            args = args.dropFirst()
        }
        guard let spec = commands.first(where: { $0.name == name }) else {
            throw UsageError(
                description: "unknown command '\(name)'" + suggestion(for: name, among: commands.map(\.name))
                    + "\n\n" + overview)
        }
        var parsed = ParsedCommand(name: name)
        while let arg = args.popFirst() {
            if arg == "-h" || arg == "--help" { return ParsedCommand(name: "help", arguments: [name]) }
            if arg.hasPrefix("--") {
                var key = String(arg.dropFirst(2))
                var inline: String?
                if let eq = key.firstIndex(of: "=") {
                    inline = String(key[key.index(after: eq)...])
                    key = String(key[..<eq])
                }
                guard let option = spec.options.first(where: { $0.name == key }) else {
                    throw UsageError(
                        description: "\(name): unknown option '--\(key)'"
                            + suggestion(for: key, among: spec.options.map(\.name)) + "\nUSAGE: \(spec.usage)")
                }
                if option.value == nil {
                    if inline != nil { throw UsageError(description: "\(name): --\(key) takes no value") }
                    parsed.flags.insert(key)
                } else {
                    guard let value = inline ?? args.popFirst() else {
                        throw UsageError(description: "\(name): --\(key) needs a value (\(option.value!))")
                    }
                    parsed.values[key] = value
                }
            } else if let a = spec.argument, parsed.arguments.count < a.name.split(separator: " ").count {
                parsed.arguments.append(arg)
            } else {
                throw UsageError(description: "\(name): unexpected argument '\(arg)'\nUSAGE: \(spec.usage)")
            }
        }
        return parsed
    }
}

/// A probe that ran and failed (no such device, no permission): exit 1, not a usage error.
struct ProbeFailure: Error, CustomStringConvertible {
    var description: String
}
