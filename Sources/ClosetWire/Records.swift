import ClosetModel

/// The agent's view of `closet.proto`'s messages, with their encoders.
public struct WireRecord: Sendable, Hashable {
    public static let currentVersion: UInt32 = 1

    public var version: UInt32 = WireRecord.currentVersion
    /// Empty inside a batch (the batch names the site).
    public var site: String = ""
    public var boot: UInt32
    public var seq: UInt64
    /// Unix seconds.
    public var time: Int64
    public var body: Body

    public enum Body: Sendable, Hashable {
        case full(WireSnapshot)
        case delta(WireDelta)
        case dictionary(WireDictionary)
        case events([WireEvent])
    }

    public init(site: String = "", boot: UInt32, seq: UInt64, time: Int64, body: Body) {
        self.site = site
        self.boot = boot
        self.seq = seq
        self.time = time
        self.body = body
    }

    /// What the outbox keeps about a record besides its bytes.
    public enum Kind: Int, Sendable, CaseIterable {
        case full = 1, delta = 2, dictionary = 3, events = 4
    }

    public var kind: Kind {
        switch body {
        case .full: .full
        case .delta: .delta
        case .dictionary: .dictionary
        case .events: .events
        }
    }

    public func encoded() -> [UInt8] {
        var w = ProtoWriter()
        w.uint(1, UInt64(version))
        w.string(2, site)
        w.uint(3, UInt64(boot))
        w.uint(4, seq)
        w.int(5, time)
        switch body {
        case .full(let s): w.message(6) { s.encode(into: &$0) }
        case .delta(let d): w.message(7) { d.encode(into: &$0) }
        case .dictionary(let d): w.message(8) { d.encode(into: &$0) }
        case .events(let events):
            w.message(9) { e in
                for event in events { e.message(1) { event.encode(into: &$0) } }
            }
        }
        return w.bytes
    }
}

public struct WireSnapshot: Sendable, Hashable {
    public var dictionary: UInt32
    public var levels: [UInt8]
    public var present: [UInt8]
    public var values: [Int64]
    public var ports: [WirePortMap]

    public init(dictionary: UInt32, levels: [UInt8], present: [UInt8], values: [Int64], ports: [WirePortMap]) {
        self.dictionary = dictionary
        self.levels = levels
        self.present = present
        self.values = values
        self.ports = ports
    }

    func encode(into w: inout ProtoWriter) {
        w.fixed32(1, dictionary)
        w.bytes(2, levels)
        w.bytes(3, present)
        w.packedSint(4, values)
        for p in ports { w.message(5) { p.encode(into: &$0) } }
    }
}

public struct WirePortMap: Sendable, Hashable {
    public var device: UInt32
    public var down: [UInt8]
    public var adminDown: [UInt8]

    public init(device: UInt32, down: [UInt8], adminDown: [UInt8]) {
        self.device = device
        self.down = down
        self.adminDown = adminDown
    }

    func encode(into w: inout ProtoWriter) {
        w.uint(1, UInt64(device))
        w.bytes(2, down)
        w.bytes(3, adminDown)
    }
}

public struct WireDelta: Sendable, Hashable {
    public var base: UInt64
    public var changed: [UInt32] = []
    public var values: [Int64] = []
    public var removed: [UInt32] = []
    public var levels: [UInt32] = []
    public var ports: [UInt64] = []

    public init(base: UInt64, changed: [UInt32] = [], values: [Int64] = [], removed: [UInt32] = [], levels: [UInt32] = [], ports: [UInt64] = []) {
        self.base = base
        self.changed = changed
        self.values = values
        self.removed = removed
        self.levels = levels
        self.ports = ports
    }

    public var isEmpty: Bool { changed.isEmpty && removed.isEmpty && levels.isEmpty && ports.isEmpty }

    func encode(into w: inout ProtoWriter) {
        w.uint(1, base)
        w.packedUint(2, changed.map(UInt64.init))
        w.packedSint(3, values)
        w.packedUint(4, removed.map(UInt64.init))
        w.packedUint(5, levels.map(UInt64.init))
        w.packedUint(6, ports)
    }
}

