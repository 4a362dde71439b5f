import ClosetModel

/// Turns the site's state into compact records: a dictionary when names change, a full
/// snapshot at least every `fullEvery`, and in between deltas of what moved beyond its
/// deadband. Pure: the caller passes the state, the events, the time and the sequence numbers.
public struct RecordEncoder: Sendable {
    public var site: String
    public var boot: UInt32
    public var fullEvery: Duration
    /// Per-variable deadbands (in the variable's own unit), first match wins; then defaults.
    public var deadbands: [(VariablePattern, Double)]
    /// The next sequence number to hand out.
    public private(set) var nextSeq: UInt64

    public private(set) var dictionary = WireDictionary()
    private var deviceIndex: [String: Int] = [:]
    private var channelIndex: [ChannelKey: Int] = [:]
    /// What the store holds after our last state record.
    private var sent: Encoded?
    private var lastStateSeq: UInt64 = 0
    private var lastFull: Int64 = .min
    private var sentDictionary: UInt32 = 0

    struct ChannelKey: Hashable {
        var device: String
        var variable: String
    }

    /// The state as the store reconstructs it: scaled values, level nibbles, port bits.
    public struct Encoded: Sendable, Hashable {
        public var levels: [UInt8]
        public var values: [Int: Int64]
        public var ports: [Int: PortBits]
    }

    public struct PortBits: Sendable, Hashable {
        public var down: [Bool]
        public var adminDown: [Bool]
    }

    public init(
        site: String, boot: UInt32, nextSeq: UInt64, fullEvery: Duration = .seconds(900),
        deadbands: [(VariablePattern, Double)] = []
    ) {
        self.site = site
        self.boot = boot
        self.nextSeq = max(1, nextSeq)
        self.fullEvery = fullEvery
        self.deadbands = deadbands
    }

    /// Records for this moment: events first (they go upstream first), then a dictionary if
    /// names changed, then a full snapshot or a delta (none when nothing moved).
    public mutating func records(state: SiteState, events: [Event], at time: Timestamp) -> [WireRecord] {
        let now = time.nanosecondsSinceEpoch.floorDivided(by: 1_000_000_000)
        var out: [WireRecord] = []
        updateDictionary(state)
        if dictionary.id != sentDictionary {
            out.append(make(.dictionary(dictionary), now))
            sentDictionary = dictionary.id
            sent = nil  // indexes may have moved: resync with a full snapshot
        }
        if !events.isEmpty {
            out.append(make(.events(events.map { wire($0) }), now))
        }
        let current = encode(state)
        if let previous = sent, now - lastFull < Int64(fullEvery.seconds) {
            let delta = self.delta(from: previous, to: current, state: state)
            if !delta.isEmpty {
                out.append(make(.delta(delta), now))
                sent = previous.applying(delta)
                lastStateSeq = out.last!.seq
            }
        } else {
            out.append(make(.full(current.snapshot(dictionary: dictionary)), now))
            sent = current
            lastFull = now
            lastStateSeq = out.last!.seq
        }
        return out
    }

    /// Forces the dictionary and a full snapshot out again (the store asked to resync).
    public mutating func resync() {
        lastFull = .min
        sentDictionary = 0
    }

    private mutating func make(_ body: WireRecord.Body, _ time: Int64) -> WireRecord {
        var body = body
        if case .delta(var d) = body {
            d.base = lastStateSeq
            body = .delta(d)
        }
        defer { nextSeq += 1 }
        return WireRecord(site: site, boot: boot, seq: nextSeq, time: time, body: body)
    }

    // MARK: Dictionary

    private mutating func updateDictionary(_ state: SiteState) {
        var d = dictionary
        for device in state.devices where deviceIndex[device.name] == nil {
            deviceIndex[device.name] = d.devices.count
            d.devices.append(.init(name: device.name, kind: device.kind.rawValue, driver: device.policy.driver))
        }
        for device in state.devices {
            let i = deviceIndex[device.name]!
            let ports = Self.ports(of: device)
            if !ports.isEmpty || !d.devices[i].portIndex.isEmpty {
                let indexes = ports.map { UInt32($0.index) }
                let names = ports.map(\.name)
                if d.devices[i].portIndex != indexes || d.devices[i].portName != names {
                    d.devices[i].portIndex = indexes
                    d.devices[i].portName = names
                }
            }
            // Only new channels are sorted (natural order, so the dictionary is deterministic):
            // sorting every reading of five switches on each record cost more than the rest.
            var fresh: [Reading] = []
            for reading in device.readings.values where Self.isChannel(reading) {
                if channelIndex[ChannelKey(device: device.name, variable: reading.name.rawValue)] == nil { fresh.append(reading) }
            }
            for reading in fresh.sorted(by: { $0.name < $1.name }) {
                channelIndex[ChannelKey(device: device.name, variable: reading.name.rawValue)] = d.channels.count
                d.channels.append(
                    .init(
                        device: UInt32(i), variable: reading.name.rawValue, unit: reading.unit?.rawValue ?? "",
                        exponent: Self.exponent(reading.name, reading.unit)))
            }
        }
        if d != dictionary || d.id == 0 {
            d.id = d.computedID()
            dictionary = d
        }
    }

