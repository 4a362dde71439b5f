import ClosetModel

/// NUT's variable names are the model's names for a UPS (`battery.charge`, `ups.status`, ...),
/// so the mapping is 1:1 both ways; this turns values into readings and back. Pure.
public enum NUTVariables {
    /// Variables about NUT's own processes, not the UPS: not kept as readings.
    static let skippedPrefixes = ["driver.", "server."]

    /// The readings for a UPS's variables from upsd: numbers as numbers with a unit from
    /// the name, `ups.status` as flags, everything else as words.
    public static func readings(_ variables: [(name: String, value: String)], at time: Timestamp) -> [Reading] {
        var out: [Reading] = []
        for (name, value) in variables where !skippedPrefixes.contains(where: { name.hasPrefix($0) }) {
            guard NUTLine.isPlainWord(name), name.count <= 64 else { continue }
            if name == VariableName.upsStatus.rawValue {
                out.append(Reading(.upsStatus, .status(UPSStatus.parse(value).status), time: time))
            } else if let number = Double(value), number.isFinite {
                // usbhid-ups saturates a 16-bit runtime at 65535 s (NUT issue #1740): unknown.
                if name == VariableName.batteryRuntime.rawValue && number == 65535 { continue }
                out.append(Reading(VariableName(name), .number(number), unit: unit(of: name), time: time))
            } else {
                out.append(Reading(VariableName(name), .text(value), time: time))
            }
        }
        return out
    }

    /// The unit NUT's naming implies (docs/nut-names.txt): `battery.voltage.nominal` is in
    /// volts, `battery.charge.low` in percent, `ups.delay.shutdown` in seconds.
    public static func unit(of name: String) -> Unit? {
        let parts = name.split(separator: ".")
        func has(_ word: Substring) -> Bool { parts.contains(word) }
        if has("temperature") { return .celsius }
        if has("humidity") { return .relativeHumidity }
        if has("voltage") || (parts.first == "input" && has("transfer")) { return .volt }
        if has("current") { return .ampere }
        if has("realpower") { return .watt }
        if has("power") { return .voltAmpere }
        if has("frequency") { return .hertz }
        if has("runtime") || has("delay") || has("timer") || has("interval") { return .second }
        if has("charge") || has("load") || has("efficiency") { return .percent }
        return nil
    }

    /// A reading's value as upsd prints it: `ups.status` as its tokens, numbers without a
    /// needless `.0`.
    public static func text(_ value: ReadingValue) -> String {
        switch value {
        case .status(let status): return status.description
        case .text(let text): return text
        case .number(let n):
            if n == n.rounded(), abs(n) < 1e15 { return String(Int64(n)) }
            return String(n)
        }
    }
}
