import ClosetModel

/// The JSON API and the Prometheus exposition, written by hand (the shapes are small and
/// stable; keys never renamed within /v1).
enum API {
    static func sites(_ sites: [SiteSummary], now: Int64) -> String {
        let items = sites.map { s in
            "{\"name\":\(jsonQuoted(s.name)),\"health\":\(jsonQuoted(Dashboard.levelName(s.level, silent: s.silent).uppercased())),"
                + "\"silent\":\(s.silent),\"last_report\":\(s.lastReport.map(String.init) ?? "null"),"
                + "\"age_seconds\":\(s.lastReport.map { String(now - $0) } ?? "null"),\"problem\":\(s.problem.map(jsonQuoted) ?? "null")}"
        }
        return "{\"sites\":[" + items.joined(separator: ",") + "]}\n"
    }

    static func site(_ v: SiteView) -> String {
        let devices = v.devices.map { d in
            let readings = d.readings.map { "{\"variable\":\(jsonQuoted($0.variable)),\"value\":\(number($0.value)),\"unit\":\(jsonQuoted($0.unit))}" }
            let ports = d.ports.map { "{\"index\":\($0.index),\"name\":\(jsonQuoted($0.name)),\"state\":\(jsonQuoted(["up", "down", "admin_down"][min(max($0.state, 0), 2)]))}" }
            return "{\"name\":\(jsonQuoted(d.name)),\"kind\":\(jsonQuoted(d.kind)),\"driver\":\(jsonQuoted(d.driver)),"
                + "\"health\":\(jsonQuoted(Dashboard.levelNames[min(max(d.level, 0), 3)].uppercased())),\"stale\":\(d.stale),"
                + "\"readings\":[\(readings.joined(separator: ","))],\"ports\":[\(ports.joined(separator: ","))]}"
        }
        return "{\"name\":\(jsonQuoted(v.name)),\"health\":\(jsonQuoted(Dashboard.levelName(v.level, silent: v.silent).uppercased())),"
            + "\"silent\":\(v.silent),\"time\":\(v.time.map(String.init) ?? "null"),\"received\":\(v.received.map(String.init) ?? "null"),"
            + "\"problem\":\(v.problem.map(jsonQuoted) ?? "null"),\"devices\":[\(devices.joined(separator: ","))]}\n"
    }

    static func events(_ events: [StoredEvent]) -> String {
        let items = events.map { e in
            "{\"time\":\(e.time),\"device\":\(e.device.map(jsonQuoted) ?? "null"),\"kind\":\(jsonQuoted(e.kind)),\"variable\":\(jsonQuoted(e.variable)),"
                + "\"level\":\(jsonQuoted(Dashboard.levelNames[min(max(e.level, 0), 3)].uppercased())),\"reason\":\(jsonQuoted(e.reason))}"
        }
        return "{\"events\":[" + items.joined(separator: ",") + "]}\n"
    }

    static func history(_ points: [HistoryPoint], site: String, device: String, variable: String, from: Int64, to: Int64) -> String {
        let items = points.map { "{\"time\":\($0.time),\"min\":\(number($0.min)),\"mean\":\(number($0.mean)),\"max\":\(number($0.max))}" }
        return "{\"site\":\(jsonQuoted(site)),\"device\":\(jsonQuoted(device)),\"variable\":\(jsonQuoted(variable)),\"from\":\(from),\"to\":\(to),"
            + "\"points\":[\(items.joined(separator: ","))]}\n"
    }

    static func number(_ v: Double) -> String {
        guard v.isFinite else { return "null" }
        return v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(v)
    }

    /// Prometheus text format 0.0.4: each site's latest values, one metric per variable
    /// (`closet_battery_charge{site,device}`), ports as `closet_port_up`, health as 0..3.
    static func metrics(_ views: [SiteView], now: Int64) -> String {
        var families: [String: (help: String, lines: [String])] = [:]
        func add(_ name: String, _ help: String, _ labels: [(String, String)], _ value: Double) {
            let l = labels.map { "\($0.0)=\"\(labelValue($0.1))\"" }.joined(separator: ",")
            families[name, default: (help, [])].lines.append("\(name){\(l)} \(number(value))")
        }
        for v in views {
            let site = [("site", v.name)]
            add("closet_site_health", "Worst device level: 0 ok, 1 unknown, 2 warn, 3 crit", site, Double(v.level ?? 1))
            add("closet_site_silent", "1 when the site stopped reporting", site, v.silent ? 1 : 0)
            if let received = v.received { add("closet_site_last_report_age_seconds", "Seconds since the last push", site, Double(now - received)) }
            for d in v.devices {
                let labels = site + [("device", d.name), ("kind", d.kind)]
                add("closet_device_health", "Device level: 0 ok, 1 unknown, 2 warn, 3 crit", labels, Double(d.level))
                add("closet_device_stale", "1 when the device's readings are stale", labels, d.stale ? 1 : 0)
                for r in d.readings where !r.variable.hasPrefix("port.") {
                    add("closet_" + metricName(r.variable), "\(r.variable) (\(r.unit.isEmpty ? "no unit" : r.unit))", site + [("device", d.name)], r.value)
                }
                if !d.ports.isEmpty {
                    for (state, name) in [(0, "up"), (1, "down"), (2, "admin_down")] {
                        add("closet_ports", "Ports of a switch or link by state", site + [("device", d.name), ("state", name)], Double(d.ports.filter { $0.state == state }.count))
                    }
                }
                // One series per port would be 26 MB a scrape at 1,000 sites: only the down
                // ones are listed (a port is up when it has no series here).
                for p in d.ports where p.state == 1 {
                    add("closet_port_down", "1 for each port that is down (up ports have no series)", site + [("device", d.name), ("port", String(p.index)), ("name", p.name)], 1)
                }
            }
        }
        var out = ""
        for name in families.keys.sorted() {
            let f = families[name]!
            out += "# HELP \(name) \(f.help)\n# TYPE \(name) gauge\n" + f.lines.joined(separator: "\n") + "\n"
        }
        return out
    }

    /// `battery.charge` -> `battery_charge`; anything outside [a-zA-Z0-9_] becomes `_`.
    static func metricName(_ variable: String) -> String {
        String(variable.map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "_" })
    }

    static func labelValue(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(c)
            }
        }
        return out
    }
}
