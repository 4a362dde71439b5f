import ClosetModel

/// The agent's whole configuration: a plain value, filled by `ConfigLoader` from TOML.
public struct AgentConfiguration: Sendable {
    /// The site id the store knows this closet by.
    public var site: String
    /// The board profile named by `agent.board`, if any.
    public var board: BoardProfile?
    /// Root of the sysfs tree (`/sys`; a fixture folder in tests).
    public var sysfsRoot: String
    /// `trace`, `debug`, `info`, `notice`, `warning`, `error`, `critical`.
    public var logLevel: String
    public var devices: [DeviceConfiguration]
    /// Serial consoles for the technician.
    public var consoles: [ConsoleConfiguration] = []
    /// Where `closet-agent console` connects; nil: no local console socket.
    public var consoleSocket: String?
    /// The hardware watchdog to keep fed while the poll loop is healthy; nil: none.
    public var watchdogDevice: String?
    /// Where records go; nil: the agent keeps its state local.
    public var uplink: UplinkConfiguration?
    /// The NUT-compatible server for the closet's servers; nil: off.
    public var nutServer: NUTServerConfiguration?

    public init(
        site: String, board: BoardProfile? = nil, sysfsRoot: String = "/sys", logLevel: String = "info",
        devices: [DeviceConfiguration] = []
    ) {
        self.site = site
        self.board = board
        self.sysfsRoot = sysfsRoot
        self.logLevel = logLevel
        self.devices = devices
    }

    public static let logLevels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
}

/// How often and how patiently one device is polled.
public struct PollSettings: Sendable, Hashable {
    public var interval: Duration
    /// A poll not finished by then is abandoned and the device marked stale.
    public var timeout: Duration
    /// Failed polls are retried at `interval`, then twice that, and so on up to this.
    public var maxBackoff: Duration

    public init(interval: Duration = .seconds(10), timeout: Duration = .seconds(5), maxBackoff: Duration = .seconds(300)) {
        self.interval = interval
        self.timeout = timeout
        self.maxBackoff = maxBackoff
    }

    /// The delay before the next poll after `failures` consecutive failures (0 = success).
    public func delay(afterFailures failures: Int) -> Duration {
        guard failures > 0 else { return interval }
        var d = interval
        for _ in 1..<min(failures, 32) {
            d = d * 2
            if d >= maxBackoff { return max(maxBackoff, interval) }
        }
        return min(max(d, interval), max(maxBackoff, interval))
    }
}

/// One configured device.
public struct DeviceConfiguration: Sendable {
    public var name: String
    public var kind: DeviceKind
    public var driverName: String
    public var driver: any DriverConfiguration
    public var poll: PollSettings
    /// Configured rules first, then the kind's defaults.
    public var rules: [BoundRule]
    public var staleLevel: HealthLevel
    /// The line of the device's table in the config file.
    public var line: Int

    public init(
        name: String, kind: DeviceKind, driverName: String, driver: any DriverConfiguration,
        poll: PollSettings = PollSettings(), rules: [BoundRule] = [], staleLevel: HealthLevel = .unknown,
        line: Int = 0
    ) {
        self.name = name
        self.kind = kind
        self.driverName = driverName
        self.driver = driver
        self.poll = poll
        self.rules = rules
        self.staleLevel = staleLevel
        self.line = line
    }

    public var policy: DevicePolicy {
        DevicePolicy(kind: kind, driver: driverName, rules: rules, staleLevel: staleLevel)
    }
}

/// A driver's own settings, read from its device table.
public protocol DriverConfiguration: Sendable {
    /// The settings as `key = value` pairs for `closet-agent config`, secrets masked.
    var summary: [(key: String, value: String)] { get }
    /// Builds the driver. Throws when something needed at run time is missing.
    func makeDriver(_ runtime: DriverRuntime) throws -> any DeviceDriver
    /// Rules this driver's readings need, after the configured ones (a switch's flap count).
    var defaultRules: [BoundRule] { get }
}

