/// Reads the Protocol Buffers wire format; every malformed input is a `ProtoError`, never a
/// crash or an endless loop (lengths are checked against what is left).
public struct ProtoReader {
    let bytes: [UInt8]
    var offset: Int
    let end: Int

    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
        self.offset = 0
        self.end = bytes.count
    }

    init(_ bytes: [UInt8], from: Int, to: Int) {
        self.bytes = bytes
        self.offset = from
        self.end = to
    }

    public var isAtEnd: Bool { offset >= end }

    public enum Field {
        case varint(UInt64)
        case fixed64(UInt64)
        case fixed32(UInt32)
        case bytes(ProtoReader)

        public var uint: UInt64 {
            switch self {
            case .varint(let v), .fixed64(let v): v
            case .fixed32(let v): UInt64(v)
            case .bytes: 0
            }
        }

        public var sint: Int64 { unzigzag(uint) }
        public var int: Int64 { Int64(bitPattern: uint) }
    }

    mutating func varint() throws(ProtoError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard offset < end else { throw ProtoError("truncated varint at byte \(offset)") }
            let b = bytes[offset]
            offset += 1
            if shift == 63, b > 1 { throw ProtoError("varint too long at byte \(offset)") }
            result |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
            if shift > 63 { throw ProtoError("varint too long at byte \(offset)") }
        }
    }

    /// The next field number and value, or nil at the end.
    public mutating func next() throws(ProtoError) -> (number: Int, field: Field)? {
        guard offset < end else { return nil }
        let key = try varint()
        let number = Int(truncatingIfNeeded: key >> 3)
        guard number > 0, number < 1 << 29 else { throw ProtoError("bad field number \(number)") }
        switch key & 7 {
        case 0: return (number, .varint(try varint()))
        case 1:
            guard end - offset >= 8 else { throw ProtoError("truncated fixed64 in field \(number)") }
            var v: UInt64 = 0
            for i in 0..<8 { v |= UInt64(bytes[offset + i]) << (8 * UInt64(i)) }
            offset += 8
            return (number, .fixed64(v))
        case 2:
            let length = try varint()
            guard length <= UInt64(end - offset) else { throw ProtoError("field \(number) claims \(length) bytes, \(end - offset) left") }
            let sub = ProtoReader(bytes, from: offset, to: offset + Int(length))
            offset += Int(length)
            return (number, .bytes(sub))
        case 5:
            guard end - offset >= 4 else { throw ProtoError("truncated fixed32 in field \(number)") }
            var v: UInt32 = 0
            for i in 0..<4 { v |= UInt32(bytes[offset + i]) << (8 * UInt32(i)) }
            offset += 4
            return (number, .fixed32(v))
        default:
            throw ProtoError("unsupported wire type \(key & 7) in field \(number)")
        }
    }

    /// The rest as raw bytes.
    public var remaining: [UInt8] { Array(bytes[offset..<end]) }
    public var string: String { String(decoding: bytes[offset..<end], as: UTF8.self) }

    /// A packed repeated varint field's values.
    public func packed() throws(ProtoError) -> [UInt64] {
        var r = self
        var out: [UInt64] = []
        while !r.isAtEnd { out.append(try r.varint()) }
        return out
    }
}

public struct ProtoError: Error, Sendable, CustomStringConvertible, Equatable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension ProtoReader.Field {
    func sub() throws(ProtoError) -> ProtoReader {
        guard case .bytes(let r) = self else { throw ProtoError("expected a length-delimited field") }
        return r
    }

    /// A repeated varint field, packed or not.
    func values() throws(ProtoError) -> [UInt64] {
        if case .bytes(let r) = self { return try r.packed() }
        return [uint]
    }
}

extension WireRecord {
    /// Decodes one record; unknown fields are skipped (newer agents), malformed input throws.
    public init(decoding bytes: [UInt8]) throws(ProtoError) {
        var r = ProtoReader(bytes)
        var version: UInt32 = 0
        var site = ""
        var boot: UInt32 = 0
        var seq: UInt64 = 0
        var time: Int64 = 0
        var body: Body?
        while let (n, f) = try r.next() {
            switch n {
            case 1: version = UInt32(truncatingIfNeeded: f.uint)
            case 2: site = try f.sub().string
            case 3: boot = UInt32(truncatingIfNeeded: f.uint)
            case 4: seq = f.uint
            case 5: time = f.int
            case 6: body = .full(try WireSnapshot(try f.sub()))
            case 7: body = .delta(try WireDelta(try f.sub()))
            case 8: body = .dictionary(try WireDictionary(try f.sub()))
            case 9:
                var events: [WireEvent] = []
                var e = try f.sub()
                while let (m, g) = try e.next() { if m == 1 { events.append(try WireEvent(try g.sub())) } }
                body = .events(events)
            default: continue
            }
        }
        guard let body else { throw ProtoError("record \(seq) has no body") }
        guard version >= 1 else { throw ProtoError("record \(seq) has no version") }
        self.init(site: site, boot: boot, seq: seq, time: time, body: body)
        self.version = version
    }
}

