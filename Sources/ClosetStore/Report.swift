import ClosetModel

/// The yearly IT infrastructure report's figures, per site and calendar month (UTC): UPS
/// outages and minutes on battery, minutes each port that matters was down, backup trouble,
/// the hottest ambient temperature, minutes silent.
public struct MonthlyReport: Sendable {
    public struct Row: Sendable, Hashable {
        public var site: String
        /// `2026-11`.
        public var month: String
        public var upsOutages = 0
        public var upsMinutesOnBattery = 0.0
        /// Ports whose going down was a WARN or CRIT at the agent (uplinks, servers; not
        /// desk ports), with their minutes down: `core1 port.24.oper`.
        public var portsDown: [String: Double] = [:]
        public var backupMissedRuns = 0
        /// Minutes any backup check was WARN or CRIT.
        public var backupProblemMinutes = 0.0
        public var maxAmbientTemperature: Double?
        public var minutesSilent = 0.0

        public var portDownMinutes: Double { portsDown.values.reduce(0, +) }
    }

    public var from: Int64
    public var to: Int64
    public var rows: [Row]

    public var csv: String {
        var out = "site,month,ups_outages,ups_minutes_on_battery,port_down_minutes,ports_down,backup_missed_runs,backup_problem_minutes,max_ambient_temperature,minutes_silent\n"
        for r in rows {
            let ports = r.portsDown.sorted { $0.key < $1.key }.map { "\($0.key) \(Self.minutes($0.value))" }.joined(separator: "; ")
            out += [
                Self.csvField(r.site), r.month, String(r.upsOutages), Self.minutes(r.upsMinutesOnBattery), Self.minutes(r.portDownMinutes),
                Self.csvField(ports), String(r.backupMissedRuns), Self.minutes(r.backupProblemMinutes),
                r.maxAmbientTemperature.map { String(($0 * 10).rounded() / 10) } ?? "", Self.minutes(r.minutesSilent),
            ].joined(separator: ",") + "\n"
        }
        return out
    }

    static func minutes(_ m: Double) -> String { String((m * 10).rounded() / 10) }

    static func csvField(_ s: String) -> String {
        s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) ? "\"" + s.replacingQuotes() + "\"" : s
    }
}

extension String {
    fileprivate func replacingQuotes() -> String {
        var out = ""
        for c in self { out += c == "\"" ? "\"\"" : String(c) }
        return out
    }
}

/// Time spent in a state, split by calendar month. Pure.
public enum MonthIntervals {
    /// `2026-11` for a time in seconds since the epoch (UTC).
    public static func month(_ t: Int64) -> String {
        let (y, m, _) = Timestamp.civilDate(fromDays: t.floorDivided(by: 86_400))
        return "\(y)-\(m < 10 ? "0" : "")\(m)"
    }

