/// A dotted variable name from NUT's vocabulary (`battery.charge`, `ups.status`), with
/// per-port names (`port.12.oper`) and anything unregistered under `experimental.`.
public struct VariableName: Sendable, Hashable, Comparable, ExpressibleByStringLiteral,
    CustomStringConvertible
{
    public var rawValue: String
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }
    public var description: String { rawValue }
    public static func < (lhs: VariableName, rhs: VariableName) -> Bool {
        lhs.rawValue.compareNatural(rhs.rawValue)
    }

    public static let upsStatus: VariableName = "ups.status"
    public static let upsLoad: VariableName = "ups.load"
    public static let upsTemperature: VariableName = "ups.temperature"
    public static let batteryCharge: VariableName = "battery.charge"
    public static let batteryRuntime: VariableName = "battery.runtime"
    public static let batteryVoltage: VariableName = "battery.voltage"
    public static let inputVoltage: VariableName = "input.voltage"
    public static let inputFrequency: VariableName = "input.frequency"
    public static let outputVoltage: VariableName = "output.voltage"
    public static let ambientTemperature: VariableName = "ambient.temperature"
    public static let ambientHumidity: VariableName = "ambient.humidity"
    public static let boardTemperature: VariableName = "board.temperature"

    /// `port.<index>.<field>`: one column of a switch's or the board's interface table.
    public static func port(_ index: Int, _ field: PortField) -> VariableName {
        VariableName("port.\(index).\(field.rawValue)")
    }

    /// The port index and field when this is a per-port name.
    public var portComponents: (index: Int, field: PortField)? {
        // Hot: called for every reading of every switch on each poll, record and screen.
        var utf8 = rawValue.utf8[...]
        guard utf8.starts(with: "port.".utf8) else { return nil }
        utf8 = utf8.dropFirst(5)
        var index = 0
        var digits = 0
        while let c = utf8.first, c >= 48, c <= 57 {
            index = index &* 10 &+ Int(c - 48)
            digits += 1
            utf8 = utf8.dropFirst()
        }
        guard digits > 0, digits < 10, utf8.first == UInt8(ascii: "."),
            let field = PortField(rawValue: String(Substring(utf8.dropFirst())))
        else { return nil }
        return (index, field)
    }
}

/// The per-port columns every link-state driver (sysfs, SNMP IF-MIB) fills.
public enum PortField: String, Sendable, CaseIterable {
    /// Interface name (`eth0`, `ifName`).
    case name
    /// Operational state, IF-MIB words: `up`, `down`, `testing`, `unknown`, `dormant`,
    /// `notPresent`, `lowerLayerDown`.
    case oper
    /// Administrative state: `up`, `down`, `testing`.
    case admin
    /// Negotiated speed in Mbit/s.
    case speed
    /// Carrier detected (1) or not (0).
    case carrier
    /// The port's description set by the network admin (IF-MIB ifAlias).
    case alias
    /// Seconds since the port last changed state (IF-MIB ifLastChange against sysUpTime).
    case lastChange = "last_change"
    /// Input plus output errors per second since the last poll.
    case errors
    /// Input plus output discards per second since the last poll.
    case discards
    /// Traffic in bits per second since the last poll (64-bit counters).
    case inBps = "in_bps"
    case outBps = "out_bps"
    /// State changes within the flap window.
    case flaps
}

/// The physical unit of a reading.
public enum Unit: String, Sendable, Hashable, CaseIterable {
    case percent = "%"
    case volt = "V"
    case ampere = "A"
    case watt = "W"
    case voltAmpere = "VA"
    case hertz = "Hz"
    case second = "s"
    case celsius = "degC"
    case relativeHumidity = "%RH"
    case megabitPerSecond = "Mbit/s"
    case byte = "B"
    case count = "count"
    case rpm = "RPM"
}

/// What a reading holds: a number, a word, or the UPS status flags.
public enum ReadingValue: Sendable, Hashable, CustomStringConvertible {
    case number(Double)
    case text(String)
    case status(UPSStatus)

    public var number: Double? {
        if case .number(let v) = self { return v }
        return nil
    }

    public var description: String {
        switch self {
        case .number(let v): return v.compactDescription
        case .text(let s): return s
        case .status(let s): return s.description
        }
    }
}

/// One value of one variable of one device, as read at `time`.
public struct Reading: Sendable, Hashable {
    public var name: VariableName
    public var value: ReadingValue
    public var unit: Unit?
    public var time: Timestamp

    public init(_ name: VariableName, _ value: ReadingValue, unit: Unit? = nil, time: Timestamp) {
        self.name = name
        self.value = value
        self.unit = unit
        self.time = time
    }
}

extension Double {
    /// Shortest readable form: `42`, `13.5`, `0.125`, no exponent for closet-sized values.
    public var compactDescription: String {
        if self == rounded(), abs(self) < 1e15 { return String(Int64(self)) }
        let scaled = (self * 1000).rounded() / 1000
        if scaled == scaled.rounded(), abs(scaled) < 1e15 { return String(Int64(scaled)) }
        return String(scaled)
    }
}

extension String {
    /// Orders `port.2` before `port.10`: digit runs compare by value.
    public func compareNatural(_ other: String) -> Bool {
        var a = unicodeScalars.makeIterator()
        var b = other.unicodeScalars.makeIterator()
        var ca = a.next()
        var cb = b.next()
        while let x = ca, let y = cb {
            if x.properties.numericType != nil, y.properties.numericType != nil,
                x.isASCII, y.isASCII
            {
                var nx = 0
                var ny = 0
                var cx: Unicode.Scalar? = x
                var cy: Unicode.Scalar? = y
                while let d = cx, d.isASCII, let v = Int(String(d)) { nx = nx &* 10 &+ v; cx = a.next() }
                while let d = cy, d.isASCII, let v = Int(String(d)) { ny = ny &* 10 &+ v; cy = b.next() }
                if nx != ny { return nx < ny }
                ca = cx
                cb = cy
                continue
            }
            if x != y { return x.value < y.value }
            ca = a.next()
            cb = b.next()
        }
        return ca == nil && cb != nil
    }
}

extension String {
    /// Without leading and trailing spaces, tabs and line ends (sysfs files, device replies).
    public var trimmingSpaces: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\n" || f == "\t" || f == "\r" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\n" || l == "\t" || l == "\r" { s = s.dropLast() }
        return String(s)
    }
}
