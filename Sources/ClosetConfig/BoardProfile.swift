/// What a supported board offers, read from `boards/<name>.toml`, so a site config only says
/// what differs.
public struct BoardProfile: Sendable, Hashable {
    public var name: String
    public var description: String
    /// `x86_64`, `aarch64`, `armv7l`.
    public var architecture: String
    /// The technician's serial console (`/dev/ttyS0`, `/dev/ttyAMA0`, `/dev/ttyGS0`).
    public var consoleDevice: String?
    public var consoleSpeed: Int
    /// How the console is wired: UART pins or USB gadget, for the install notes.
    public var consoleWiring: String?
    /// Glob patterns of RS-485 adapters' stable paths.
    public var rs485Adapters: [String]
    /// The 1-Wire bus's device folder.
    public var oneWirePath: String?
    /// hwmon chip names (`coretemp`, `cpu_thermal`) that measure the board itself.
    public var hwmonChips: [String]
    /// thermal_zone types that measure the board itself.
    public var thermalZones: [String]
    public var watchdogDevice: String?
    /// A status LED (sysfs `leds` name), if the board has one to spare.
    public var statusLED: String?

    public init(
        name: String, description: String = "", architecture: String, consoleDevice: String? = nil,
        consoleSpeed: Int = 115_200, consoleWiring: String? = nil, rs485Adapters: [String] = [],
        oneWirePath: String? = nil, hwmonChips: [String] = [], thermalZones: [String] = [],
        watchdogDevice: String? = nil, statusLED: String? = nil
    ) {
        self.name = name
        self.description = description
        self.architecture = architecture
        self.consoleDevice = consoleDevice
        self.consoleSpeed = consoleSpeed
        self.consoleWiring = consoleWiring
        self.rs485Adapters = rs485Adapters
        self.oneWirePath = oneWirePath
        self.hwmonChips = hwmonChips
        self.thermalZones = thermalZones
        self.watchdogDevice = watchdogDevice
        self.statusLED = statusLED
    }

    public static let architectures = ["x86_64", "aarch64", "armv7l", "armv6l"]

    /// Reads a profile; problems go to the reader's diagnostics.
    public static func read(_ r: ConfigReader, name: String) -> BoardProfile? {
        if r.table["arch"] == nil { r.reportTable("missing required key 'arch'") }
        let arch = r.choice("arch", architectures)
        let description = r.string("description") ?? ""
        var profile = BoardProfile(name: name, description: description, architecture: arch ?? "x86_64")
        if let console = r.table("console") {
            profile.consoleDevice = absolutePath(console, "device")
            if let speed = console.integer("speed", in: 1200...4_000_000) { profile.consoleSpeed = Int(speed) }
            profile.consoleWiring = console.string("wiring")
            console.finish()
        }
        if let rs485 = r.table("rs485") {
            profile.rs485Adapters = rs485.strings("adapters") ?? []
            rs485.finish()
        }
        if let w1 = r.table("onewire") {
            profile.oneWirePath = absolutePath(w1, "path")
            w1.finish()
        }
        if let hwmon = r.table("hwmon") {
            profile.hwmonChips = hwmon.strings("chips") ?? []
            profile.thermalZones = hwmon.strings("thermal_zones") ?? []
            hwmon.finish()
        }
        if let wd = r.table("watchdog") {
            profile.watchdogDevice = absolutePath(wd, "device")
            wd.finish()
        }
        if let led = r.table("led") {
            profile.statusLED = led.string("name")
            led.finish()
        }
        r.finish()
        return arch == nil ? nil : profile
    }

    private static func absolutePath(_ r: ConfigReader, _ key: String) -> String? {
        guard let p = r.string(key) else { return nil }
        guard p.hasPrefix("/") else {
            r.report(key, "must be an absolute path, got \"\(p)\"")
            return nil
        }
        return p
    }
}
