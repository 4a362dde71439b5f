/// One field of a HID report: where it sits and what it means.
public struct HIDField: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable { case input = "Input", output = "Output", feature = "Feature" }

    public var kind: Kind
    public var reportID: UInt8
    /// Bit offset in the report, after the report id byte.
    public var bitOffset: Int
    public var bitSize: Int
    /// Usages from the outermost collection to the field itself, each `page << 16 | id`.
    public var usages: [UInt32]
    public var logicalMinimum: Int64
    public var logicalMaximum: Int64
    public var unit: UInt32
    public var unitExponent: Int

    /// `UPS.PowerSummary.RemainingCapacity`; unknown usages as 8 hex digits (`ff860052`).
    public var path: String { usages.map(HIDUsages.name).joined(separator: ".") }
}

/// A report descriptor could not be parsed; the description says where and why.
public struct HIDDescriptorError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable { case truncated, longItem, badSize, unbalanced, tooLarge }
    public var kind: Kind
    public var offset: Int
    public var description: String
}

/// The HID report descriptor parser (HID 1.11 §6.2.2), pure: bytes in, fields out.
///
/// Items are main (Input, Output, Feature, Collection, End Collection), global (usage page,
/// logical and physical ranges, unit, unit exponent, report size, id and count, push, pop)
/// and local (usage, usage minimum and maximum). Constant fields (padding) take room but
/// yield no field. A malformed descriptor is an error, never a crash or a loop: every
/// item advances, nesting and field counts are bounded.
public enum HIDDescriptorParser {
    struct Globals {
        var usagePage: UInt32 = 0
        var logicalMinimum: Int64 = 0
        var logicalMaximum: Int64 = 0
        var unit: UInt32 = 0
        var unitExponent = 0
        var reportSize = 0
        var reportID: UInt8 = 0
        var reportCount = 0
    }

    static let maxDepth = 32
    static let maxFields = 4096

