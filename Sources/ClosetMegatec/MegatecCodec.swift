import ClosetModel

/// The Megatec / Voltronic "Q1" serial protocol, parsed without IO.
///
/// Host sends `Q1\r`; the UPS answers `(MMM.M NNN.N PPP.P QQQ RR.R S.SS TT.T b7b6b5b4b3b2b1b0\r`:
/// input voltage, input fault voltage, output voltage, load %, input frequency, battery
/// voltage (per cell `S.SS` on online units, the whole string `SS.S` on standby ones),
/// temperature, and 8 status bits. `F\r` gives the ratings (`#VVV.V CCC SS.S FF.F`), `I\r` the
/// identity (`#` + company 15 + ` ` + model 10 + ` ` + version 10, fixed width). A command the
/// UPS does not know is answered with `NAK` (or echoed back, per the protocol text).
public enum MegatecCodec {
    /// One Q1 status line.
    public struct Status: Sendable, Hashable {
        public var inputVoltage: Double?
        public var inputFaultVoltage: Double?
        public var outputVoltage: Double?
        public var load: Double?
        public var inputFrequency: Double?
        public var batteryVoltage: Double?
        public var temperature: Double?
        /// b7 .. b0 as written, index 0 = b7.
        public var bits: [Bool]

        public var utilityFail: Bool { bits[0] }
        public var batteryLow: Bool { bits[1] }
        public var bypassBoostOrBuck: Bool { bits[2] }
        public var upsFailed: Bool { bits[3] }
        /// 1: standby / line-interactive; 0: online (double conversion).
        public var standbyType: Bool { bits[4] }
        public var testInProgress: Bool { bits[5] }
        public var shutdownActive: Bool { bits[6] }
        public var beeperOn: Bool { bits[7] }
    }

    /// The `F` ratings.
    public struct Ratings: Sendable, Hashable {
        public var voltage: Double?
        public var current: Double?
        public var batteryVoltage: Double?
        public var frequency: Double?
    }

    /// The `I` identity.
    public struct Identity: Sendable, Hashable {
        public var company: String
        public var model: String
        public var version: String
    }

