import ClosetModel

/// Where a console session gets its data and how it polls everything now.
public protocol ConsoleDataSource: Sendable {
    func view() async -> ConsoleView
    /// Polls every device now; one line per device with its result.
    func selftest() async -> [String]
}

/// One technician's session on one terminal: line editing, commands, language, `watch`.
/// Read-only: no command changes the agent or starts a shell.
public final class ConsoleSession {
    public private(set) var language: ConsoleLanguage
    private var editor = LineEditor()
    private var watching: String?
    private let source: any ConsoleDataSource
    public static let prompt = "closet> "

    public init(language: ConsoleLanguage, source: any ConsoleDataSource) {
        self.language = language
        self.source = source
    }

    public var isWatching: Bool { watching != nil }

    /// The first thing a session shows.
    public func greeting() async -> [UInt8] {
        let view = await source.view()
        return bytes(ConsoleRenderer(language: language).status(view) + ["", "help: " + Message.help.text(language).lowercased()]) + promptBytes
    }

    /// Bytes typed by the terminal; returns what to send back and whether the session ended.
    public func receive(_ input: [UInt8]) async -> (output: [UInt8], ended: Bool) {
        if watching != nil {
            // Any key stops `watch`; the key itself is not typed into the next line.
            watching = nil
            return (Array("\r\n".utf8) + promptBytes, false)
        }
        var output: [UInt8] = []
        for action in editor.feed(input) {
            switch action {
            case .echo(let b):
                output += b
            case .cancelled:
                output += promptBytes
            case .endOfSession:
                output += Array("\r\n\(Message.goodbye.text(language))\r\n".utf8)
                return (output, true)
            case .line(let line):
                let (text, ended) = await run(line)
                output += text
                if ended { return (output, true) }
                if watching == nil { output += promptBytes }
            }
        }
        return (output, false)
    }

    /// Called every 2 s: redraws a `watch`ed command.
    public func tick() async -> [UInt8] {
        guard let command = watching else { return [] }
        return clearScreen + (await render(command)) + Array("\r\n(\(Message.watchHint.text(language)))".utf8)
    }

    func run(_ line: String) async -> (output: [UInt8], ended: Bool) {
        let words = line.split(separator: " ").map(String.init)
        guard let command = words.first?.lowercased() else { return ([], false) }
        switch command {
        case "exit", "quit", "logout":
            return (Array("\(Message.goodbye.text(language))\r\n".utf8), true)
        case "lang":
            guard words.count == 2, let l = ConsoleLanguage(rawValue: words[1].lowercased()) else {
                return (bytes(["lang en|vi|vi-ascii (\(Message.language.text(language)): \(language.rawValue))"]), false)
            }
            language = l
            return (bytes(["\(Message.language.text(language)): \(l.rawValue)"]), false)
        case "watch":
            let inner = words.count > 1 ? words.dropFirst().joined(separator: " ") : "status"
            guard Self.renderable.contains(inner.split(separator: " ").first.map(String.init) ?? "") else {
                return (bytes(["watch: \(Message.unknownCommand.text(language)) '\(inner)'"]), false)
            }
            watching = inner
            return (await tick(), false)
        case "selftest":
            let results = await source.selftest()
            return (bytes([Message.selftest.text(language) + ":"] + results), false)
        default:
            guard Self.renderable.contains(command) else {
                return (bytes(["\(Message.unknownCommand.text(language)) '\(command.prefix(20))' (help)"]), false)
            }
            return (await render(line), false)
        }
    }

    static let renderable: Set<String> = ["status", "ups", "env", "switch", "backup", "uplink", "events", "config", "help"]

    func render(_ line: String) async -> [UInt8] {
        let words = line.split(separator: " ").map(String.init)
        let r = ConsoleRenderer(language: language)
        if words.first?.lowercased() == "help" { return bytes(r.help()) }
        let view = await source.view()
        switch words.first?.lowercased() ?? "" {
        case "status": return bytes(r.status(view))
        case "ups": return bytes(r.ups(view))
        case "env": return bytes(r.env(view))
        case "switch": return bytes(r.switchMap(view, name: words.count > 1 ? words[1] : nil))
        case "backup": return bytes(r.backup(view))
        case "uplink": return bytes(r.uplink(view))
        case "events": return bytes(r.events(view, count: words.count > 1 ? max(1, min(500, Int(words[1]) ?? 20)) : 20))
        case "config": return bytes(r.configuration(view))
        default: return bytes([Message.unknownCommand.text(language)])
        }
    }

    private var promptBytes: [UInt8] { Array(Self.prompt.utf8) }
    private let clearScreen: [UInt8] = Array("\u{1B}[H\u{1B}[2J".utf8)

    func bytes(_ lines: [String]) -> [UInt8] {
        Array(lines.map { $0 + "\r\n" }.joined().utf8)
    }
}
