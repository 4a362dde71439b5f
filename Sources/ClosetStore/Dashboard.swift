import ClosetModel
import Mustache

/// Server-rendered pages from Mustache templates: plain HTML and CSS, SVG charts, no
/// JavaScript, so an old office browser works. Pages refresh themselves.
enum Dashboard {
    static let levelNames = ["ok", "unknown", "warn", "crit"]

    static let library: MustacheLibrary = {
        var library = MustacheLibrary()
        do {
            for (name, text) in Templates.all { try library.register(text, named: name) }
        } catch {
            preconditionFailure("a built-in template does not parse: \(error)")
        }
        return library
    }()

    static func render(_ template: String, _ context: [String: Any]) -> String {
        library.render(context, withTemplate: template) ?? "template \(template) missing"
    }

    static func levelName(_ level: Int?, silent: Bool) -> String {
        silent ? "silent" : level.map { levelNames[min(max($0, 0), 3)] } ?? "never"
    }

    static func overview(_ sites: [SiteSummary], now: Int64) -> String {
        var counts: [String: Int] = [:]
        let rows: [[String: Any]] = sites.map { s in
            let level = levelName(s.level, silent: s.silent)
            counts[level, default: 0] += 1
            return [
                "name": s.name, "url": "/sites/" + urlPath(s.name), "level": level, "levelText": level.uppercased(),
                "age": s.lastReport.map { ageText(now - $0) } ?? "never", "problem": s.problem ?? "",
            ]
        }
        let summary = ["crit", "silent", "warn", "unknown", "never", "ok"].compactMap { l in counts[l].map { "\($0) \(l.uppercased())" } }
        return render("overview", ["title": "Closets: all sites", "count": sites.count, "summary": summary.joined(separator: ", "), "sites": rows])
    }

    /// The ranges a site page offers, in seconds.
    static let ranges: [(label: String, seconds: Int64)] = [("24h", 86_400), ("7d", 7 * 86_400), ("30d", 30 * 86_400)]

    struct SiteCharts {
        var temperature: [Chart.Series] = []
        var ups: [Chart.Series] = []
        var portChanges: [(time: Int64, count: Int)] = []
    }

    static func site(_ view: SiteView, events: [StoredEvent], charts: SiteCharts, range: String, from: Int64, to: Int64, now: Int64) -> String {
        let level = levelName(view.level, silent: view.silent)
        func readings(_ d: SiteView.Device) -> [[String: Any]] {
            d.readings.filter { !$0.variable.hasPrefix("port.") }.map { ["variable": $0.variable, "value": display($0)] }
        }
        func device(_ d: SiteView.Device) -> [String: Any] {
            let l = levelName(d.level, silent: false)
            let ports: [[String: Any]] = d.ports.sorted { $0.index < $1.index }.map { p in
                let state = ["up", "down", "off"][min(max(p.state, 0), 2)]
                return ["state": state, "index": p.index, "title": "\(p.name.isEmpty ? "port \(p.index)" : p.name): \(state == "off" ? "admin down" : state)"]
            }
            return [
                "name": d.name, "kind": d.kind, "driver": d.driver, "level": l, "levelText": l.uppercased() + (d.stale ? " (stale)" : ""),
                "readings": readings(d), "ports": ports, "hasPorts": !ports.isEmpty,
                "portSummary": "\(d.ports.filter { $0.state == 0 }.count) up, \(d.ports.filter { $0.state == 1 }.count) down, \(d.ports.filter { $0.state == 2 }.count) off",
            ]
        }
        let groups: [(String, [String])] = [("UPS", ["ups"]), ("Environment", ["sensor"]), ("Switches and links", ["switch", "link"]), ("Backups", ["backup"]), ("The board", ["agent"])]
        let sections: [[String: Any]] = groups.compactMap { title, kinds in
            let devices = view.devices.filter { kinds.contains($0.kind) }
            return devices.isEmpty ? nil : ["title": title, "devices": devices.map(device)]
        }
        let chartSVG = [
            Chart.lines(title: "Temperatures", unit: "degC", series: charts.temperature, from: from, to: to),
            Chart.lines(title: "UPS load and charge", unit: "%", series: charts.ups, from: from, to: to),
            Chart.bars(title: "Port changes", counts: charts.portChanges, from: from, to: to, buckets: 96),
        ].map { ["svg": $0] }
        let eventRows: [[String: Any]] = events.map { e in
            let l = levelNames[min(max(e.level, 0), 3)]
            return ["time": utc(e.time), "device": e.device ?? "site", "variable": e.variable, "reason": e.reason, "level": l, "levelText": l.uppercased()]
        }
        return render(
            "site",
            [
                "title": "Closet: \(view.name)", "name": view.name, "level": level, "levelText": level.uppercased(),
                "age": view.received.map { ageText(now - $0) } ?? "never", "problem": view.problem.map { $0.isEmpty ? false : $0 as Any } ?? false, "silent": view.silent,
                "stateTime": view.time.map(utc) ?? "-",
                "ranges": ranges.map { ["label": $0.label, "href": "/sites/\(urlPath(view.name))?range=\($0.label)", "current": $0.label == range] },
                "sections": sections, "charts": chartSVG, "events": eventRows, "hasEvents": !eventRows.isEmpty,
            ])
    }

    /// A reading for people: `ups.status` as its NUT words, bytes in kB/MB/GB, long
    /// durations in hours or days.
    static func display(_ r: SiteView.Reading) -> String {
        if r.variable == "ups.status", r.value >= 0, r.value < 65536 { return UPSStatus(rawValue: UInt16(r.value)).description }
        switch r.unit {
        case "B":
            for (limit, suffix) in [(1e12, "TB"), (1e9, "GB"), (1e6, "MB"), (1e3, "kB")] where abs(r.value) >= limit {
                return Chart.number(r.value / limit) + " " + suffix
            }
            return Chart.number(r.value) + " B"
        case "s" where r.value >= 172_800: return Chart.number(r.value / 86_400) + " days"
        case "s" where r.value >= 7200: return Chart.number(r.value / 3600) + " h"
        case "count": return Chart.number(r.value)
        default: return Chart.number(r.value) + (r.unit.isEmpty ? "" : " " + r.unit)
        }
    }

    static func ageText(_ seconds: Int64) -> String {
        if seconds < 120 { return "\(max(0, seconds)) s ago" }
        if seconds < 7200 { return "\(seconds / 60) min ago" }
        if seconds < 172_800 { return "\(seconds / 3600) h ago" }
        return "\(seconds / 86_400) days ago"
    }

    /// `2026-11-29 14:05 UTC`.
    static func utc(_ seconds: Int64) -> String {
        let t = Timestamp(nanosecondsSinceEpoch: seconds * 1_000_000_000).rfc3339
        return String(t.prefix(16)).replacingT() + " UTC"
    }

    static func urlPath(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            if (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2D || b == 0x2E || b == 0x5F {
                out.append(Character(Unicode.Scalar(b)))
            } else {
                out += "%" + hex([b]).uppercased()
            }
        }
        return out
    }

    static func escape(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "&": out += "&amp;"
            case "\"": out += "&quot;"
            default: out.append(c)
            }
        }
        return out
    }

    static func jsonString(_ s: String) -> String { jsonQuoted(s) }
}

extension String {
    fileprivate func replacingT() -> String { String(map { $0 == "T" ? " " : $0 }) }
}
