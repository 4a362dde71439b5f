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

extension StoreBackend {
    /// The latest state of `name`; nil for an unknown site.
    public func siteView(name: String) async throws -> SiteView? {
        try await read { c in
            guard
                let row = try await c.query(
                    "SELECT s.id, st.dictionary, st.state_seq, st.snapshot, st.time, st.received, COALESCE(st.silent, 0), st.level, st.problem FROM sites s LEFT JOIN site_state st ON st.site_id = s.id WHERE s.name = ?",
                    [.text(name)]
                ).first
            else { return nil }
            var view = SiteView(
                name: name, time: row.int(ifPresent: 4), received: row.int(ifPresent: 5), silent: row.int(6) != 0, level: row.int(ifPresent: 7).map { Int($0) },
                problem: row.text(ifPresent: 8), devices: [])
            guard let dict = row.int(ifPresent: 1), let seq = row.int(ifPresent: 2), !row.isNull(3),
                let body = try await c.query("SELECT body FROM dictionaries WHERE site_id = ? AND id = ?", [.integer(row.int(0)), .integer(dict)]).first?.blob(0),
                case .dictionary(let d) = try WireRecord(decoding: body).body, case .full(let s) = try WireRecord(decoding: row.blob(3)).body
            else { return view }
            let replica = Replica(dictionary: d, full: s, seq: UInt64(bitPattern: seq))
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
        return try await read { c in
            guard let id = try await c.query("SELECT id FROM sites WHERE name = ?", [.text(site)]).first?.int(0) else { return [] }
            // The last slice also takes `to` itself.
            return try await c.query(
                """
                SELECT b, MIN(lo), SUM(total) / CAST(SUM(n) AS DOUBLE PRECISION), MAX(hi) FROM (
                    SELECT CASE WHEN time >= ?3 THEN ?4 ELSE (time - ?1) / ?2 END AS b, value AS lo, value AS total, 1 AS n, value AS hi FROM readings
                    WHERE site_id = ?5 AND device = ?6 AND variable = ?7 AND time >= ?1 AND time <= ?8
                    UNION ALL
                    SELECT CASE WHEN hour >= ?3 THEN ?4 ELSE (hour - ?1) / ?2 END, min, mean * count, count, max FROM readings_hourly
                    WHERE site_id = ?5 AND device = ?6 AND variable = ?7 AND hour >= ?1 AND hour <= ?8
                ) AS slices GROUP BY b ORDER BY b
                """, [.integer(from), .integer(width), .integer(from + last * width), .integer(last), .integer(id), .text(device), .text(variable), .integer(to)]
            ).map {
                HistoryPoint(time: from + $0.int(0) * width + width / 2, min: $0.double(1), mean: $0.double(2), max: $0.double(3))
            }
        }
    }
}

extension StoreBackend {
    /// How many port changes fell in each of `buckets` slices of `from..<to` (only slices
    /// with changes), for the port-changes chart.
    public func portChangeCounts(site: String, from: Int64, to: Int64, buckets: Int) async throws -> [(time: Int64, count: Int)] {
        let width = max(1, (to - from) / Int64(max(1, buckets)))
        let last = Int64(max(1, buckets) - 1)
        return try await query(
            """
            SELECT CASE WHEN p.time >= ?3 THEN ?4 ELSE (p.time - ?1) / ?2 END AS b, COUNT(*) FROM port_changes p JOIN sites s ON s.id = p.site_id
            WHERE s.name = ?5 AND p.time >= ?1 AND p.time <= ?6 GROUP BY b ORDER BY b
            """, [.integer(from), .integer(width), .integer(from + last * width), .integer(last), .text(site), .integer(to)]
        ).map { (time: from + $0.int(0) * width + width / 2, count: Int($0.int(1))) }
    }
}
