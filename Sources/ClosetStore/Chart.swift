/// Server-rendered SVG charts: no JavaScript, readable on an old office browser. Pure.
enum Chart {
    struct Series {
        var label: String
        var points: [HistoryPoint]
    }

    static let colors = ["#1f6fb2", "#c0392b", "#27ae60", "#8e44ad", "#d35400", "#16a085", "#7f8c8d"]
    static let width = 640.0
    static let height = 180.0
    static let left = 70.0
    static let bottom = 22.0

    /// Lines of the bucket means (a band from min to max behind each) over `from...to`.
    static func lines(title: String, unit: String, series: [Series], from: Int64, to: Int64) -> String {
        let values = series.flatMap { $0.points.flatMap { [$0.min, $0.max] } }
        guard let lo = values.min(), let hi = values.max() else {
            return frame(title: title, body: "<text x=\"\(Int(width / 2))\" y=\"\(Int(height / 2))\" text-anchor=\"middle\" fill=\"#888\">no data in this range</text>")
        }
        let span = hi - lo < 1e-9 ? 1 : hi - lo
        let (bottomValue, topValue) = (lo - span * 0.05, hi + span * 0.05)
        func x(_ t: Int64) -> Double { left + (width - left - 8) * Double(t - from) / Double(max(1, to - from)) }
        func y(_ v: Double) -> Double { 8 + (height - bottom - 8) * (1 - (v - bottomValue) / (topValue - bottomValue)) }
        var body = axes(from: from, to: to, lowLabel: number(bottomValue) + " " + unit, highLabel: number(topValue) + " " + unit)
        for (i, s) in series.enumerated() where !s.points.isEmpty {
            let color = colors[i % colors.count]
            let band = s.points.map { "\(f(x($0.time))),\(f(y($0.max)))" } + s.points.reversed().map { "\(f(x($0.time))),\(f(y($0.min)))" }
            body += "<polygon points=\"\(band.joined(separator: " "))\" fill=\"\(color)\" fill-opacity=\"0.15\" stroke=\"none\"/>"
            body += "<polyline points=\"\(s.points.map { "\(f(x($0.time))),\(f(y($0.mean)))" }.joined(separator: " "))\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.5\"/>"
        }
        let legend = series.enumerated().filter { !$0.element.points.isEmpty }.map { i, s in
            "<span style=\"color:\(colors[i % colors.count])\">&#9632; \(Dashboard.escape(s.label))</span>"
        }
        return frame(title: title, body: body, legend: legend.joined(separator: " "))
    }

    /// Bars: how many port changes fell in each bucket.
    static func bars(title: String, counts: [(time: Int64, count: Int)], from: Int64, to: Int64, buckets: Int) -> String {
        guard let most = counts.map(\.count).max(), most > 0 else {
            return frame(title: title, body: axes(from: from, to: to, lowLabel: "0", highLabel: "") + "<text x=\"\(Int(width / 2))\" y=\"\(Int(height / 2))\" text-anchor=\"middle\" fill=\"#888\">no port changes</text>")
        }
        let slot = (width - left - 8) / Double(max(1, buckets))
        var body = axes(from: from, to: to, lowLabel: "0", highLabel: "\(most)")
        for c in counts {
            let h = (height - bottom - 8) * Double(c.count) / Double(most)
            let x = left + (width - left - 8) * Double(c.time - from) / Double(max(1, to - from)) - slot / 2
            body += "<rect x=\"\(f(x))\" y=\"\(f(height - bottom - h))\" width=\"\(f(max(1, slot - 1)))\" height=\"\(f(h))\" fill=\"#c0392b\"><title>\(c.count) changes</title></rect>"
        }
        return frame(title: title, body: body)
    }

    static func frame(title: String, body: String, legend: String = "") -> String {
        "<figure><figcaption>\(Dashboard.escape(title))</figcaption><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\">\(body)</svg>"
            + (legend.isEmpty ? "" : "<div class=\"legend\">\(legend)</div>") + "</figure>"
    }

    static func axes(from: Int64, to: Int64, lowLabel: String, highLabel: String) -> String {
        let base = height - bottom
        return "<rect x=\"\(f(left))\" y=\"8\" width=\"\(f(width - left - 8))\" height=\"\(f(base - 8))\" fill=\"#fafafa\" stroke=\"#ccc\"/>"
            + "<text x=\"\(f(left - 4))\" y=\"\(f(base))\" text-anchor=\"end\" font-size=\"10\">\(Dashboard.escape(lowLabel))</text>"
            + "<text x=\"\(f(left - 4))\" y=\"16\" text-anchor=\"end\" font-size=\"10\">\(Dashboard.escape(highLabel))</text>"
            + "<text x=\"\(f(left))\" y=\"\(f(base + 12))\" font-size=\"10\">\(Dashboard.utc(from))</text>"
            + "<text x=\"\(f(width - 8))\" y=\"\(f(base + 12))\" text-anchor=\"end\" font-size=\"10\">\(Dashboard.utc(to))</text>"
    }

    static func f(_ v: Double) -> String { String((v * 10).rounded() / 10) }

    static func number(_ v: Double) -> String {
        if abs(v) >= 100 || v == v.rounded() { return String(Int64(v.rounded())) }
        return String((v * 10).rounded() / 10)
    }
}