    /// The first second of the month after the one holding `t`.
    static func nextMonth(_ t: Int64) -> Int64 {
        var (y, m, _) = Timestamp.civilDate(fromDays: t.floorDivided(by: 86_400))
        m += 1
        if m > 12 { (y, m) = (y + 1, 1) }
        return daysFromCivil(y, m, 1) * 86_400
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
    public static func daysFromCivil(_ y0: Int, _ m: Int, _ d: Int) -> Int64 {
        let y = Int64(m <= 2 ? y0 - 1 : y0)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = Int64(m > 2 ? m - 3 : m + 9)
        let doy = (153 * mp + 2) / 5 + Int64(d) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// Seconds "bad" and entries into "bad" per month within `from..<to`. `changes` are
    /// (time, key, bad) in time order, several keys at once (bad while any key is bad);
    /// changes before `from` set the state the range starts in.
    public static func byMonth(_ changes: [(time: Int64, key: String, bad: Bool)], from: Int64, to: Int64) -> [String: (seconds: Int64, entries: Int)] {
        var out: [String: (seconds: Int64, entries: Int)] = [:]
        var badKeys = Set<String>()
        var cursor = from
        func account(until end: Int64) {
            guard !badKeys.isEmpty else { return }
            var t = cursor
            while t < end {
                let stop = min(end, nextMonth(t))
                out[month(t), default: (0, 0)].seconds += stop - t
                t = stop
            }
        }
        for c in changes {
            if c.time >= to { break }
            let wasBad = !badKeys.isEmpty
            if c.time > cursor {
                account(until: c.time)
                cursor = c.time
            }
            if c.bad { badKeys.insert(c.key) } else { badKeys.remove(c.key) }
            if !wasBad && !badKeys.isEmpty && c.time >= from { out[month(c.time), default: (0, 0)].entries += 1 }
        }
        account(until: to)
        return out
    }
}

extension StoreBackend {
    /// The monthly figures of every site (not revoked) for `from..<to`.
    public func report(from: Int64, to: Int64) async throws -> MonthlyReport {
        let insertOrder = dialect.insertOrder
        return try await read { c in
            var rows: [MonthlyReport.Row] = []
            let sites = try await c.query("SELECT id, name FROM sites WHERE revoked IS NULL ORDER BY name").map { (id: $0.int(0), name: $0.text(1)) }
            var months: [String] = []
            var t = from
            while t < to {
                months.append(MonthIntervals.month(t))
                t = MonthIntervals.nextMonth(t)
            }
            for site in sites {
                var byMonth = Dictionary(uniqueKeysWithValues: months.map { ($0, MonthlyReport.Row(site: site.name, month: $0)) })
                let id = SQLValue.integer(site.id)
                // UPS on battery: ups.status flag values (OB is bit 1), per UPS.
                let status = try await c.query(
                    "SELECT device, time, value FROM readings WHERE site_id = ? AND variable = 'ups.status' AND time < ? ORDER BY time, \(insertOrder)", [id, .integer(to)]
                ).map { (time: $0.int(1), key: $0.text(0), bad: Int($0.double(2)) & Int(UPSStatus.onBattery.rawValue) != 0) }
                for (month, v) in MonthIntervals.byMonth(status, from: from, to: to) where byMonth[month] != nil {
                    byMonth[month]!.upsOutages = v.entries
                    byMonth[month]!.upsMinutesOnBattery = Double(v.seconds) / 60
                }
                // Ports that matter: their health events (a desk port going down is not one).
                let health = try await c.query(
                    "SELECT device, variable, time, level FROM events WHERE site_id = ? AND kind = 'health' AND time < ? AND device IS NOT NULL ORDER BY time, id", [id, .integer(to)]
                ).map { (device: $0.text(0), variable: $0.text(1), time: $0.int(2), level: Int($0.int(3))) }
                let ports = health.filter { $0.variable.hasPrefix("port.") && $0.variable.hasSuffix(".oper") }
                for key in Set(ports.map { "\($0.device) \($0.variable)" }) {
                    let changes = ports.filter { "\($0.device) \($0.variable)" == key }.map { (time: $0.time, key: key, bad: $0.level >= 2) }
                    for (month, v) in MonthIntervals.byMonth(changes, from: from, to: to) where byMonth[month] != nil && v.seconds > 0 {
                        byMonth[month]!.portsDown[key] = Double(v.seconds) / 60
                    }
                }
                let backup = health.filter { $0.variable.hasPrefix("backup.") || $0.variable.hasPrefix("storage.") }
                    .map { (time: $0.time, key: "\($0.device) \($0.variable)", bad: $0.level >= 2) }
                for (month, v) in MonthIntervals.byMonth(backup, from: from, to: to) where byMonth[month] != nil {
                    byMonth[month]!.backupProblemMinutes = Double(v.seconds) / 60
                }
                // A missed run raises backup.missed (older misses leave its window later).
                let missed = try await c.query(
                    "SELECT device, time, value FROM readings WHERE site_id = ? AND variable = 'backup.missed' AND time < ? ORDER BY time, \(insertOrder)", [id, .integer(to)]
                ).map { (device: $0.text(0), time: $0.int(1), value: $0.double(2)) }
                var last: [String: Double] = [:]
                for m in missed {
                    if let before = last[m.device], m.value > before, m.time >= from, byMonth[MonthIntervals.month(m.time)] != nil {
                        byMonth[MonthIntervals.month(m.time)]!.backupMissedRuns += Int(m.value - before)
                    }
                    last[m.device] = m.value
                }
                for (month, value) in try await c.query(
                    """
                    SELECT time, value FROM readings WHERE site_id = ?1 AND variable = 'ambient.temperature' AND time >= ?2 AND time < ?3
                    UNION ALL SELECT hour, max FROM readings_hourly WHERE site_id = ?1 AND variable = 'ambient.temperature' AND hour >= ?2 AND hour < ?3
                    """, [id, .integer(from), .integer(to)]
                ).map({ (MonthIntervals.month($0.int(0)), $0.double(1)) }) where byMonth[month] != nil {
                    byMonth[month]!.maxAmbientTemperature = max(byMonth[month]!.maxAmbientTemperature ?? value, value)
                }
                let silence = try await c.query(
                    "SELECT time, new FROM events WHERE site_id = ? AND kind = 'silence' AND time < ? ORDER BY time, id", [id, .integer(to)]
                ).map { (time: $0.int(0), key: "site", bad: $0.text(1) == "silent") }
                for (month, v) in MonthIntervals.byMonth(silence, from: from, to: to) where byMonth[month] != nil {
                    byMonth[month]!.minutesSilent = Double(v.seconds) / 60
                }
                rows += months.compactMap { byMonth[$0] }
            }
            return MonthlyReport(from: from, to: to, rows: rows)
        }
    }
}

/// The report as an HTML page (the same Mustache setup as the dashboard).
public enum ReportPage {
    public static func html(_ report: MonthlyReport) -> String {
        let rows: [[String: Any]] = report.rows.map { r in
            [
                "site": r.site, "month": r.month, "outages": r.upsOutages, "onBattery": MonthlyReport.minutes(r.upsMinutesOnBattery),
                "portDown": MonthlyReport.minutes(r.portDownMinutes),
                "ports": r.portsDown.sorted { $0.key < $1.key }.map { "\($0.key): \(MonthlyReport.minutes($0.value)) min" }.joined(separator: ", "),
                "missed": r.backupMissedRuns, "backupProblem": MonthlyReport.minutes(r.backupProblemMinutes),
                "maxTemperature": r.maxAmbientTemperature.map { String(($0 * 10).rounded() / 10) } ?? "-", "silent": MonthlyReport.minutes(r.minutesSilent),
            ]
        }
        return Dashboard.render(
            "report",
            ["title": "Closets: report \(MonthIntervals.month(report.from)) to \(MonthIntervals.month(report.to - 1))", "rows": rows, "from": Dashboard.utc(report.from), "to": Dashboard.utc(report.to)])
    }
}
