import ClosetConfig

/// One UPS as the agent's NUT server shows it.
public struct NUTServedUPS: Sendable, Hashable {
    public var name: String
    public var description: String
    /// NUT names and values; `ups.status` includes `FSD` once it is set.
    public var variables: [String: String]
    /// The agent's readings are stale: every GET answers `ERR DATA-STALE`, as upsd does.
    public var stale: Bool

    public init(name: String, description: String, variables: [String: String], stale: Bool) {
        self.name = name
        self.description = description
        self.variables = variables
        self.stale = stale
    }
}

/// A user allowed to log in (`upsmon` on the closet's servers), as configured.
public typealias NUTServerUser = NUTServerConfiguration.User

/// One client connection's protocol state (NUT docs/net-protocol.txt), pure: a line and the
/// server's current tables in, answer lines out. Read-only: `SET` and `INSTCMD` are refused;
/// `FSD` is taken from a logged-in primary, as upsd does.
public struct NUTServerSession: Sendable {
    public struct Outcome: Sendable, Equatable {
        public var lines: [String]
        /// Close the connection after sending the lines.
        public var close = false
        /// The client (a primary upsmon) set forced shutdown on this UPS.
        public var forcedShutdown: String?
        /// The client logged in to this UPS (counted for NUMLOGINS).
        public var login: String?
    }

    public static let version = "closet-agent NUT server (network protocol 1.3)"

    private var username: String?
    private var password: String?
    public private(set) var loggedIn: String?
    private var primaryOf: String?

    public init() {}

