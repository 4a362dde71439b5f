import ClosetSQLite
import ClosetWire

/// A site's latest state as the dashboard and the API show it, rebuilt from its stored
/// snapshot and dictionary.
public struct SiteView: Sendable {
    public struct Reading: Sendable, Hashable {
        public var variable: String
        public var value: Double
        public var unit: String
    }

    public struct Port: Sendable, Hashable {
        public var index: Int
        public var name: String
        /// 0 up, 1 down, 2 administratively down.
        public var state: Int
    }

    public struct Device: Sendable {
        public var name: String
        public var kind: String
        public var driver: String
        /// 0 ok, 1 unknown, 2 warn, 3 crit.
        public var level: Int
        public var stale: Bool
        public var readings: [Reading]
        public var ports: [Port]
    }

    public var name: String
    /// The state's own time (the agent's clock) and when the store received it.
    public var time: Int64?
    public var received: Int64?
    public var silent: Bool
    public var level: Int?
    public var problem: String?
    public var devices: [Device]
}

/// One bucket of a reading's history.
public struct HistoryPoint: Sendable, Hashable {
    public var time: Int64
    public var min: Double
    public var mean: Double
    public var max: Double
}

extension SQLiteBackend {
    /// The latest state of `name`; nil for an unknown site.
    public func siteView(name: String) async throws -> SiteView? {
        try await run { db in
            guard
                let row = try db.prepare(
                    "SELECT s.id, st.dictionary, st.state_seq, st.snapshot, st.time, st.received, COALESCE(st.silent, 0), st.level, st.problem FROM sites s LEFT JOIN site_state st ON st.site_id = s.id WHERE s.name = ?"
                ).rows([.text(name)], {
                    (
                        id: $0.int(0), dict: $0.isNull(1) ? nil : $0.int(1), seq: $0.isNull(2) ? nil : UInt64($0.int(2)), snapshot: $0.isNull(3) ? nil : $0.blob(3),
                        time: $0.isNull(4) ? nil : $0.int(4), received: $0.isNull(5) ? nil : $0.int(5), silent: $0.int(6) != 0,
                        level: $0.isNull(7) ? nil : Int($0.int(7)), problem: $0.isNull(8) ? nil : $0.text(8)
                    )
                }).first
            else { return nil }
            var view = SiteView(name: name, time: row.time, received: row.received, silent: row.silent, level: row.level, problem: row.problem, devices: [])
            guard let dict = row.dict, let seq = row.seq, let snapshot = row.snapshot,
                let body = try db.prepare("SELECT body FROM dictionaries WHERE site_id = ? AND id = ?").rows([.integer(row.id), .integer(dict)], { $0.blob(0) }).first,
                case .dictionary(let d) = try WireRecord(decoding: body).body, case .full(let s) = try WireRecord(decoding: snapshot).body
            else { return view }
            let replica = Replica(dictionary: d, full: s, seq: seq)
            var devices = d.devices.enumerated().map { i, dev in
                let level = i < replica.state.levels.count ? replica.state.levels[i] : 1
                return SiteView.Device(name: dev.name, kind: dev.kind, driver: dev.driver, level: Int(level & 3), stale: level & 4 != 0, readings: [], ports: [])
            }
            for (c, raw) in replica.state.values.sorted(by: { $0.key < $1.key }) where c < d.channels.count {
                let channel = d.channels[c]
                guard Int(channel.device) < devices.count else { continue }
                devices[Int(channel.device)].readings.append(.init(variable: channel.variable, value: replica.value(c, raw), unit: channel.unit))
            }
            for p in replica.portStates() {
                guard let i = devices.firstIndex(where: { $0.name == p.device }) else { continue }
                devices[i].ports.append(.init(index: p.index, name: p.name, state: p.state))
            }
            view.devices = devices
            return view
        }
    }

    /// A reading's history from `from` through `to` in `buckets` equal slices (min, mean, max of
    /// each slice that has values), from the raw readings and, past the retention, the hourly
    /// ones, for the charts and the API.
    public func history(site: String, device: String, variable: String, from: Int64, to: Int64, buckets: Int) async throws -> [HistoryPoint] {
        let width = max(1, (to - from) / Int64(max(1, buckets)))
        let last = Int64(max(1, buckets) - 1)
        return try await run { db in
            guard let id = try db.prepare("SELECT id FROM sites WHERE name = ?").rows([.text(site)], { $0.int(0) }).first else { return [] }
            return try db.prepare(
                """
                SELECT b, MIN(lo), SUM(total) / SUM(n), MAX(hi) FROM (
                    SELECT MIN((time - ?1) / ?2, ?3) AS b, value AS lo, value AS total, 1 AS n, value AS hi FROM readings
                    WHERE site_id = ?4 AND device = ?5 AND variable = ?6 AND time >= ?1 AND time <= ?7
                    UNION ALL
                    SELECT MIN((hour - ?1) / ?2, ?3), min, mean * count, count, max FROM readings_hourly
                    WHERE site_id = ?4 AND device = ?5 AND variable = ?6 AND hour >= ?1 AND hour <= ?7
                ) GROUP BY b ORDER BY b
                """
            ).rows([.integer(from), .integer(width), .integer(last), .integer(id), .text(device), .text(variable), .integer(to)]) {
                HistoryPoint(time: from + $0.int(0) * width + width / 2, min: $0.double(1), mean: $0.double(2), max: $0.double(3))
            }
        }
    }
}

extension SQLiteBackend {
    /// How many port changes fell in each of `buckets` slices of `from..<to` (only slices
    /// with changes), for the port-changes chart.
    public func portChangeCounts(site: String, from: Int64, to: Int64, buckets: Int) async throws -> [(time: Int64, count: Int)] {
        let width = max(1, (to - from) / Int64(max(1, buckets)))
        return try await run { db in
            try db.prepare(
                """
                SELECT MIN((p.time - ?) / ?, ?) AS b, COUNT(*) FROM port_changes p JOIN sites s ON s.id = p.site_id
                WHERE s.name = ? AND p.time >= ? AND p.time <= ? GROUP BY b ORDER BY b
                """
            ).rows([.integer(from), .integer(width), .integer(Int64(max(1, buckets) - 1)), .text(site), .integer(from), .integer(to)]) { (time: from + $0.int(0) * width + width / 2, count: Int($0.int(1))) }
        }
    }
}
