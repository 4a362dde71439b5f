/// Protocol Buffers wire format, written by hand for the agent: the generated swift-protobuf
/// code (used by the store and the tests) costs the agent 2.3 MB of resident memory through
/// FoundationEssentials, measured; these few encoders cost nothing. Tests decode every
/// record the agent writes with the generated code, so `closet.proto` stays the contract.
///
/// proto3 rules: a field at its default (0, empty) is left out.
public struct ProtoWriter {
    public private(set) var bytes: [UInt8] = []

    public init() {}

    enum WireType: UInt64 {
        case varint = 0, fixed64 = 1, lengthDelimited = 2, fixed32 = 5
    }

    mutating func rawVarint(_ v: UInt64) {
        var v = v
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    mutating func tag(_ field: Int, _ type: WireType) { rawVarint(UInt64(field) << 3 | type.rawValue) }

    public mutating func uint(_ field: Int, _ v: UInt64) {
        guard v != 0 else { return }
        tag(field, .varint)
        rawVarint(v)
    }

    public mutating func int(_ field: Int, _ v: Int64) { uint(field, UInt64(bitPattern: v)) }

    /// `optional` fields: written even when zero.
    public mutating func optionalUint(_ field: Int, _ v: UInt64?) {
        guard let v else { return }
        tag(field, .varint)
        rawVarint(v)
    }

    public mutating func sint(_ field: Int, _ v: Int64) { uint(field, zigzag(v)) }

    public mutating func fixed32(_ field: Int, _ v: UInt32) {
        guard v != 0 else { return }
        tag(field, .fixed32)
        for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * i))) }
    }

    public mutating func bytes(_ field: Int, _ v: [UInt8]) {
        guard !v.isEmpty else { return }
        tag(field, .lengthDelimited)
        rawVarint(UInt64(v.count))
        bytes.append(contentsOf: v)
    }

    public mutating func string(_ field: Int, _ v: String) { bytes(field, Array(v.utf8)) }

    /// One element of a `repeated string`: written even when empty.
    public mutating func element(_ field: Int, _ v: String) { encoded(field, Array(v.utf8)) }

    /// A nested message, written even when empty (a oneof member or a repeated entry).
    public mutating func message(_ field: Int, _ body: (inout ProtoWriter) -> Void) {
        var inner = ProtoWriter()
        body(&inner)
        tag(field, .lengthDelimited)
        rawVarint(UInt64(inner.bytes.count))
        bytes.append(contentsOf: inner.bytes)
    }

    /// A message already encoded (an outbox record inside a batch).
    public mutating func encoded(_ field: Int, _ message: [UInt8]) {
        tag(field, .lengthDelimited)
        rawVarint(UInt64(message.count))
        bytes.append(contentsOf: message)
    }

    public mutating func packedUint(_ field: Int, _ values: [UInt64]) {
        guard !values.isEmpty else { return }
        var inner = ProtoWriter()
        for v in values { inner.rawVarint(v) }
        bytes(field, inner.bytes)
    }

    public mutating func packedSint(_ field: Int, _ values: [Int64]) { packedUint(field, values.map(zigzag)) }
}

@inline(__always) func zigzag(_ v: Int64) -> UInt64 { UInt64(bitPattern: (v << 1) ^ (v >> 63)) }
@inline(__always) func unzigzag(_ v: UInt64) -> Int64 { Int64(bitPattern: v >> 1) ^ -Int64(bitPattern: v & 1) }