extension DriverConfiguration {
    public var defaultRules: [BoundRule] { [] }
}

/// What a driver's config reader may use besides its own table.
public struct ConfigContext: Sendable {
    public var sysfsRoot: String
    public var board: BoardProfile?
    /// The folder of the config file, for relative paths.
    public var directory: String
}

/// Registers one driver with the config loader.
public struct DriverFactory: Sendable {
    public var name: String
    /// The device kinds this driver can be configured under (`[[sensor]]`, `[[link]]`, ...).
    public var kinds: [DeviceKind]
    /// Reads the driver's keys from the device table (the common keys are already taken);
    /// returns nil after reporting problems.
    public var read: @Sendable (ConfigReader, ConfigContext) -> (any DriverConfiguration)?

    public init(
        name: String, kinds: [DeviceKind],
        read: @escaping @Sendable (ConfigReader, ConfigContext) -> (any DriverConfiguration)?
    ) {
        self.name = name
        self.kinds = kinds
        self.read = read
    }
}

/// One serial console port.
public struct ConsoleConfiguration: Sendable, Hashable {
    public var device: String
    public var speed: Int
    /// `en`, `vi` or `vi-ascii`.
    public var language: String
    public var line: Int

    public init(device: String, speed: Int = 115_200, language: String = "en", line: Int = 0) {
        self.device = device
        self.speed = speed
        self.language = language
        self.line = line
    }
}

/// `[uplink]`: where records go and how they are kept until they get there.
public struct UplinkConfiguration: Sendable {
    /// The store's ingest URL (`https://store.example:8443/v1/ingest`).
    public var url: String
    /// The site's key from `closet-store site add` (hex).
    public var key: [UInt8]
    /// PEM file of the CA that signed the store's certificate; nil: the system's CAs.
    public var caFile: String?
    public var outboxPath: String
    public var outboxMaxBytes: Int64
    /// How often the state is turned into a record.
    public var recordInterval: Duration
    public var fullEvery: Duration
    /// How long records may wait in memory before a commit (events commit at once).
    public var commitInterval: Duration
    /// Upload cap in bytes per second; nil: none.
    public var bandwidth: Int?
    public var batchBytes: Int
    public var timeout: Duration
    public var maxBackoff: Duration
    public var deadbands: [(VariablePattern, Double)]
    /// A second sink: InfluxDB / VictoriaMetrics line protocol `/write` URL.
    public var influxURL: String?
    public var line: Int

    public init(url: String, key: [UInt8], outboxPath: String) {
        self.url = url
        self.key = key
        self.outboxPath = outboxPath
        self.outboxMaxBytes = 64 << 20
        self.recordInterval = .seconds(10)
        self.fullEvery = .seconds(900)
        self.commitInterval = .seconds(60)
        self.batchBytes = 256 << 10
        self.timeout = .seconds(30)
        self.maxBackoff = .seconds(300)
        self.deadbands = []
        self.line = 0
    }
}

/// `[nut_server]`: upsd's protocol for the closet's servers (`upsmon`, `upsc`, WinNUT).
public struct NUTServerConfiguration: Sendable, Hashable {
    public struct User: Sendable, Hashable {
        public var name: String
        public var password: String
        /// `upsmon = "primary"` may set FSD itself; "secondary" only follows.
        public var primary: Bool

        public init(name: String, password: String, primary: Bool) {
            self.name = name
            self.password = password
            self.primary = primary
        }
    }

    public var listen: [String] = ["127.0.0.1"]
    public var port = 3493
    public var maxClients = 32
    /// On battery and the charge at or below this (percent): FSD.
    public var fsdCharge: Double? = 20
    /// On battery and the runtime at or below this: FSD.
    public var fsdRuntime: Duration? = .seconds(180)
    public var users: [User] = []
    public var line = 0

    public init() {}
}