    public static func parse(_ bytes: [UInt8]) throws(HIDDescriptorError) -> [HIDField] {
        var fields: [HIDField] = []
        var globals = Globals()
        var stack: [Globals] = []
        var usages: [UInt32] = []
        var usageMinimum: UInt32?
        var collections: [UInt32] = []
        var offsets: [String: Int] = [:]
        var i = 0
        while i < bytes.count {
            let start = i
            let prefix = bytes[i]
            if prefix == 0xFE {
                // Long items carry vendor data no UPS uses; skip them whole.
                guard i + 2 < bytes.count else { throw HIDDescriptorError(kind: .truncated, offset: start, description: "long item header cut off at byte \(start)") }
                let length = Int(bytes[i + 1])
                guard i + 3 + length <= bytes.count else {
                    throw HIDDescriptorError(kind: .truncated, offset: start, description: "long item of \(length) bytes cut off at byte \(start)")
                }
                i += 3 + length
                continue
            }
            let size = [0, 1, 2, 4][Int(prefix & 0x03)]
            let type = (prefix >> 2) & 0x03
            let tag = prefix >> 4
            guard i + 1 + size <= bytes.count else {
                throw HIDDescriptorError(kind: .truncated, offset: start, description: "item 0x\(hex(prefix)) needs \(size) data bytes, the descriptor ends at byte \(bytes.count)")
            }
            var unsigned: UInt32 = 0
            for k in 0..<size { unsigned |= UInt32(bytes[i + 1 + k]) << (8 * k) }
            let signed: Int64 = switch size {
            case 1: Int64(Int8(bitPattern: UInt8(unsigned)))
            case 2: Int64(Int16(bitPattern: UInt16(unsigned)))
            case 4: Int64(Int32(bitPattern: unsigned))
            default: 0
            }
            i += 1 + size
            switch (type, tag) {
            case (0, 0x8), (0, 0x9), (0, 0xB):  // Input, Output, Feature
                let kind: HIDField.Kind = tag == 0x8 ? .input : tag == 0x9 ? .output : .feature
                let key = "\(kind.rawValue):\(globals.reportID)"
                var offset = offsets[key] ?? 0
                guard globals.reportSize >= 0, globals.reportCount >= 0, globals.reportSize <= 32,
                    globals.reportCount <= 1024
                else {
                    throw HIDDescriptorError(kind: .badSize, offset: start, description: "report size \(globals.reportSize) x count \(globals.reportCount) at byte \(start)")
                }
                if let minimum = usageMinimum, usages.isEmpty { usages = [minimum] }
                for n in 0..<globals.reportCount {
                    // Constant fields with no usage are padding. Constant fields *with* a usage are
                    // data: MGE/Eaton (and Santak) firmware marks read-only values Constant.
                    if !usages.isEmpty {
                        guard fields.count < maxFields else {
                            throw HIDDescriptorError(kind: .tooLarge, offset: start, description: "more than \(maxFields) fields")
                        }
                        var maximum = globals.logicalMaximum
                        // Quirk (APC, and others): a logical maximum read as negative while the
                        // minimum is not is meant unsigned (LogMax 0xFF with LogMin 0).
                        if maximum < globals.logicalMinimum {
                            maximum = Int64(UInt32(truncatingIfNeeded: maximum) & (globals.reportSize >= 32 ? 0xFFFF_FFFF : (1 << UInt32(globals.reportSize)) - 1))
                        }
                        fields.append(
                            HIDField(
                                kind: kind, reportID: globals.reportID, bitOffset: offset, bitSize: globals.reportSize,
                                usages: collections + [usages[min(n, usages.count - 1)]],
                                logicalMinimum: globals.logicalMinimum, logicalMaximum: maximum, unit: globals.unit,
                                unitExponent: globals.unitExponent))
                    }
                    offset += globals.reportSize
                }
                offsets[key] = offset
                usages = []
                usageMinimum = nil
            case (0, 0xA):  // Collection
                guard collections.count < maxDepth else {
                    throw HIDDescriptorError(kind: .tooLarge, offset: start, description: "collections nested deeper than \(maxDepth)")
                }
                collections.append(usages.first ?? usageMinimum ?? 0)
                usages = []
                usageMinimum = nil
            case (0, 0xC):  // End Collection
                guard !collections.isEmpty else {
                    throw HIDDescriptorError(kind: .unbalanced, offset: start, description: "End Collection without a collection at byte \(start)")
                }
                collections.removeLast()
                usages = []
            case (0, _):
                throw HIDDescriptorError(kind: .badSize, offset: start, description: "unknown main item 0x\(hex(prefix)) at byte \(start)")
            case (1, 0x0): globals.usagePage = unsigned & 0xFFFF
            case (1, 0x1):
                globals.logicalMinimum = signed
            case (1, 0x2):
                // Read as signed like the minimum; the quirk check above undoes a wrong sign.
                globals.logicalMaximum = signed
            case (1, 0x3), (1, 0x4): break  // physical range: the model scales by logical values and units
            case (1, 0x5):
                // Unit exponent is a 4-bit two's complement number.
                let nibble = Int(unsigned & 0x0F)
                globals.unitExponent = nibble > 7 ? nibble - 16 : nibble
            case (1, 0x6): globals.unit = unsigned
            case (1, 0x7): globals.reportSize = Int(unsigned)
            case (1, 0x8):
                guard size == 1, unsigned != 0 else {
                    throw HIDDescriptorError(kind: .badSize, offset: start, description: "report id \(unsigned) at byte \(start) (must be 1..255)")
                }
                globals.reportID = UInt8(unsigned)
            case (1, 0x9): globals.reportCount = Int(unsigned)
            case (1, 0xA):
                guard stack.count < maxDepth else { throw HIDDescriptorError(kind: .tooLarge, offset: start, description: "push deeper than \(maxDepth)") }
                stack.append(globals)
            case (1, 0xB):
                guard let top = stack.popLast() else {
                    throw HIDDescriptorError(kind: .unbalanced, offset: start, description: "Pop without Push at byte \(start)")
                }
                globals = top
            case (2, 0x0):
                usages.append(size == 4 ? unsigned : globals.usagePage << 16 | (unsigned & 0xFFFF))
            case (2, 0x1):
                usageMinimum = size == 4 ? unsigned : globals.usagePage << 16 | (unsigned & 0xFFFF)
            case (2, 0x2):
                let maximum = size == 4 ? unsigned : globals.usagePage << 16 | (unsigned & 0xFFFF)
                if let minimum = usageMinimum, maximum >= minimum, maximum - minimum < 1024 {
                    usages += (minimum...maximum).map { $0 }
                    usageMinimum = nil
                }
            default:
                break  // designators, strings, delimiters, reserved: nothing a UPS field needs
            }
        }
        guard collections.isEmpty else {
            throw HIDDescriptorError(kind: .unbalanced, offset: bytes.count, description: "\(collections.count) collection(s) not closed at the end")
        }
        return fields
    }

    static func hex(_ b: UInt8) -> String {
        let s = String(b, radix: 16)
        return s.count == 1 ? "0" + s : s
    }
}
