import ClosetConfig
import ClosetModel
import Dispatch

/// Reads a UPS through an existing NUT server (upsd): every variable of one UPS, 1:1.
public struct NUTDriver: DeviceDriver {
    public struct Configuration: DriverConfiguration, Hashable {
        public var host: String
        public var port: Int
        /// The UPS's name on that upsd (`upsc NAME@host`); nil: the only one it serves.
        public var ups: String?
        public var username: String?
        public var password: String?
        public var timeout: Duration

        public init(host: String, port: Int = 3493, ups: String? = nil, username: String? = nil, password: String? = nil, timeout: Duration = .seconds(3)) {
            self.host = host
            self.port = port
            self.ups = ups
            self.username = username
            self.password = password
            self.timeout = timeout
        }

        public var summary: [(key: String, value: String)] {
            var s: [(key: String, value: String)] = [("host", host), ("port", String(port)), ("ups", ups ?? "(the only one)")]
            if let username { s += [("username", username), ("password", password == nil ? "(none)" : "********")] }
            return s
        }

        public func makeDriver(_ runtime: DriverRuntime) throws -> any DeviceDriver {
            NUTDriver(configuration: self)
        }
    }

    /// `[[ups]]` with `driver = "nut"`.
    public static let factory = DriverFactory(name: "nut", kinds: [.ups]) { r, _ in
        let host = r.string("host") ?? "127.0.0.1"
        let port = r.integer("port", in: 1...65535).map(Int.init) ?? 3493
        let ups = r.string("ups")
        if let ups, !NUTLine.isPlainWord(ups) { r.report("ups", "a UPS name has no spaces or quotes, got \"\(ups)\"") }
        let username = r.string("username")
        let password = r.secret("password")
        if (username == nil) != (password == nil) { r.report(username == nil ? "password" : "username", "username and password go together") }
        let timeout = r.duration("answer_timeout", in: .milliseconds(100)...(.seconds(60))) ?? .seconds(3)
        return Configuration(host: host, port: port, ups: ups, username: username, password: password, timeout: timeout)
    }

    public let configuration: Configuration
    private let connection: Connection

    public init(configuration: Configuration) {
        self.configuration = configuration
        self.connection = Connection(configuration: configuration)
    }

    public func poll(at time: Timestamp) async throws -> [Reading] {
        let variables = try await connection.variables()
        return NUTVariables.readings(variables, at: time)
    }

    /// The client and the UPS name learnt from upsd, confined to one queue.
    final class Connection: @unchecked Sendable {
        let client: NUTClient
        let queue: DispatchQueue
        var ups: String?

        init(configuration: Configuration) {
            client = NUTClient(
                host: configuration.host, port: configuration.port, timeout: configuration.timeout, username: configuration.username,
                password: configuration.password)
            queue = DispatchQueue(label: "closet.nut.\(configuration.host):\(configuration.port)")
            ups = configuration.ups
        }

        func variables() async throws -> [(name: String, value: String)] {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<[(name: String, value: String)], any Error>) in
                queue.async { [self] in
                    c.resume(with: Result { () throws(NUTError) in
                        if ups == nil {
                            let list = try client.upsList()
                            guard list.count == 1 else {
                                throw NUTError(
                                    "UNKNOWN-UPS",
                                    list.isEmpty
                                        ? "\(client.peer) serves no UPS"
                                        : "\(client.peer) serves \(list.map(\.name).joined(separator: ", ")): set ups = \"NAME\"")
                            }
                            ups = list[0].name
                        }
                        return try client.variables(ups: ups!)
                    })
                }
            }
        }
    }
}
