/// How a device's readings become health: its rules and what a failed poll means.
public struct DevicePolicy: Sendable, Hashable {
    public var kind: DeviceKind
    public var driver: String
    /// Checked in order; the first rule whose pattern matches a variable decides its level.
    public var rules: [BoundRule]
    /// The device's level while its polls fail (a core switch that stops answering is CRIT).
    public var staleLevel: HealthLevel

    public init(kind: DeviceKind, driver: String, rules: [BoundRule] = [], staleLevel: HealthLevel = .unknown) {
        self.kind = kind
        self.driver = driver
        self.rules = rules
        self.staleLevel = staleLevel
    }

    /// Rules every device of a kind has after its configured ones.
    public static func defaultRules(for kind: DeviceKind) -> [BoundRule] {
        switch kind {
        case .ups:
            [
                BoundRule(VariablePattern(VariableName.upsStatus.rawValue), .defaultUPSFlags),
                // Drivers report a UPS's own alarm ("UPS failed", "General fault") here, "none" if clear.
                BoundRule(VariablePattern("ups.alarm"), .expect(values: ["none"], level: .crit)),
            ]
        case .switch, .link:
            // A port that goes down is a warning unless [[ports]] selections say otherwise;
            // admin-down ports are never faults.
            [BoundRule(VariablePattern("port.*.oper"), .ports([], otherwise: .warn))]
        default: []
        }
    }

    func rule(for name: VariableName) -> HealthRule? {
        rules.first(where: { $0.pattern.matches(name) })?.rule
    }
}

/// A variable that is not OK, and why.
public struct Problem: Sendable, Hashable {
    public var level: HealthLevel
    public var reason: String
}

/// Everything known about one device.
public struct DeviceState: Sendable, Hashable {
    public let name: String
    public let policy: DevicePolicy
    /// The last successful poll's readings, kept (and shown stale) while polls fail.
    public internal(set) var readings: [VariableName: Reading] = [:]
    public internal(set) var freshness: Freshness = .neverRead
    public internal(set) var health: HealthLevel = .unknown
    /// Per-variable levels from the rules, including OK ones (needed for hysteresis).
    public internal(set) var levels: [VariableName: Problem] = [:]
    public internal(set) var lastAttempt: Timestamp?
    public internal(set) var lastSuccess: Timestamp?
    public internal(set) var consecutiveFailures = 0

    public var kind: DeviceKind { policy.kind }

    /// The readings in natural name order (`port.2` before `port.10`).
    public var sortedReadings: [Reading] { readings.values.sorted { $0.name < $1.name } }

    /// Variables whose level is not OK, worst first.
    public var problems: [(VariableName, Problem)] {
        levels.filter { $0.value.level != .ok }
            .sorted { $0.value.level != $1.value.level ? $0.value.level > $1.value.level : $0.key < $1.key }
    }
}

/// The outcome of polling one device once.
public enum PollOutcome: Sendable {
    case readings([Reading])
    case failed(reason: String)
}

/// The whole site's state, and the pure state machine that turns poll outcomes into health
/// levels and events. No IO, no clock: the caller passes the time.
public struct SiteState: Sendable {
    public let site: String
    /// Devices in configuration order.
    public private(set) var devices: [DeviceState] = []
    public private(set) var health: HealthLevel = .unknown
    private var index: [String: Int] = [:]

    public init(site: String) {
        self.site = site
    }

    /// Adds a device in the never-read state; adding a name twice replaces its policy.
    public mutating func register(_ name: String, policy: DevicePolicy) {
        if let i = index[name] {
            devices[i] = DeviceState(name: name, policy: policy)
        } else {
            index[name] = devices.count
            devices.append(DeviceState(name: name, policy: policy))
        }
        health = devices.map(\.health).max() ?? .ok
    }

    public func device(_ name: String) -> DeviceState? {
        index[name].map { devices[$0] }
    }