extension WireSnapshot {
    init(_ reader: ProtoReader) throws(ProtoError) {
        var r = reader
        self.init(dictionary: 0, levels: [], present: [], values: [], ports: [])
        while let (n, f) = try r.next() {
            switch n {
            case 1: dictionary = UInt32(truncatingIfNeeded: f.uint)
            case 2: levels = try f.sub().remaining
            case 3: present = try f.sub().remaining
            case 4: values += try f.values().map(unzigzag)
            case 5:
                var p = try f.sub()
                var map = WirePortMap(device: 0, down: [], adminDown: [])
                while let (m, g) = try p.next() {
                    switch m {
                    case 1: map.device = UInt32(truncatingIfNeeded: g.uint)
                    case 2: map.down = try g.sub().remaining
                    case 3: map.adminDown = try g.sub().remaining
                    default: continue
                    }
                }
                ports.append(map)
            default: continue
            }
        }
    }
}

extension WireDelta {
    init(_ reader: ProtoReader) throws(ProtoError) {
        var r = reader
        self.init(base: 0)
        while let (n, f) = try r.next() {
            switch n {
            case 1: base = f.uint
            case 2: changed += try f.values().map { UInt32(truncatingIfNeeded: $0) }
            case 3: values += try f.values().map(unzigzag)
            case 4: removed += try f.values().map { UInt32(truncatingIfNeeded: $0) }
            case 5: levels += try f.values().map { UInt32(truncatingIfNeeded: $0) }
            case 6: ports += try f.values()
            default: continue
            }
        }
        guard changed.count == values.count else { throw ProtoError("delta has \(changed.count) changed channels but \(values.count) values") }
    }
}

extension WireDictionary {
    init(_ reader: ProtoReader) throws(ProtoError) {
        var r = reader
        self.init()
        while let (n, f) = try r.next() {
            switch n {
            case 1: id = UInt32(truncatingIfNeeded: f.uint)
            case 2:
                var d = try f.sub()
                var device = Device(name: "", kind: "", driver: "")
                while let (m, g) = try d.next() {
                    switch m {
                    case 1: device.name = try g.sub().string
                    case 2: device.kind = try g.sub().string
                    case 3: device.driver = try g.sub().string
                    case 4: device.portIndex += try g.values().map { UInt32(truncatingIfNeeded: $0) }
                    case 5: device.portName.append(try g.sub().string)
                    default: continue
                    }
                }
                devices.append(device)
            case 3:
                var c = try f.sub()
                var channel = Channel(device: 0, variable: "", unit: "", exponent: 0)
                while let (m, g) = try c.next() {
                    switch m {
                    case 1: channel.device = UInt32(truncatingIfNeeded: g.uint)
                    case 2: channel.variable = try g.sub().string
                    case 3: channel.unit = try g.sub().string
                    case 4: channel.exponent = Int32(truncatingIfNeeded: g.sint)
                    default: continue
                    }
                }
                channels.append(channel)
            default: continue
            }
        }
    }
}

extension WireEvent {
    init(_ reader: ProtoReader) throws(ProtoError) {
        var r = reader
        self.init(time: 0, device: nil, kind: "", variable: "", old: "", new: "", level: 0, reason: "")
        while let (n, f) = try r.next() {
            switch n {
            case 1: time = f.int
            case 2: device = UInt32(truncatingIfNeeded: f.uint)
            case 3: kind = try f.sub().string
            case 4: variable = try f.sub().string
            case 5: old = try f.sub().string
            case 6: new = try f.sub().string
            case 7: level = UInt32(truncatingIfNeeded: f.uint)
            case 8: reason = try f.sub().string
            default: continue
            }
        }
    }
}

/// A batch body: the site, each record's bytes, the losses.
public struct WireBatch: Sendable {
    public var site: String = ""
    public var records: [[UInt8]] = []
    public var thinned: UInt64 = 0
    public var refused: UInt64 = 0

    public init(decoding bytes: [UInt8]) throws(ProtoError) {
        var r = ProtoReader(bytes)
        while let (n, f) = try r.next() {
            switch n {
            case 1: site = try f.sub().string
            case 2: records.append(try f.sub().remaining)
            case 3:
                var l = try f.sub()
                while let (m, g) = try l.next() {
                    if m == 1 { thinned = g.uint } else if m == 2 { refused = g.uint }
                }
            default: continue
            }
        }
    }
}