    /// Why a reply was not understood.
    public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        public enum Kind: Sendable, Hashable { case notSupported, missingStart, wrongFieldCount, notANumber, badStatusBits, tooLong }
        public var kind: Kind
        public var description: String
    }

    static let maxLine = 128

    /// Parses a Q1 reply (with or without the trailing CR).
    public static func parseStatus(_ bytes: some Collection<UInt8>) throws(ParseError) -> Status {
        let text = try line(bytes, start: UInt8(ascii: "("), command: "Q1")
        let fields = text.split(separator: " ", omittingEmptySubsequences: true)
        guard fields.count == 8 else {
            throw ParseError(kind: .wrongFieldCount, description: "Q1 reply has \(fields.count) fields, expected 8: \"(\(text)\"")
        }
        let numbers = try fields.prefix(7).enumerated().map { (i, field) throws(ParseError) -> Double? in
            try number(field, name: ["input voltage", "input fault voltage", "output voltage", "load", "frequency", "battery voltage", "temperature"][i])
        }
        let bitField = fields[7]
        guard bitField.count == 8, bitField.allSatisfy({ $0 == "0" || $0 == "1" }) else {
            throw ParseError(kind: .badStatusBits, description: "Q1 status bits \"\(bitField)\" are not 8 binary digits")
        }
        return Status(
            inputVoltage: numbers[0], inputFaultVoltage: numbers[1], outputVoltage: numbers[2], load: numbers[3],
            inputFrequency: numbers[4], batteryVoltage: numbers[5], temperature: numbers[6],
            bits: bitField.map { $0 == "1" })
    }

    /// Parses an F reply.
    public static func parseRatings(_ bytes: some Collection<UInt8>) throws(ParseError) -> Ratings {
        let text = try line(bytes, start: UInt8(ascii: "#"), command: "F")
        let fields = text.split(separator: " ", omittingEmptySubsequences: true)
        guard fields.count == 4 else {
            throw ParseError(kind: .wrongFieldCount, description: "F reply has \(fields.count) fields, expected 4: \"#\(text)\"")
        }
        let names = ["rated voltage", "rated current", "rated battery voltage", "rated frequency"]
        var values: [Double?] = []
        for (i, field) in fields.enumerated() { values.append(try number(field, name: names[i])) }
        return Ratings(voltage: values[0], current: values[1], batteryVoltage: values[2], frequency: values[3])
    }

    /// Parses an I reply: fixed-width fields, since a blank company or a model that runs into
    /// the version (as on a MicroSinus) breaks splitting on spaces.
    public static func parseIdentity(_ bytes: some Collection<UInt8>) throws(ParseError) -> Identity {
        let text = Array(try line(bytes, start: UInt8(ascii: "#"), command: "I"))
        func slice(_ from: Int, _ count: Int) -> String {
            guard from < text.count else { return "" }
            return String(text[from..<min(text.count, from + count)]).trimmingSpaces
        }
        return Identity(company: slice(0, 15), model: slice(16, 10), version: slice(27, 10))
    }

    private static func line(_ bytes: some Collection<UInt8>, start: UInt8, command: String) throws(ParseError) -> String {
        var body = Array(bytes)
        while let last = body.last, last == 0x0D || last == 0x0A { body.removeLast() }
        guard body.count <= maxLine else {
            throw ParseError(kind: .tooLong, description: "\(command) reply longer than \(maxLine) bytes")
        }
        if body == Array("NAK".utf8) || body == Array(command.utf8) {
            throw ParseError(kind: .notSupported, description: "the UPS does not support \(command) (answered \"\(String(decoding: body, as: UTF8.self))\")")
        }
        guard body.first == start else {
            throw ParseError(
                kind: .missingStart,
                description: "\(command) reply does not start with '\(Character(Unicode.Scalar(start)))': \(printable(body))")
        }
        guard body.dropFirst().allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else {
            throw ParseError(kind: .missingStart, description: "\(command) reply holds non-text bytes: \(printable(body))")
        }
        return String(decoding: body.dropFirst(), as: UTF8.self)
    }

    /// A number field; `--.-`, `---` and `@@@` mean "not reported".
    private static func number(_ field: Substring, name: String) throws(ParseError) -> Double? {
        if field.allSatisfy({ $0 == "-" || $0 == "." || $0 == "@" }) { return nil }
        guard field.allSatisfy({ $0.isNumber || $0 == "." }), let v = Double(field) else {
            throw ParseError(kind: .notANumber, description: "\(name) \"\(field)\" is not a number")
        }
        return v
    }

    /// Bytes shown safely in a message: text as is, the rest as \xNN, at most 60 shown.
    static func printable(_ bytes: [UInt8]) -> String {
        var out = "\""
        for b in bytes.prefix(60) {
            if b >= 0x20 && b < 0x7F && b != UInt8(ascii: "\"") { out.append(Character(Unicode.Scalar(b))) } else {
                let hex = String(b, radix: 16)
                out += "\\x" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return out + (bytes.count > 60 ? "...\"" : "\"")
    }

    /// NUT blazer's charge guess from the battery voltage: linear between 104/120 and 130/120
    /// of the nominal battery voltage (20.8 V and 26 V for a 24 V string).
    public static func estimatedCharge(batteryVoltage: Double, nominal: Double) -> Double {
        let low = nominal * 104 / 120
        let high = nominal * 130 / 120
        return min(100, max(0, (batteryVoltage - low) / (high - low) * 100))
    }

    /// The model readings for a status line, given the ratings when the UPS answered F.
    public static func readings(_ s: Status, ratings: Ratings?, at time: Timestamp) -> [Reading] {
        var out: [Reading] = []
        func add(_ name: VariableName, _ v: Double?, _ unit: Unit) {
            if let v { out.append(Reading(name, .number(v), unit: unit, time: time)) }
        }
        add(.inputVoltage, s.inputVoltage, .volt)
        add("input.voltage.fault", s.inputFaultVoltage, .volt)
        add(.outputVoltage, s.outputVoltage, .volt)
        add(.upsLoad, s.load, .percent)
        add(.inputFrequency, s.inputFrequency, .hertz)
        add(.upsTemperature, s.temperature, .celsius)
        var battery = s.batteryVoltage
        if let v = battery, v < 3, let nominal = ratings?.batteryVoltage, nominal >= 2 {
            // Online units report volts per cell (S.SS): scale to the string (2 V cells).
            battery = (v * (nominal / 2).rounded() * 1000).rounded() / 1000
        }
        add(.batteryVoltage, battery, .volt)
        if let v = battery, let nominal = ratings?.batteryVoltage, nominal > 0 {
            add(.batteryCharge, (estimatedCharge(batteryVoltage: v, nominal: nominal) * 10).rounded() / 10, .percent)
        }

        var status: UPSStatus = s.utilityFail ? .onBattery : .onLine
        if s.batteryLow { status.insert(.lowBattery) }
        if s.shutdownActive { status.insert(.forcedShutdown) }
        if s.bypassBoostOrBuck {
            if !s.standbyType {
                status.insert(.bypass)
            } else if let i = s.inputVoltage, let o = s.outputVoltage {
                status.insert(i < o ? .boost : .trim)
            }
        }
        out.append(Reading(.upsStatus, .status(status), time: time))
        out.append(Reading("ups.alarm", .text(s.upsFailed ? "UPS failed" : "none"), time: time))
        out.append(Reading("ups.type", .text(s.standbyType ? "offline / line interactive" : "online"), time: time))
        out.append(Reading("ups.beeper.status", .text(s.beeperOn ? "enabled" : "disabled"), time: time))
        if s.testInProgress { out.append(Reading("ups.test.result", .text("in progress"), time: time)) }
        return out
    }
}
