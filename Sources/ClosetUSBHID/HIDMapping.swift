import ClosetModel

/// Which HID usage path feeds which model variable (the idea of NUT's hid2nut tables), and
/// the PresentStatus bits that make `ups.status`. The first path found wins, so the
/// PowerSummary collection (what most firmwares keep current) comes before the others.
public enum HIDMapping {
    public struct Entry: Sendable {
        public var path: String
        public var variable: VariableName
        public var unit: Unit?
    }

    public static let values: [Entry] = [
        .init(path: "UPS.PowerSummary.RemainingCapacity", variable: .batteryCharge, unit: .percent),
        .init(path: "UPS.Battery.RemainingCapacity", variable: .batteryCharge, unit: .percent),
        .init(path: "UPS.PowerSummary.RunTimeToEmpty", variable: .batteryRuntime, unit: .second),
        .init(path: "UPS.Battery.RunTimeToEmpty", variable: .batteryRuntime, unit: .second),
        .init(path: "UPS.PowerSummary.Voltage", variable: .batteryVoltage, unit: .volt),
        .init(path: "UPS.Battery.Voltage", variable: .batteryVoltage, unit: .volt),
        .init(path: "UPS.Input.Voltage", variable: .inputVoltage, unit: .volt),
        .init(path: "UPS.Input.Frequency", variable: .inputFrequency, unit: .hertz),
        .init(path: "UPS.Output.Voltage", variable: .outputVoltage, unit: .volt),
        // MGE/Eaton family (and Santak): the output under the power converter.
        .init(path: "UPS.PowerConverter.Output.Voltage", variable: .outputVoltage, unit: .volt),
        .init(path: "UPS.PowerConverter.PercentLoad", variable: .upsLoad, unit: .percent),
        .init(path: "UPS.Output.PercentLoad", variable: .upsLoad, unit: .percent),
        // MGE/Eaton family (and Santak): the load in the power summary.
        .init(path: "UPS.PowerSummary.PercentLoad", variable: .upsLoad, unit: .percent),
    ]

    /// PresentStatus bit names to flags; ACPresent sets OL when 1 and OB when 0.
    public static let statusBits: [(String, UPSStatus)] = [
        ("Charging", .charging), ("Discharging", .discharging), ("BelowRemainingCapacityLimit", .lowBattery),
        ("ShutdownImminent", .lowBattery), ("NeedReplacement", .replaceBattery), ("Overload", .overload),
        ("Boost", .boost), ("Buck", .trim),
    ]

    /// A model whose firmware reports a value off by a fixed factor.
    public struct Quirk: Sendable {
        public var vendor: UInt16
        public var product: UInt16
        public var variable: VariableName
        public var factor: Double
        public var why: String
    }

    /// Known firmware errors, as data (from NUT's subdrivers' device tables).
    public static let quirks: [Quirk] = [
        Quirk(
            vendor: 0x0764, product: 0x0501, variable: .batteryVoltage, factor: 2.0 / 3.0,
            why: "CyberPower 0764:0501 reports battery voltage 1.5 times too high (NUT cps-hid)"),
    ]

    static func applyQuirks(_ reading: Reading, vendor: UInt16, product: UInt16) -> Reading {
        guard case .number(let v) = reading.value,
            let quirk = quirks.first(where: { $0.vendor == vendor && $0.product == product && $0.variable == reading.name })
        else { return reading }
        var fixed = reading
        fixed.value = .number((v * quirk.factor * 100).rounded() / 100)
        return fixed
    }

    /// HID's volt is 10^7 of its base unit (HID 1.11, units): the value in volts is
    /// raw * 10^(exponent - 7). APC sends battery voltage with exponent 5 (1350 = 13.5 V).
    static let voltUnit: UInt32 = 0x00F0_D121

    static func scaled(_ raw: Int64, _ field: HIDField) -> Double {
        var v = Double(raw)
        if field.unit == voltUnit {
            let e = field.unitExponent - 7
            for _ in 0..<abs(e) { v = e < 0 ? v / 10 : v * 10 }
        }
        return v
    }

    /// The readings for the reports read from a device (report id -> bytes, id first).
    public static func readings(fields: [HIDField], reports: [UInt8: [UInt8]], at time: Timestamp) -> [Reading] {
        let byPath = Dictionary(grouping: fields, by: \.path)
        func value(_ path: String) -> (Int64, HIDField)? {
            for kind in [HIDField.Kind.feature, .input] {
                for f in byPath[path] ?? [] where f.kind == kind {
                    if let bytes = reports[f.reportID], let v = f.value(in: bytes) { return (v, f) }
                }
            }
            return nil
        }
        var out: [Reading] = []
        var done = Set<VariableName>()
        for entry in values where !done.contains(entry.variable) {
            guard let (raw, field) = value(entry.path) else { continue }
            done.insert(entry.variable)
            let v = (scaled(raw, field) * 1000).rounded() / 1000
            out.append(Reading(entry.variable, .number(v), unit: entry.unit, time: time))
        }
        for prefix in ["UPS.PowerSummary.PresentStatus.", "UPS.PresentStatus."] {
            guard let (ac, _) = value(prefix + "ACPresent") else { continue }
            var status: UPSStatus = ac != 0 ? .onLine : .onBattery
            for (name, flag) in statusBits where (value(prefix + name)?.0 ?? 0) != 0 { status.insert(flag) }
            out.append(Reading(.upsStatus, .status(status), time: time))
            break
        }
        return out
    }
}
