import ClosetModel
import ClosetWire

/// A rejected push: the HTTP status and the reason the agent (and the log) get.
public struct IngestRejection: Error, Sendable, CustomStringConvertible {
    public var status: Int
    public var reason: String
    public var description: String { "\(status) \(reason)" }
    public init(_ status: Int, _ reason: String) {
        self.status = status
        self.reason = reason
    }
}

/// What a push carried, decoded and checked, before anything is stored.
public struct IngestBatch: Sendable {
    public var site: String
    public var records: [WireRecord]
    public var thinned: UInt64
    public var refused: UInt64
}

/// The store's answer.
public struct IngestResult: Sendable, Equatable {
    public var storedThrough: UInt64
    public var stored: Int
    public var duplicates: Int
    /// A delta arrived whose base the store does not have: the agent should send a full snapshot.
    public var resync: Bool

    public var json: String {
        "{\"stored_through\": \(storedThrough), \"stored\": \(stored), \"duplicates\": \(duplicates), \"resync\": \(resync)}"
    }
}

/// The checks on a push that need no database: sizes, signature fields, decoding. Pure.
public enum IngestDecoder {
    public static let maxBody = 4 << 20
    public static let maxInflated = 32 << 20
    /// How far an agent's clock may be from the store's.
    public static let window: Int64 = 300

    /// Decodes the deflated body strictly: malformed protobuf, an unknown record version, a
    /// site that does not match the signed one are all rejected, nothing partial accepted.
    public static func decode(body: [UInt8], site: String) throws(IngestRejection) -> IngestBatch {
        guard body.count <= maxBody else { throw IngestRejection(413, "body of \(body.count) bytes is over \(maxBody)") }
        let plain: [UInt8]
        do {
            plain = try Deflate.decompress(body, limit: maxInflated)
        } catch {
            throw IngestRejection(400, "body is not deflate data: \(error)")
        }
        let batch: WireBatch
        do {
            batch = try WireBatch(decoding: plain)
        } catch {
            throw IngestRejection(400, "malformed batch: \(error)")
        }
        guard batch.site == site else { throw IngestRejection(400, "batch is for site '\(batch.site)', signed as '\(site)'") }
        // The database keeps 64-bit signed integers.
        guard batch.thinned <= UInt64(Int64.max), batch.refused <= UInt64(Int64.max) else {
            throw IngestRejection(400, "thinned/refused counts out of range (\(batch.thinned), \(batch.refused))")
        }
        var records: [WireRecord] = []
        for (i, bytes) in batch.records.enumerated() {
            do {
                let r = try WireRecord(decoding: bytes)
                guard r.version <= WireRecord.currentVersion else {
                    throw IngestRejection(400, "record \(i) (seq \(r.seq)) has version \(r.version); this store reads up to \(WireRecord.currentVersion)")
                }
                guard r.seq > 0 else { throw IngestRejection(400, "record \(i) has no sequence number") }
                guard r.seq <= UInt64(Int64.max) else { throw IngestRejection(400, "record \(i) has sequence number \(r.seq), over 2^63 - 1") }
                guard r.site.isEmpty || r.site == site else { throw IngestRejection(400, "record \(r.seq) names site '\(r.site)'") }
                guard !holdsNUL(r) else { throw IngestRejection(400, "record \(r.seq) holds a NUL character in a name or text") }
                records.append(r)
            } catch let e as IngestRejection {
                throw e
            } catch {
                throw IngestRejection(400, "malformed record \(i): \(error)")
            }
        }
        return IngestBatch(site: site, records: records, thinned: batch.thinned, refused: batch.refused)
    }

    /// Whether any text the record carries holds a NUL (no name does; PostgreSQL's text
    /// type refuses it, which would turn a bad record into a store error).
    static func holdsNUL(_ r: WireRecord) -> Bool {
        var texts = [r.site]
        switch r.body {
        case .dictionary(let d):
            texts += d.devices.flatMap { [$0.name, $0.kind, $0.driver] + $0.portName } + d.channels.flatMap { [$0.variable, $0.unit] }
        case .events(let list): texts += list.flatMap { [$0.kind, $0.variable, $0.old, $0.new, $0.reason] }
        case .full, .delta: break
        }
        return texts.contains { $0.utf8.contains(0) }
    }
}

/// Readings and port changes a state record brings, in store units.
struct AppliedState {
    var readings: [(device: String, variable: String, value: Double)] = []
    var ports: [(device: String, index: Int, name: String, state: Int)] = []
    var levels: [(device: String, level: Int, stale: Bool)] = []
}

/// The site's materialized state: the dictionary and the encoded state of its last applied
/// full snapshot or delta.
struct Replica {
    var dictionary: WireDictionary
    var state: RecordEncoder.Encoded
    var seq: UInt64

    init(dictionary: WireDictionary, full: WireSnapshot, seq: UInt64) {
        self.dictionary = dictionary
        self.state = RecordEncoder.Encoded(full, deviceCount: dictionary.devices.count, channelCount: dictionary.channels.count)
        self.seq = seq
    }

    func value(_ channel: Int, _ raw: Int64) -> Double { dictionary.channels[channel].value(raw) }

    func deviceName(_ i: Int) -> String { i < dictionary.devices.count ? dictionary.devices[i].name : "#\(i)" }

    /// Everything in the state (after a full snapshot).
    func all() -> AppliedState {
        var a = AppliedState()
        for (c, raw) in state.values.sorted(by: { $0.key < $1.key }) where c < dictionary.channels.count {
            a.readings.append((deviceName(Int(dictionary.channels[c].device)), dictionary.channels[c].variable, value(c, raw)))
        }
        for (i, level) in state.levels.enumerated() { a.levels.append((deviceName(i), Int(level & 3), level & 4 != 0)) }
        return a
    }

    /// Applies a delta; returns what changed, or nil when its base is not this state.
    mutating func apply(_ d: WireDelta, seq: UInt64) -> AppliedState? {
        guard d.base == self.seq else { return nil }
        state = state.applying(d)
        self.seq = seq
        var a = AppliedState()
        for (c, raw) in zip(d.changed, d.values) where Int(c) < dictionary.channels.count {
            a.readings.append((deviceName(Int(dictionary.channels[Int(c)].device)), dictionary.channels[Int(c)].variable, value(Int(c), raw)))
        }
        for l in d.levels { a.levels.append((deviceName(Int(l >> 3)), Int(l & 3), l & 4 != 0)) }
        for p in d.ports {
            let device = Int((p >> 2) & 63)
            let position = Int(p >> 8)
            guard device < dictionary.devices.count else { continue }
            let dev = dictionary.devices[device]
            let index = position < dev.portIndex.count ? Int(dev.portIndex[position]) : position
            let name = position < dev.portName.count ? dev.portName[position] : ""
            a.ports.append((dev.name, index, name, Int(p & 3)))
        }
        return a
    }

    /// Port states of a full snapshot, for the port history.
    func portStates() -> [(device: String, index: Int, name: String, state: Int)] {
        var out: [(String, Int, String, Int)] = []
        for (i, bits) in state.ports.sorted(by: { $0.key < $1.key }) where i < dictionary.devices.count {
            let dev = dictionary.devices[i]
            for (position, index) in dev.portIndex.enumerated() {
                let down = position < bits.down.count && bits.down[position]
                let admin = position < bits.adminDown.count && bits.adminDown[position]
                out.append((dev.name, Int(index), position < dev.portName.count ? dev.portName[position] : "", admin ? 2 : down ? 1 : 0))
            }
        }
        return out
    }
}
