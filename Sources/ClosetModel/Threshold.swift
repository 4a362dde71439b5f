/// A glob over dotted variable names: `*` matches one dotted segment, `**` any rest.
/// `port.*.oper` matches `port.3.oper`; `board.temperature.*` matches each board sensor.
public struct VariablePattern: Sendable, Hashable, CustomStringConvertible {
    public let text: String
    private let segments: [Substring]

    public init(_ text: String) {
        self.text = text
        self.segments = text.split(separator: ".", omittingEmptySubsequences: false)
    }

    public var description: String { text }

    public func matches(_ name: VariableName) -> Bool {
        let parts = name.rawValue.split(separator: ".", omittingEmptySubsequences: false)
        var i = 0
        for (n, segment) in segments.enumerated() {
            if segment == "**" { return n == segments.count - 1 || i < parts.count }
            guard i < parts.count else { return false }
            if segment != "*", !globMatch(segment, parts[i]) { return false }
            i += 1
        }
        return i == parts.count
    }
}

/// Matches shell-style `*` and `?` inside one name (`en*`, `temp?`).
public func globMatch(_ pattern: some StringProtocol, _ text: some StringProtocol) -> Bool {
    let p = Array(pattern.utf8)
    let t = Array(text.utf8)
    var pi = 0
    var ti = 0
    var star = -1
    var mark = 0
    while ti < t.count {
        if pi < p.count, p[pi] == UInt8(ascii: "?") || p[pi] == t[ti] {
            pi += 1
            ti += 1
        } else if pi < p.count, p[pi] == UInt8(ascii: "*") {
            star = pi
            mark = ti
            pi += 1
        } else if star >= 0 {
            pi = star + 1
            mark += 1
            ti = mark
        } else {
            return false
        }
    }
    while pi < p.count, p[pi] == UInt8(ascii: "*") { pi += 1 }
    return pi == p.count
}

/// How one variable's value turns into a health level.
public enum HealthRule: Sendable, Hashable {
    /// Numeric limits. A level is entered when the value reaches its limit and left only when
    /// the value is back past the limit by `hysteresis`, so a value hovering at the line does
    /// not flap.
    case limits(Limits)
    /// The value must be one of `values`; anything else is `level`.
    case expect(values: [String], level: HealthLevel)
    /// The first entry whose glob matches the value's text gives the level; no match is
    /// `otherwise`. For verdict words that carry a detail (`failed: x.bak: checksum mismatch`).
    case values([ValueLevel], otherwise: HealthLevel)
    /// Each UPS status flag that is set raises the level to its mapped level.
    case flags([FlagLevel])
    /// For `port.N.oper`: up is OK, an admin-down port is OK (switched off on purpose), any
    /// other state takes the level of the first selector matching the port (by its
    /// `port.N.name` or index); ports no selector matches use `otherwise`.
    case ports([PortSelector], otherwise: HealthLevel)

    /// Picks ports by interface name pattern or by index, and says how much a down one matters.
    public struct PortSelector: Sendable, Hashable {
        public var names: [String]
        public var indexes: [Int]
        public var level: HealthLevel
        /// What the port is, for the reason text: "uplink", "server".
        public var role: String?

        public init(names: [String] = [], indexes: [Int] = [], level: HealthLevel, role: String? = nil) {
            self.names = names
            self.indexes = indexes
            self.level = level
            self.role = role
        }

        public func matches(index: Int, name: String?) -> Bool {
            indexes.contains(index) || (name.map { n in names.contains { globMatch($0, n) } } ?? false)
        }
    }

    public struct Limits: Sendable, Hashable {
        public var warnHigh: Double?
        public var critHigh: Double?
        public var warnLow: Double?
        public var critLow: Double?
        public var hysteresis: Double

        public init(
            warnHigh: Double? = nil, critHigh: Double? = nil, warnLow: Double? = nil,
            critLow: Double? = nil, hysteresis: Double = 0
        ) {
            self.warnHigh = warnHigh
            self.critHigh = critHigh
            self.warnLow = warnLow
            self.critLow = critLow
            self.hysteresis = hysteresis
        }
    }

    public struct ValueLevel: Sendable, Hashable {
        public var pattern: String
        public var level: HealthLevel
        public init(_ pattern: String, _ level: HealthLevel) {
            self.pattern = pattern
            self.level = level
        }
    }