public struct WireDictionary: Sendable, Hashable {
    public var id: UInt32 = 0
    public var devices: [Device] = []
    public var channels: [Channel] = []

    public init(id: UInt32 = 0, devices: [Device] = [], channels: [Channel] = []) {
        self.id = id
        self.devices = devices
        self.channels = channels
    }

    public struct Device: Sendable, Hashable {
        public var name: String
        public var kind: String
        public var driver: String
        public var portIndex: [UInt32] = []
        public var portName: [String] = []

        public init(name: String, kind: String, driver: String, portIndex: [UInt32] = [], portName: [String] = []) {
            self.name = name
            self.kind = kind
            self.driver = driver
            self.portIndex = portIndex
            self.portName = portName
        }
    }

    public struct Channel: Sendable, Hashable {
        public var device: UInt32
        public var variable: String
        public var unit: String
        public var exponent: Int32

        /// A scaled integer from a snapshot or delta back in the variable's unit.
        public func value(_ raw: Int64) -> Double {
            var v = Double(raw)
            if exponent > 0 { for _ in 0..<exponent { v *= 10 } } else { for _ in 0..<(-exponent) { v /= 10 } }
            return v
        }

        public init(device: UInt32, variable: String, unit: String, exponent: Int32) {
            self.device = device
            self.variable = variable
            self.unit = unit
            self.exponent = exponent
        }
    }

    /// The content without the id: what the id is a hash of.
    func encodeContent(into w: inout ProtoWriter) {
        for d in devices {
            w.message(2) { m in
                m.string(1, d.name)
                m.string(2, d.kind)
                m.string(3, d.driver)
                m.packedUint(4, d.portIndex.map(UInt64.init))
                for n in d.portName { m.element(5, n) }
            }
        }
        for c in channels {
            w.message(3) { m in
                m.uint(1, UInt64(c.device))
                m.string(2, c.variable)
                m.string(3, c.unit)
                m.sint(4, Int64(c.exponent))
            }
        }
    }

    func encode(into w: inout ProtoWriter) {
        w.fixed32(1, id)
        encodeContent(into: &w)
    }

    /// FNV-1a over the encoded content: the same names and order give the same id on the
    /// agent and the store.
    public func computedID() -> UInt32 {
        var w = ProtoWriter()
        encodeContent(into: &w)
        var h: UInt32 = 2_166_136_261
        for b in w.bytes { h = (h ^ UInt32(b)) &* 16_777_619 }
        return h == 0 ? 1 : h
    }
}

public struct WireEvent: Sendable, Hashable {
    public var time: Int64
    public var device: UInt32?
    public var kind: String
    public var variable: String
    public var old: String
    public var new: String
    public var level: UInt32
    public var reason: String

    public init(time: Int64, device: UInt32?, kind: String, variable: String, old: String, new: String, level: UInt32, reason: String) {
        self.time = time
        self.device = device
        self.kind = kind
        self.variable = variable
        self.old = old
        self.new = new
        self.level = level
        self.reason = reason
    }

    func encode(into w: inout ProtoWriter) {
        w.int(1, time)
        w.optionalUint(2, device.map(UInt64.init))
        w.string(3, kind)
        w.string(4, variable)
        w.string(5, old)
        w.string(6, new)
        w.uint(7, UInt64(level))
        w.string(8, reason)
    }
}

/// A batch body from records already encoded (as the outbox keeps them).
public func encodeBatch(site: String, records: [[UInt8]], thinned: UInt64, refused: UInt64) -> [UInt8] {
    var w = ProtoWriter()
    w.string(1, site)
    for r in records { w.encoded(2, r) }
    if thinned > 0 || refused > 0 {
        w.message(3) { l in
            l.uint(1, thinned)
            l.uint(2, refused)
        }
    }
    return w.bytes
}
