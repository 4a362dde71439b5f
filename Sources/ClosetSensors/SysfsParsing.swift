import ClosetModel

/// Pure parsers for sysfs attribute text. No IO: each takes the text a file held.
enum SysfsParsing {
    /// hwmon and thermal temperatures are integers in millidegrees Celsius.
    /// Returns nil for garbage, and for values no board sensor can report (below -60 or above
    /// 200 °C: a disconnected diode commonly reads -128 or 255).
    static func millidegrees(_ text: String) -> Double? {
        guard let milli = Int64(text.trimmingSpaces), milli > -60_000, milli < 200_000 else { return nil }
        return Double(milli) / 1000
    }

    /// A non-negative integer (fan RPM, link speed).
    static func unsigned(_ text: String) -> Int64? {
        guard let v = Int64(text.trimmingSpaces), v >= 0 else { return nil }
        return v
    }

    /// `/sys/class/net/*/operstate` (RFC 2863 words in lower case) to IF-MIB's spelling.
    static func operState(_ text: String) -> String? {
        switch text.trimmingSpaces {
        case "up": "up"
        case "down": "down"
        case "unknown": "unknown"
        case "dormant": "dormant"
        case "notpresent": "notPresent"
        case "lowerlayerdown": "lowerLayerDown"
        case "testing": "testing"
        default: nil
        }
    }

    /// `/sys/class/net/*/flags` is hex (`0x1003`); IFF_UP (bit 0) is the admin state.
    static func adminUp(flags text: String) -> Bool? {
        var t = text.trimmingSpaces
        if t.hasPrefix("0x") { t = String(t.dropFirst(2)) }
        guard let flags = UInt32(t, radix: 16) else { return nil }
        return flags & 0x1 != 0
    }

    /// A sensor label made safe as one segment of a variable name: `Package id 0` -> `package_id_0`.
    static func segment(_ label: String) -> String {
        var out = ""
        var lastWasUnderscore = false
        for c in label.lowercased() {
            if c.isASCII, c.isLetter || c.isNumber || c == "-" {
                out.append(c)
                lastWasUnderscore = false
            } else if !lastWasUnderscore, !out.isEmpty {
                out.append("_")
                lastWasUnderscore = true
            }
        }
        while out.hasSuffix("_") { out.removeLast() }
        return out.isEmpty ? "unnamed" : out
    }
}
