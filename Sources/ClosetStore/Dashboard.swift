import ClosetModel

/// Server-rendered pages: plain HTML and CSS, no JavaScript, so an old office browser works.
enum Dashboard {
    static let levelNames = ["ok", "unknown", "warn", "crit"]

    static func overview(_ sites: [SiteSummary], now: Int64) -> String {
        var rows = ""
        for s in sites {
            let level = s.silent ? "silent" : s.level.map { levelNames[min(max($0, 0), 3)] } ?? "never"
            let age = s.lastReport.map { ageText(now - $0) } ?? "never"
            rows += "<tr class=\"\(level)\"><td><a href=\"/sites/\(escape(s.name))\">\(escape(s.name))</a></td><td>\(level.uppercased())</td><td>\(age)</td><td>\(escape(s.problem ?? ""))</td></tr>\n"
        }
        return """
            <!DOCTYPE html>
            <html><head><meta charset="utf-8"><meta http-equiv="refresh" content="30"><title>Closet: all sites</title>
            <style>body{font-family:sans-serif}table{border-collapse:collapse}td,th{padding:4px 8px;border:1px solid #ccc}
            .ok td:nth-child(2){background:#8c8}.warn td:nth-child(2){background:#fd6}.crit td:nth-child(2),.silent td:nth-child(2){background:#f66}
            .unknown td:nth-child(2),.never td:nth-child(2){background:#ccc}</style></head>
            <body><h1>Closets</h1><p>\(sites.count) sites</p>
            <table><tr><th>site</th><th>health</th><th>last report</th><th>top problem</th></tr>
            \(rows)</table></body></html>
            """
    }

    static func ageText(_ seconds: Int64) -> String {
        if seconds < 120 { return "\(max(0, seconds)) s ago" }
        if seconds < 7200 { return "\(seconds / 60) min ago" }
        if seconds < 172_800 { return "\(seconds / 3600) h ago" }
        return "\(seconds / 86_400) days ago"
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
