import ClosetModel
import ClosetWire

/// Turns the outbox's records into InfluxDB line protocol, for a second sink (InfluxDB 1.x
/// `/write`, VictoriaMetrics). Keeps the dictionary and the state the records build, as the
/// store does; a delta whose base it never saw (after a restart) is skipped until the next
/// full snapshot.
public struct InfluxLines: Sendable {
    public let site: String
    var dictionary: WireDictionary?
    var state: RecordEncoder.Encoded?
    var seq: UInt64 = 0
    public private(set) var skipped = 0

    public init(site: String) { self.site = site }

    /// Lines for one record (possibly none).
    public mutating func lines(_ r: WireRecord) -> [String] {
        let ns = String(r.time) + "000000000"
        switch r.body {
        case .dictionary(let d):
            dictionary = d
            return []
        case .events(let events):
            return events.map { e in
                var tags = "closet_event,site=\(escapeTag(site))"
                if let i = e.device, let d = dictionary, Int(i) < d.devices.count { tags += ",device=\(escapeTag(d.devices[Int(i)].name))" }
                if !e.variable.isEmpty { tags += ",variable=\(escapeTag(e.variable))" }
                return "\(tags) level=\(e.level)i,kind=\(quote(e.kind)),old=\(quote(e.old)),new=\(quote(e.new)),reason=\(quote(e.reason)) \(String(e.time))000000000"
            }
        case .full(let s):
            guard let d = dictionary, d.id == s.dictionary else {
                skipped += 1
                return []
            }
            let e = RecordEncoder.Encoded(s, deviceCount: d.devices.count, channelCount: d.channels.count)
            state = e
            seq = r.seq
            return render(e, changed: nil, ns: ns)
        case .delta(let delta):
            guard let e = state, delta.base == seq else {
                skipped += 1
                return []
            }
            let next = e.applying(delta)
            state = next
            seq = r.seq
            return render(next, changed: Set(delta.changed.map(Int.init)), ns: ns, portsChanged: !delta.ports.isEmpty, levels: Set(delta.levels.map { Int($0 >> 3) }))
        }
    }

    func render(_ e: RecordEncoder.Encoded, changed: Set<Int>?, ns: String, portsChanged: Bool = true, levels: Set<Int>? = nil) -> [String] {
        guard let d = dictionary else { return [] }
        var fields: [Int: [String]] = [:]
        for (c, raw) in e.values where c < d.channels.count && (changed?.contains(c) ?? true) {
            let ch = d.channels[c]
            fields[Int(ch.device), default: []].append("\(escapeKey(ch.variable))=\(ch.value(raw).compactDescription)")
        }
        for (i, l) in e.levels.enumerated() where levels?.contains(i) ?? true {
            fields[i, default: []].append("level=\(l & 3)i,stale=\(l & 4 != 0)")
        }
        var out: [String] = []
        for i in fields.keys.sorted() where i < d.devices.count {
            out.append("closet,site=\(escapeTag(site)),device=\(escapeTag(d.devices[i].name)) \(fields[i]!.sorted().joined(separator: ",")) \(ns)")
        }
        if portsChanged {
            for (i, bits) in e.ports.sorted(by: { $0.key < $1.key }) where i < d.devices.count {
                let dev = d.devices[i]
                // Bitmaps stop at the last set bit: ports past the end are up.
                let down = bits.down.prefix(dev.portIndex.count).filter { $0 }.count
                out.append("closet_ports,site=\(escapeTag(site)),device=\(escapeTag(dev.name)) up=\(dev.portIndex.count - down)i,down=\(down)i \(ns)")
            }
        }
        return out
    }

    func escapeTag(_ s: String) -> String {
        var out = ""
        for c in s {
            if c == "," || c == "=" || c == " " { out.append("\\") }
            out.append(c)
        }
        return out
    }

    func escapeKey(_ s: String) -> String { escapeTag(s) }

    func quote(_ s: String) -> String {
        var out = "\""
        for c in s {
            if c == "\"" || c == "\\" { out.append("\\") }
            out.append(c == "\n" ? " " : c)
        }
        return out + "\""
    }
}
