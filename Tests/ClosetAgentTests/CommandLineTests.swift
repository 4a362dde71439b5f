import Testing

@testable import closet_agent

@Suite struct CommandLineTests {
    @Test func theOverviewListsEveryCommand() {
        let help = AgentCommandLine.overview
        for command in ["run", "once", "check-config", "version"] {
            #expect(help.contains("\n  \(command) "), "\(command) missing from:\n\(help)")
        }
    }

    @Test func eachCommandsHelpShowsItsOptionsWithDefaults() throws {
        let once = try #require(AgentCommandLine.commands.first { $0.name == "once" })
        #expect(
            once.help == """
                Poll every device once and print the snapshot.

                USAGE: closet-agent once [--config FILE] [--boards-dir DIR] [--json]

                OPTIONS:
                  --config FILE            The agent's configuration file (TOML). (default: /etc/closet/agent.toml)
                  --boards-dir DIR         Board profiles, when the config does not set agent.boards_dir. (default: /usr/share/closet/boards)
                  --json                   Print JSON (schema closet.snapshot/1, see README) instead of a table.
                  -h, --help               Show this help.

                """)
    }

    @Test func optionsFlagsAndArgumentsParse() throws {
        #expect(try AgentCommandLine.parse([]) == ParsedCommand(name: "run"))
        #expect(
            try AgentCommandLine.parse(["once", "--json", "--config=/x.toml"])
                == ParsedCommand(name: "once", values: ["config": "/x.toml"], flags: ["json"]))
        #expect(
            try AgentCommandLine.parse(["check-config", "a.toml", "--boards-dir", "b"])
                == ParsedCommand(name: "check-config", values: ["boards-dir": "b"], arguments: ["a.toml"]))
        #expect(try AgentCommandLine.parse(["--config", "/y"]) == ParsedCommand(name: "run", values: ["config": "/y"]))
        #expect(try AgentCommandLine.parse(["once", "--help"]) == ParsedCommand(name: "help", arguments: ["once"]))
        #expect(try AgentCommandLine.parse(["--version"]).name == "version")
    }

    @Test(arguments: [
        (["onse"], "unknown command 'onse'; did you mean \"once\"?"),
        (["once", "--jsn"], "once: unknown option '--jsn'; did you mean \"json\"?\nUSAGE: closet-agent once [--config FILE] [--boards-dir DIR] [--json]"),
        (["run", "--config"], "run: --config needs a value (FILE)"),
        (["once", "--json=yes"], "once: --json takes no value"),
        (["version", "extra"], "version: unexpected argument 'extra'\nUSAGE: closet-agent version"),
    ])
    func mistakesSayWhatToTypeInstead(arguments: [String], message: String) {
        #expect(throws: UsageError.self) { try AgentCommandLine.parse(arguments) }
        do {
            _ = try AgentCommandLine.parse(arguments)
        } catch {
            #expect(error.description.hasPrefix(message), "\(error.description)")
        }
    }

    @Test func aBadLogLevelIsRefusedBeforeLoadingAnything() async {
        let code = await ClosetAgentMain.execute(ParsedCommand(name: "run", values: ["log-level": "loud", "config": "/nonexistent"]))
        #expect(code == 64)
    }
}