    public struct FlagLevel: Sendable, Hashable {
        public var flag: UPSStatus
        public var level: HealthLevel
        public var reason: String
        public init(_ flag: UPSStatus, _ level: HealthLevel, _ reason: String) {
            self.flag = flag
            self.level = level
            self.reason = reason
        }
    }

    /// NUT's flags and what a closet engineer must do about each.
    public static let defaultUPSFlags = HealthRule.flags([
        FlagLevel(.onBattery, .warn, "on battery"),
        FlagLevel(.lowBattery, .crit, "battery low"),
        FlagLevel(.forcedShutdown, .crit, "forced shutdown"),
        FlagLevel(.replaceBattery, .warn, "replace battery"),
        FlagLevel(.overload, .crit, "overloaded"),
        FlagLevel(.bypass, .warn, "on bypass"),
    ])

    /// The level for `value` given the level this rule had before, and why. `sibling` gives
    /// another reading of the same device from the same poll (a port's name and admin state).
    public func evaluate(
        _ value: ReadingValue, unit: Unit?, previous: HealthLevel, variable: VariableName = "",
        sibling: (VariableName) -> ReadingValue? = { _ in nil }
    ) -> (HealthLevel, String) {
        switch self {
        case .ports(let selectors, let otherwise):
            let state = value.description
            guard let (index, _) = variable.portComponents else { return (.unknown, "not a port variable: \(variable)") }
            let name = sibling(.port(index, .name))?.description
            let label = name.map { "\($0) (port \(index))" } ?? "port \(index)"
            if state == "up" { return (.ok, "\(label) up") }
            if sibling(.port(index, .admin))?.description == "down" { return (.ok, "\(label) administratively down") }
            let selector = selectors.first { $0.matches(index: index, name: name) }
            let role = selector?.role.map { "\($0) " } ?? ""
            return (selector?.level ?? otherwise, "\(role)\(label) \(state)")
        case .limits(let limits):
            guard let v = value.number else { return (.unknown, "not a number: \(value)") }
            return limits.evaluate(v, unit: unit, previous: previous)
        case .expect(let values, let level):
            let text = value.description
            if values.contains(text) { return (.ok, "\(text)") }
            return (level, "\(text), expected \(values.joined(separator: " or "))")
        case .values(let entries, let otherwise):
            let text = value.description
            return (entries.first { globMatch($0.pattern, text) }?.level ?? otherwise, text)
        case .flags(let map):
            guard case .status(let status) = value else { return (.unknown, "not a status: \(value)") }
            var level = HealthLevel.ok
            var reasons: [String] = []
            for entry in map where status.contains(entry.flag) {
                level = max(level, entry.level)
                reasons.append(entry.reason)
            }
            return (level, reasons.isEmpty ? status.description : reasons.joined(separator: ", "))
        }
    }
}

extension HealthRule.Limits {
    func evaluate(_ v: Double, unit: Unit?, previous: HealthLevel) -> (HealthLevel, String) {
        let h = hysteresis
        let u = unit.map { " " + $0.rawValue } ?? ""
        let shown = v.compactDescription + u
        // A level already held is kept until the value is back past the limit by `h`.
        if let c = critHigh, v >= c || (previous == .crit && v > c - h) {
            return (.crit, "\(shown) >= crit \(c.compactDescription)\(u)")
        }
        if let c = critLow, v <= c || (previous == .crit && v < c + h) {
            return (.crit, "\(shown) <= crit \(c.compactDescription)\(u)")
        }
        if let w = warnHigh, v >= w || (previous >= .warn && v > w - h) {
            return (.warn, "\(shown) >= warn \(w.compactDescription)\(u)")
        }
        if let w = warnLow, v <= w || (previous >= .warn && v < w + h) {
            return (.warn, "\(shown) <= warn \(w.compactDescription)\(u)")
        }
        return (.ok, "\(shown) within limits")
    }
}

/// A rule bound to the variables it applies to.
public struct BoundRule: Sendable, Hashable {
    public var pattern: VariablePattern
    public var rule: HealthRule
    public init(_ pattern: VariablePattern, _ rule: HealthRule) {
        self.pattern = pattern
        self.rule = rule
    }
}
