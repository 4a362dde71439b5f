/// Something that changed: a health level, the UPS status flags, a device's freshness, or a
/// watched value such as a port's state. Events are what the console, uplink and store
/// show first.
public struct Event: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// A variable's, or the site's, health level changed.
        case health
        /// The `ups.status` flags changed.
        case status
        /// A device went stale or came back.
        case freshness
        /// A watched value (one with an `expect` rule) changed without its level changing.
        case change
    }

    public var time: Timestamp
    /// The device, or nil for the site as a whole.
    public var device: String?
    public var variable: VariableName?
    public var kind: Kind
    public var old: String
    public var new: String
    /// The severity of the new state.
    public var level: HealthLevel
    public var reason: String

    public init(
        time: Timestamp, device: String?, variable: VariableName? = nil, kind: Kind,
        old: String, new: String, level: HealthLevel, reason: String
    ) {
        self.time = time
        self.device = device
        self.variable = variable
        self.kind = kind
        self.old = old
        self.new = new
        self.level = level
        self.reason = reason
    }

    /// One log line: `CRIT ups 'main' ups.status: OL -> OB (on battery)`.
    public var description: String {
        let subject = device.map { "'\($0)'" } ?? "site"
        let what = variable.map { " \($0)" } ?? ""
        return "\(level) \(kind.rawValue) \(subject)\(what): \(old) -> \(new) (\(reason))"
    }
}
