extension HIDField {
    /// The field's value in a report as read from the device (first byte the report id,
    /// when the descriptor uses ids). Signed when the logical minimum is negative, as HID
    /// says; nil when the report is too short for the field (some firmware sends fewer bytes
    /// than it declares: the APC Back-UPS's report 0x16 has 5 declared, 3 sent).
    public func value(in report: [UInt8]) -> Int64? {
        let data = reportID == 0 ? report[...] : report.dropFirst()
        guard bitSize > 0, bitSize <= 32, bitOffset + bitSize <= data.count * 8 else { return nil }
        var raw: UInt64 = 0
        for bit in 0..<bitSize {
            let position = bitOffset + bit
            let byte = data[data.startIndex + position / 8]
            if byte & (1 << UInt8(position % 8)) != 0 { raw |= 1 << UInt64(bit) }
        }
        if logicalMinimum < 0, bitSize < 64, raw & (1 << UInt64(bitSize - 1)) != 0 {
            return Int64(raw) - (1 << Int64(bitSize))
        }
        return Int64(raw)
    }
}
