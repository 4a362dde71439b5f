/// A wall-clock instant: nanoseconds since the Unix epoch (UTC).
///
/// Readings and events carry wall time because the store lines up many closets; ordering
/// inside one agent never relies on it (the uplink orders by sequence number).
public struct Timestamp: Sendable, Hashable, Comparable, InstantProtocol, CustomStringConvertible {
    public var nanosecondsSinceEpoch: Int64

    public init(nanosecondsSinceEpoch: Int64) {
        self.nanosecondsSinceEpoch = nanosecondsSinceEpoch
    }

    public init(secondsSinceEpoch: Double) {
        self.nanosecondsSinceEpoch = Int64((secondsSinceEpoch * 1e9).rounded())
    }

    public var secondsSinceEpoch: Double { Double(nanosecondsSinceEpoch) / 1e9 }
    public var millisecondsSinceEpoch: Int64 { nanosecondsSinceEpoch / 1_000_000 }

    public func advanced(by duration: Duration) -> Timestamp {
        Timestamp(nanosecondsSinceEpoch: nanosecondsSinceEpoch + duration.nanoseconds)
    }

    public func duration(to other: Timestamp) -> Duration {
        .nanoseconds(other.nanosecondsSinceEpoch - nanosecondsSinceEpoch)
    }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        lhs.nanosecondsSinceEpoch < rhs.nanosecondsSinceEpoch
    }

    /// RFC 3339 in UTC with millisecond precision, e.g. `2026-11-29T14:48:57.123Z`.
    public var description: String { rfc3339 }

    public var rfc3339: String {
        let ms = nanosecondsSinceEpoch.floorDivided(by: 1_000_000)
        let seconds = ms.floorDivided(by: 1000)
        let millis = Int(ms - seconds * 1000)
        let days = seconds.floorDivided(by: 86_400)
        let secondOfDay = Int(seconds - days * 86_400)
        let (y, m, d) = Timestamp.civilDate(fromDays: days)
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))T\(pad(secondOfDay / 3600, 2)):"
            + "\(pad(secondOfDay / 60 % 60, 2)):\(pad(secondOfDay % 60, 2)).\(pad(millis, 3))Z"
    }

    /// `2026-11-24 02:00` in a zone `offsetSeconds` east of UTC (the board's local time).
    public func shortDescription(offsetSeconds: Int64 = 0) -> String {
        let seconds = nanosecondsSinceEpoch.floorDivided(by: 1_000_000_000) + offsetSeconds
        let days = seconds.floorDivided(by: 86_400)
        let secondOfDay = Int(seconds - days * 86_400)
        let (y, m, d) = Timestamp.civilDate(fromDays: days)
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2)) \(pad(secondOfDay / 3600, 2)):\(pad(secondOfDay / 60 % 60, 2))"
    }

    /// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's civil_from_days).
    public static func civilDate(fromDays z0: Int64) -> (Int, Int, Int) {
        let z = z0 + 719_468
        let era = z.floorDivided(by: 146_097)
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        return (Int(y), Int(m), Int(d))
    }
}

extension Duration {
    /// The whole duration in nanoseconds (saturating far beyond any poll interval).
    public var nanoseconds: Int64 {
        let (s, atto) = components
        return s &* 1_000_000_000 &+ atto / 1_000_000_000
    }

    /// The duration in seconds as a floating-point number.
    public var seconds: Double { Double(nanoseconds) / 1e9 }

    /// Short human form: `500ms`, `10s`, `5m`, `1h30m`.
    public var compactDescription: String {
        let ns = nanoseconds
        if ns % 1_000_000_000 != 0 || ns == 0 {
            return ns % 1_000_000 == 0 ? "\(ns / 1_000_000)ms" : "\(Double(ns) / 1e9)s"
        }
        var s = ns / 1_000_000_000
        var out = ""
        if s >= 3600 { out += "\(s / 3600)h"; s %= 3600 }
        if s >= 60 { out += "\(s / 60)m"; s %= 60 }
        if s > 0 { out += "\(s)s" }
        return out
    }

    /// Parses `500ms`, `10s`, `5m`, `2h`, `1d`, or a sum such as `1m30s`.
    public init?(parsing text: String) {
        var total: Int64 = 0
        var digits = ""
        var fraction = ""
        var inFraction = false
        var index = text.startIndex
        guard !text.isEmpty else { return nil }
        while index < text.endIndex {
            let c = text[index]
            if c.isASCII, c.isNumber {
                if inFraction { fraction.append(c) } else { digits.append(c) }
                index = text.index(after: index)
                continue
            }
            if c == ".", !inFraction, !digits.isEmpty {
                inFraction = true
                index = text.index(after: index)
                continue
            }
            var unit = ""
            while index < text.endIndex, text[index].isLetter {
                unit.append(text[index])
                index = text.index(after: index)
            }
            let scale: Int64
            switch unit {
            case "ms": scale = 1_000_000
            case "s": scale = 1_000_000_000
            case "m": scale = 60_000_000_000
            case "h": scale = 3_600_000_000_000
            case "d": scale = 86_400_000_000_000
            default: return nil
            }
            guard let whole = Int64(digits), whole < 1_000_000_000 else { return nil }
            var part = whole * scale
            if inFraction, fraction.isEmpty { return nil }
            if !fraction.isEmpty {
                guard let f = Double("0." + fraction) else { return nil }
                part += Int64(f * Double(scale))
            }
            total += part
            digits = ""
            fraction = ""
            inFraction = false
        }
        guard digits.isEmpty, !inFraction else { return nil }
        self = .nanoseconds(total)
    }
}

/// Division rounding toward minus infinity (days before 1970 and zones west of UTC).
extension Int64 {
    public func floorDivided(by d: Int64) -> Int64 {
        let q = self / d
        return (self % d != 0 && (self < 0) != (d < 0)) ? q - 1 : q
    }
}

private func pad(_ value: some BinaryInteger, _ width: Int) -> String {
    let s = String(value)
    return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
}