    /// Applies one poll's outcome and returns the events it caused, in order.
    public mutating func apply(_ outcome: PollOutcome, device name: String, at time: Timestamp) -> [Event] {
        guard let i = index[name] else { return [] }
        var events: [Event] = []
        switch outcome {
        case .readings(let readings):
            Self.applyReadings(readings, to: &devices[i], at: time, events: &events)
        case .failed(let reason):
            Self.applyFailure(reason, to: &devices[i], at: time, events: &events)
        }
        let siteLevel = devices.map(\.health).max() ?? .ok
        if siteLevel != health {
            let worst = devices.filter { $0.health == siteLevel }.map(\.name)
            events.append(
                Event(
                    time: time, device: nil, kind: .health, old: health.rawValue, new: siteLevel.rawValue,
                    level: siteLevel,
                    reason: siteLevel == .ok ? "all devices OK" : "worst: " + worst.joined(separator: ", ")))
            health = siteLevel
        }
        return events
    }

    private static func applyReadings(
        _ readings: [Reading], to device: inout DeviceState, at time: Timestamp, events: inout [Event]
    ) {
        let name = device.name
        if case .stale(let reason, let since) = device.freshness {
            events.append(
                Event(
                    time: time, device: name, kind: .freshness, old: "stale", new: "fresh", level: .ok,
                    reason: "answering again after \(device.consecutiveFailures) failed polls since "
                        + "\(since) (last error: \(reason))"))
        }
        var newReadings: [VariableName: Reading] = [:]
        var newLevels: [VariableName: Problem] = [:]
        for reading in readings.sorted(by: { $0.name < $1.name }) {
            newReadings[reading.name] = reading
            let old = device.readings[reading.name]
            let rule = device.policy.rule(for: reading.name)
            if let rule {
                let previous = device.levels[reading.name]?.level
                let (level, reason) = rule.evaluate(
                    reading.value, unit: reading.unit, previous: previous ?? .ok, variable: reading.name,
                    sibling: { name in readings.first { $0.name == name }?.value })
                newLevels[reading.name] = Problem(level: level, reason: reason)
                if level != (previous ?? .ok) {
                    events.append(
                        Event(
                            time: time, device: name, variable: reading.name, kind: .health,
                            old: (previous ?? .ok).rawValue, new: level.rawValue, level: level, reason: reason))
                }
            }
            guard let old, old.value != reading.value else { continue }
            if case .status(let before) = old.value, case .status(let after) = reading.value {
                let gone = before.subtracting(after).description
                let came = after.subtracting(before).description
                let change = [came.isEmpty ? nil : "+" + came, gone.isEmpty ? nil : "-" + gone]
                    .compactMap { $0 }.joined(separator: " ")
                events.append(
                    Event(
                        time: time, device: name, variable: reading.name, kind: .status,
                        old: before.description, new: after.description,
                        level: newLevels[reading.name]?.level ?? .ok, reason: change))
            } else if rule?.watchesChanges == true, newLevels[reading.name]?.level == device.levels[reading.name]?.level {
                events.append(
                    Event(
                        time: time, device: name, variable: reading.name, kind: .change,
                        old: old.value.description, new: reading.value.description,
                        level: newLevels[reading.name]?.level ?? .ok,
                        reason: newLevels[reading.name]?.reason ?? ""))
            }
        }
        for (variable, problem) in device.levels where newLevels[variable] == nil && problem.level != .ok {
            events.append(
                Event(
                    time: time, device: name, variable: variable, kind: .health, old: problem.level.rawValue,
                    new: HealthLevel.ok.rawValue, level: .ok, reason: "no longer reported"))
        }
        device.readings = newReadings
        device.levels = newLevels
        device.freshness = .fresh
        device.consecutiveFailures = 0
        device.lastAttempt = time
        device.lastSuccess = time
        device.health = newLevels.values.map(\.level).max() ?? .ok
    }

    private static func applyFailure(
        _ reason: String, to device: inout DeviceState, at time: Timestamp, events: inout [Event]
    ) {
        device.consecutiveFailures += 1
        device.lastAttempt = time
        switch device.freshness {
        case .stale(_, let since):
            device.freshness = .stale(reason: reason, since: since)
        case .fresh, .neverRead:
            events.append(
                Event(
                    time: time, device: device.name, kind: .freshness,
                    old: device.freshness == .fresh ? "fresh" : "never read", new: "stale",
                    level: device.policy.staleLevel, reason: reason))
            device.freshness = .stale(reason: reason, since: time)
        }
        device.health = device.policy.staleLevel
    }
}

extension HealthRule {
    /// Rules over words (port states, expected values): a change is news even at the same level.
    var watchesChanges: Bool {
        switch self {
        case .expect, .ports, .values: true
        case .limits, .flags: false
        }
    }
}
