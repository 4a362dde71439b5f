import ClosetModel

/// Raw words or bits per table, as read; the pure step from them to readings.
public struct RegisterSnapshot: Sendable {
    private var words: [ModbusTable: [Int: UInt16]] = [:]

    public init() {}

    public mutating func store(_ read: ModbusRead, words values: [UInt16]) {
        for (i, v) in values.enumerated() { words[read.table, default: [:]][read.address + i] = v }
    }

    public mutating func store(_ read: ModbusRead, bits values: [Bool]) {
        for (i, v) in values.enumerated() { words[read.table, default: [:]][read.address + i] = v ? 1 : 0 }
    }

    func word(_ table: ModbusTable, _ address: Int) -> UInt16? { words[table]?[address] }

    /// The raw integer of a 1- or 2-word value (sign applied), or nil if not read.
    func raw(_ table: ModbusTable, _ address: Int, _ type: RegisterType, _ order: WordOrder) -> Int64? {
        guard let first = word(table, address) else { return nil }
        switch type {
        case .u16, .bool: return Int64(first)
        case .s16: return Int64(Int16(bitPattern: first))
        case .u32, .s32, .float32:
            guard let second = word(table, address + 1) else { return nil }
            let (hi, lo) = order == .big ? (first, second) : (second, first)
            let bits = UInt32(hi) << 16 | UInt32(lo)
            switch type {
            case .s32: return Int64(Int32(bitPattern: bits))
            case .float32: return Int64(bits)
            default: return Int64(bits)
            }
        }
    }
}

extension RegisterMap {
    /// The readings this map yields from `snapshot`, stamped `time`.
    public func decode(_ snapshot: RegisterSnapshot, at time: Timestamp) -> [Reading] {
        var readings: [Reading] = []
        for entry in entries {
            guard let raw = snapshot.raw(entry.table, entry.address, entry.type, entry.wordOrder),
                !entry.invalid.contains(raw)
            else { continue }
            let base = entry.type == .float32 ? Double(Float(bitPattern: UInt32(truncatingIfNeeded: raw))) : Double(raw)
            let value = base * entry.scale + entry.offset
            guard value.isFinite else { continue }
            readings.append(Reading(entry.variable, .number(value), unit: entry.unit, time: time))
        }
        if !flags.isEmpty {
            var status = UPSStatus()
            var complete = true
            for entry in flags {
                if entry.table.isBits {
                    for (bit, flag) in entry.bits {
                        guard let v = snapshot.word(entry.table, entry.address + bit) else { complete = false; continue }
                        if v != 0 { status.insert(flag) }
                    }
                } else {
                    guard let raw = snapshot.raw(entry.table, entry.address, entry.type, entry.wordOrder) else {
                        complete = false
                        continue
                    }
                    for (bit, flag) in entry.bits where raw & (Int64(1) << bit) != 0 { status.insert(flag) }
                }
            }
            if complete { readings.append(Reading(.upsStatus, .status(status), time: time)) }
        }
        return readings
    }
}