    /// Numbers and UPS flags go into snapshots; ports go as bitmaps, words as events.
    static func isChannel(_ r: Reading) -> Bool {
        // Per-port values and the port counts travel as the port bitmaps.
        guard r.name.portComponents == nil, !r.name.rawValue.hasPrefix("ports.") else { return false }
        switch r.value {
        case .number(let v): return v.isFinite
        case .status: return true
        case .text: return false
        }
    }

    static func ports(of device: DeviceState) -> [(index: Int, name: String)] {
        var out: [Int: String] = [:]
        for (name, reading) in device.readings {
            guard let (index, field) = name.portComponents, field == .oper || field == .name else { continue }
            if field == .name { out[index] = reading.value.description } else if out[index] == nil { out[index] = "" }
        }
        return out.keys.sorted().map { ($0, out[$0]!) }
    }

    /// Values travel as integers in units of 10^exponent.
    public static func exponent(_ name: VariableName, _ unit: Unit?) -> Int32 {
        switch unit {
        case .celsius, .volt, .hertz, .ampere: -1
        case .byte: 6
        default: 0
        }
    }

    /// How far a value may move before a delta carries it, in its own unit.
    public static func defaultDeadband(_ name: VariableName, _ unit: Unit?) -> Double {
        let n = name.rawValue
        if n.hasSuffix(".age") || n.hasSuffix("uptime") { return 3600 }
        if n == "agent.cpu" { return 60 }
        switch unit {
        case .celsius: return 0.5
        case .relativeHumidity: return 2
        case .volt: return 2
        case .hertz, .ampere: return 0.5
        case .percent: return 1
        case .second: return 60
        case .byte: return n.hasPrefix("agent.") ? 1_000_000 : 10_000_000
        case .watt, .voltAmpere: return 20
        case .rpm: return 100
        default: return 0
        }
    }

    func deadband(_ name: VariableName, _ unit: Unit?) -> Double {
        deadbands.first { $0.0.matches(name) }?.1 ?? Self.defaultDeadband(name, unit)
    }

    // MARK: Snapshots and deltas

    static func levelNibble(_ device: DeviceState) -> UInt8 {
        let level: UInt8 =
            switch device.health {
            case .ok: 0
            case .unknown: 1
            case .warn: 2
            case .crit: 3
            }
        if case .stale = device.freshness { return level | 4 }
        return level
    }

    func encode(_ state: SiteState) -> Encoded {
        var levels = [UInt8](repeating: 1, count: dictionary.devices.count)
        var values: [Int: Int64] = [:]
        var ports: [Int: PortBits] = [:]
        for device in state.devices {
            guard let i = deviceIndex[device.name] else { continue }
            levels[i] = Self.levelNibble(device)
            for reading in device.readings.values where Self.isChannel(reading) {
                guard let c = channelIndex[ChannelKey(device: device.name, variable: reading.name.rawValue)] else { continue }
                values[c] = Self.scaled(reading.value, exponent: dictionary.channels[c].exponent)
            }
            let order = dictionary.devices[i].portIndex
            if !order.isEmpty {
                var bits = PortBits(down: [], adminDown: [])
                for index in order {
                    let oper = device.readings[.port(Int(index), .oper)]?.value.description
                    let admin = device.readings[.port(Int(index), .admin)]?.value.description
                    bits.down.append(oper != "up")
                    bits.adminDown.append(admin == "down")
                }
                ports[i] = bits
            }
        }
        return Encoded(levels: levels, values: values, ports: ports)
    }

    static func scaled(_ value: ReadingValue, exponent: Int32) -> Int64 {
        switch value {
        case .status(let s): return Int64(s.rawValue)
        case .number(let v):
            var x = v
            if exponent > 0 { for _ in 0..<exponent { x /= 10 } } else { for _ in 0..<(-exponent) { x *= 10 } }
            let r = x.rounded()
            return r >= 9.2e18 ? Int64.max : r <= -9.2e18 ? Int64.min : Int64(r)
        case .text: return 0
        }
    }