    public mutating func handle(_ line: String, upses: [String: NUTServedUPS], users: [NUTServerUser], logins: (String) -> Int) -> Outcome {
        guard line.utf8.count <= NUTLine.maxLength else { return Outcome(lines: ["ERR INVALID-ARGUMENT line too long"], close: true) }
        guard let words = NUTLine.split(line) else { return Outcome(lines: ["ERR INVALID-ARGUMENT unbalanced quotes"]) }
        guard let command = words.first?.uppercased() else { return Outcome(lines: []) }
        let args = Array(words.dropFirst())
        func ups(_ name: String) -> NUTServedUPS? { upses[name] }
        func reply(_ lines: String...) -> Outcome { Outcome(lines: lines) }

        switch (command, args.count) {
        case ("VER", 0): return reply(Self.version)
        case ("NETVER", 0): return reply("1.3")
        case ("HELP", 0): return reply("Commands: HELP VER NETVER GET LIST USERNAME PASSWORD LOGIN LOGOUT PRIMARY MASTER FSD STARTTLS")
        case ("STARTTLS", 0): return reply("ERR FEATURE-NOT-CONFIGURED")
        case ("LOGOUT", 0): return Outcome(lines: ["OK Goodbye"], close: true)
        case ("USERNAME", 1):
            guard username == nil else { return reply("ERR ALREADY-SET-USERNAME") }
            username = args[0]
            return reply("OK")
        case ("PASSWORD", 1):
            guard password == nil else { return reply("ERR ALREADY-SET-PASSWORD") }
            password = args[0]
            return reply("OK")
        case ("LOGIN", 1):
            guard loggedIn == nil else { return reply("ERR ALREADY-LOGGED-IN") }
            guard username != nil else { return reply("ERR USERNAME-REQUIRED") }
            guard password != nil else { return reply("ERR PASSWORD-REQUIRED") }
            guard authenticated(users) != nil else { return reply("ERR ACCESS-DENIED") }
            guard ups(args[0]) != nil else { return reply("ERR UNKNOWN-UPS") }
            loggedIn = args[0]
            return Outcome(lines: ["OK"], login: args[0])
        case ("PRIMARY", 1), ("MASTER", 1):
            guard ups(args[0]) != nil else { return reply("ERR UNKNOWN-UPS") }
            guard let user = authenticated(users), user.primary else { return reply("ERR ACCESS-DENIED") }
            primaryOf = args[0]
            return reply(command == "PRIMARY" ? "OK PRIMARY-GRANTED" : "OK MASTER-GRANTED")
        case ("FSD", 1):
            guard ups(args[0]) != nil else { return reply("ERR UNKNOWN-UPS") }
            guard primaryOf == args[0], authenticated(users)?.primary == true else { return reply("ERR ACCESS-DENIED") }
            return Outcome(lines: ["OK FSD-SET"], forcedShutdown: args[0])
        case ("SET", _), ("INSTCMD", _):
            return reply("ERR ACCESS-DENIED")
        case ("LIST", 1) where args[0].uppercased() == "UPS":
            let names = upses.keys.sorted()
            return Outcome(lines: ["BEGIN LIST UPS"] + names.map { "UPS \($0) \(NUTLine.quote(upses[$0]!.description))" } + ["END LIST UPS"])
        case ("LIST", 2):
            let what = args[0].uppercased()
            guard let u = ups(args[1]) else { return reply("ERR UNKNOWN-UPS") }
            switch what {
            case "VAR":
                guard !u.stale else { return reply("ERR DATA-STALE") }
                return Outcome(
                    lines: ["BEGIN LIST VAR \(u.name)"] + u.variables.keys.sorted().map { "VAR \(u.name) \($0) \(NUTLine.quote(u.variables[$0]!))" }
                        + ["END LIST VAR \(u.name)"])
            case "RW", "CMD", "CLIENT":
                return reply("BEGIN LIST \(what) \(u.name)", "END LIST \(what) \(u.name)")
            default:
                return reply("ERR INVALID-ARGUMENT")
            }
        case ("LIST", 3):
            let what = args[0].uppercased()
            guard what == "ENUM" || what == "RANGE" else { return reply("ERR INVALID-ARGUMENT") }
            guard let u = ups(args[1]) else { return reply("ERR UNKNOWN-UPS") }
            guard u.variables[args[2]] != nil else { return reply("ERR VAR-NOT-SUPPORTED") }
            return reply("BEGIN LIST \(what) \(u.name) \(args[2])", "END LIST \(what) \(u.name) \(args[2])")
        case ("GET", 2):
            guard let u = ups(args[1]) else { return reply("ERR UNKNOWN-UPS") }
            switch args[0].uppercased() {
            case "UPSDESC": return reply("UPSDESC \(u.name) \(NUTLine.quote(u.description))")
            case "NUMLOGINS": return reply("NUMLOGINS \(u.name) \(logins(u.name))")
            default: return reply("ERR INVALID-ARGUMENT")
            }
        case ("GET", 3):
            guard let u = ups(args[1]) else { return reply("ERR UNKNOWN-UPS") }
            let name = args[2]
            switch args[0].uppercased() {
            case "VAR":
                guard !u.stale else { return reply("ERR DATA-STALE") }
                guard let value = u.variables[name] else { return reply("ERR VAR-NOT-SUPPORTED") }
                return reply("VAR \(u.name) \(name) \(NUTLine.quote(value))")
            case "TYPE":
                guard let value = u.variables[name] else { return reply("ERR VAR-NOT-SUPPORTED") }
                return reply("TYPE \(u.name) \(name) \(Double(value) != nil ? "NUMBER" : "STRING:\(max(value.count, 1))")")
            case "DESC":
                guard u.variables[name] != nil else { return reply("ERR VAR-NOT-SUPPORTED") }
                return reply("DESC \(u.name) \(name) \"Description unavailable\"")
            case "CMDDESC":
                return reply("ERR CMD-NOT-SUPPORTED")
            default:
                return reply("ERR INVALID-ARGUMENT")
            }
        case ("VER", _), ("NETVER", _), ("HELP", _), ("STARTTLS", _), ("LOGOUT", _), ("USERNAME", _), ("PASSWORD", _),
            ("LOGIN", _), ("PRIMARY", _), ("MASTER", _), ("FSD", _), ("LIST", _), ("GET", _):
            return reply("ERR INVALID-ARGUMENT")
        default:
            return reply("ERR UNKNOWN-COMMAND")
        }
    }

    /// The configured user matching the USERNAME and PASSWORD given, if any.
    private func authenticated(_ users: [NUTServerUser]) -> NUTServerUser? {
        guard let username, let password else { return nil }
        return users.first { $0.name == username && constantTimeEqual($0.password, password) }
    }
}

/// Compares two secrets without stopping at the first difference.
func constantTimeEqual(_ a: String, _ b: String) -> Bool {
    let x = Array(a.utf8)
    let y = Array(b.utf8)
    var diff = x.count ^ y.count
    for i in 0..<max(x.count, y.count) {
        diff |= Int((i < x.count ? x[i] : 0) ^ (i < y.count ? y[i] : 0))
    }
    return diff == 0
}
