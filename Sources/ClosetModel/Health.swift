/// How healthy a device, or the whole site, is.
///
/// Ordered by how much attention it needs: an unknown device (never read, or stale) outranks
/// an OK one but not a warning, as in most monitoring dashboards' "worst state" roll-up.
public enum HealthLevel: String, Sendable, Hashable, Comparable, CaseIterable, CustomStringConvertible {
    case ok = "OK"
    case unknown = "UNKNOWN"
    case warn = "WARN"
    case crit = "CRIT"

    var rank: Int {
        switch self {
        case .ok: 0
        case .unknown: 1
        case .warn: 2
        case .crit: 3
        }
    }

    public static func < (lhs: HealthLevel, rhs: HealthLevel) -> Bool { lhs.rank < rhs.rank }
    public var description: String { rawValue }

    /// Parses `ok`, `warn`, `crit`, `unknown` in any case.
    public init?(name: String) {
        switch name.lowercased() {
        case "ok": self = .ok
        case "warn", "warning": self = .warn
        case "crit", "critical": self = .crit
        case "unknown": self = .unknown
        default: return nil
        }
    }
}

/// Whether a device's readings are current.
public enum Freshness: Sendable, Hashable {
    /// The device has not been read successfully yet.
    case neverRead
    /// The last poll succeeded.
    case fresh
    /// The last poll failed; the readings are the last known ones.
    case stale(reason: String, since: Timestamp)

    public var isFresh: Bool { self == .fresh }
}

/// What a device is, which decides its default rules and where the console shows it.
public enum DeviceKind: String, Sendable, Hashable, CaseIterable {
    case ups
    case sensor
    case `switch`
    case link
    case backup
    case agent
}
