import ClosetModel

/// Records as readable JSON, for `closet-agent decode` on the board.
public enum RecordJSON {
    /// A record, a batch, or either deflated (as the uplink sends it), to JSON.
    public static func decode(_ bytes: [UInt8]) throws(ProtoError) -> String {
        var plain = bytes
        if bytes.count > 2, bytes[0] == 0x78, let inflated = try? Deflate.decompress(bytes, limit: 64 << 20) { plain = inflated }
        guard let first = plain.first else { throw ProtoError("empty input") }
        if first == 0x0A {
            let batch = try WireBatch(decoding: plain)
            var out = "{\"site\": \(jsonQuoted(batch.site)), \"thinned\": \(batch.thinned), \"refused\": \(batch.refused), \"records\": ["
            for (i, r) in batch.records.enumerated() {
                out += (i == 0 ? "\n  " : ",\n  ") + json(try WireRecord(decoding: r))
            }
            return out + "\n]}\n"
        }
        return json(try WireRecord(decoding: plain)) + "\n"
    }

    public static func json(_ r: WireRecord) -> String {
        var out = "{\"version\": \(r.version), \"site\": \(jsonQuoted(r.site)), \"boot\": \(r.boot), \"seq\": \(r.seq), \"time\": \(r.time), "
        func list<T>(_ xs: [T]) -> String { "[" + xs.map { "\($0)" }.joined(separator: ", ") + "]" }
        func hexList(_ b: [UInt8]) -> String { jsonQuoted(hex(b)) }
        switch r.body {
        case .full(let s):
            out += "\"full\": {\"dictionary\": \(s.dictionary), \"levels\": \(hexList(s.levels)), \"present\": \(hexList(s.present)), \"values\": \(list(s.values)), \"ports\": ["
            out += s.ports.map { "{\"device\": \($0.device), \"down\": \(hexList($0.down)), \"admin_down\": \(hexList($0.adminDown))}" }.joined(separator: ", ")
            out += "]}"
        case .delta(let d):
            out += "\"delta\": {\"base\": \(d.base), \"changed\": \(list(d.changed)), \"values\": \(list(d.values)), \"removed\": \(list(d.removed)), "
            out += "\"levels\": \(list(d.levels.map { "{\"device\": \($0 >> 3), \"level\": \($0 & 7)}" })), "
            out += "\"ports\": \(list(d.ports.map { "{\"device\": \(($0 >> 2) & 63), \"position\": \($0 >> 8), \"state\": \($0 & 3)}" }))}"
        case .dictionary(let d):
            out += "\"dictionary\": {\"id\": \(d.id), \"devices\": ["
            out += d.devices.map { "{\"name\": \(jsonQuoted($0.name)), \"kind\": \(jsonQuoted($0.kind)), \"driver\": \(jsonQuoted($0.driver)), \"ports\": \($0.portIndex.count)}" }.joined(separator: ", ")
            out += "], \"channels\": ["
            out += d.channels.map { "{\"device\": \($0.device), \"variable\": \(jsonQuoted($0.variable)), \"unit\": \(jsonQuoted($0.unit)), \"exponent\": \($0.exponent)}" }.joined(separator: ", ")
            out += "]}"
        case .events(let events):
            out += "\"events\": ["
            out += events.map {
                "{\"time\": \($0.time), \"device\": \($0.device.map(String.init) ?? "null"), \"kind\": \(jsonQuoted($0.kind)), \"variable\": \(jsonQuoted($0.variable)), \"old\": \(jsonQuoted($0.old)), \"new\": \(jsonQuoted($0.new)), \"level\": \($0.level), \"reason\": \(jsonQuoted($0.reason))}"
            }.joined(separator: ", ")
            out += "]"
        }
        return out + "}"
    }
}