    func delta(from old: Encoded, to new: Encoded, state: SiteState) -> WireDelta {
        var d = WireDelta(base: 0)
        for c in new.values.keys.sorted() {
            let v = new.values[c]!
            let channel = dictionary.channels[c]
            if let was = old.values[c] {
                guard was != v else { continue }
                let name = VariableName(channel.variable)
                let band = deadband(name, Unit(rawValue: channel.unit))
                let step = Self.scaled(.number(band), exponent: channel.exponent)
                if step > 0, abs(v - was) < step { continue }
            }
            d.changed.append(UInt32(c))
            d.values.append(v)
        }
        d.removed = old.values.keys.filter { new.values[$0] == nil }.sorted().map(UInt32.init)
        for (i, l) in new.levels.enumerated() where i >= old.levels.count || old.levels[i] != l {
            d.levels.append(UInt32(i) << 3 | UInt32(l))
        }
        for i in new.ports.keys.sorted() {
            let n = new.ports[i]!
            let o = old.ports[i]
            for p in 0..<n.down.count {
                let state: UInt64 = n.adminDown[p] ? 2 : n.down[p] ? 1 : 0
                let was: UInt64? = o.flatMap { p < $0.down.count ? ($0.adminDown[p] ? 2 : $0.down[p] ? 1 : 0) : nil }
                if was != state { d.ports.append((UInt64(p) << 6 | UInt64(i)) << 2 | state) }
            }
        }
        return d
    }

    // MARK: Events

    func wire(_ e: Event) -> WireEvent {
        WireEvent(
            time: e.time.nanosecondsSinceEpoch.floorDivided(by: 1_000_000_000),
            device: e.device.flatMap { deviceIndex[$0] }.map(UInt32.init), kind: e.kind.rawValue,
            variable: e.variable?.rawValue ?? "", old: e.old, new: e.new, level: Self.levelCode(e.level), reason: e.reason)
    }

    static func levelCode(_ l: HealthLevel) -> UInt32 {
        switch l {
        case .ok: 0
        case .unknown: 1
        case .warn: 2
        case .crit: 3
        }
    }
}

extension RecordEncoder.Encoded {
    /// The state a full snapshot describes.
    public init(_ s: WireSnapshot, deviceCount: Int, channelCount: Int) {
        levels = (0..<deviceCount).map { i in i / 2 < s.levels.count ? (s.levels[i / 2] >> (i % 2 == 0 ? 0 : 4)) & 0xF : 1 }
        values = [:]
        var next = 0
        for c in 0..<channelCount where c / 8 < s.present.count && s.present[c / 8] & (1 << UInt8(c % 8)) != 0 {
            guard next < s.values.count else { break }
            values[c] = s.values[next]
            next += 1
        }
        ports = [:]
        for p in s.ports {
            let count = max(p.down.count, p.adminDown.count) * 8
            func bit(_ b: [UInt8], _ i: Int) -> Bool { i / 8 < b.count && b[i / 8] & (1 << UInt8(i % 8)) != 0 }
            ports[Int(p.device)] = RecordEncoder.PortBits(down: (0..<count).map { bit(p.down, $0) }, adminDown: (0..<count).map { bit(p.adminDown, $0) })
        }
    }

    /// As a full snapshot over `dictionary`.
    public func snapshot(dictionary: WireDictionary) -> WireSnapshot {
        let e = self
        let channels = dictionary.channels.count
        var present = [UInt8](repeating: 0, count: (channels + 7) / 8)
        var values: [Int64] = []
        for c in 0..<channels {
            guard let v = e.values[c] else { continue }
            present[c / 8] |= 1 << UInt8(c % 8)
            values.append(v)
        }
        while present.last == 0 { present.removeLast() }
        var levels = [UInt8](repeating: 0, count: (e.levels.count + 1) / 2)
        for (i, l) in e.levels.enumerated() { levels[i / 2] |= l << (i % 2 == 0 ? 0 : 4) }
        let ports = e.ports.keys.sorted().map { i in
            WirePortMap(device: UInt32(i), down: bitmap(e.ports[i]!.down), adminDown: bitmap(e.ports[i]!.adminDown))
        }
        return WireSnapshot(dictionary: dictionary.id, levels: levels, present: present, values: values, ports: ports)
    }

    func bitmap(_ bits: [Bool]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: (bits.count + 7) / 8)
        for (i, b) in bits.enumerated() where b { out[i / 8] |= 1 << UInt8(i % 8) }
        while out.last == 0 { out.removeLast() }
        return out
    }


    /// The store's view after a delta: values that did not move past their deadband keep
    /// the value the store has.
    public func applying(_ d: WireDelta) -> RecordEncoder.Encoded {
        var e = self
        for (c, v) in zip(d.changed, d.values) { e.values[Int(c)] = v }
        for c in d.removed { e.values[Int(c)] = nil }
        for l in d.levels {
            let i = Int(l >> 3)
            while e.levels.count <= i { e.levels.append(1) }
            e.levels[i] = UInt8(l & 7)
        }
        for p in d.ports {
            let state = p & 3
            let device = Int((p >> 2) & 63)
            let position = Int(p >> 8)
            var bits = e.ports[device] ?? RecordEncoder.PortBits(down: [], adminDown: [])
            while bits.down.count <= position {
                bits.down.append(false)
                bits.adminDown.append(false)
            }
            bits.down[position] = state != 0
            bits.adminDown[position] = state == 2
            e.ports[device] = bits
        }
        return e
    }

}
