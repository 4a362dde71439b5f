/// One Modbus read request: a table, a start address and a count.
public struct ModbusRead: Sendable, Hashable, CustomStringConvertible {
    public var table: ModbusTable
    public var address: Int
    public var count: Int

    public var range: ClosedRange<Int> { address...(address + count - 1) }
    public var description: String { "read \(table) \(address)..\(address + count - 1)" }
}

/// Plans the fewest reads that cover a map: spans in the same table are merged while the
/// merged read stays within the protocol's limit and skips at most `maxGap` unmapped units.
public enum ReadPlanner {
    public static func plan(_ map: RegisterMap, coalesce: Bool = true) -> [ModbusRead] {
        let spans = map.spans.sorted { ($0.0, $0.1.lowerBound) < ($1.0, $1.1.lowerBound) }
        guard coalesce else {
            return spans.map { ModbusRead(table: $0.0, address: $0.1.lowerBound, count: $0.1.count) }
        }
        var reads: [ModbusRead] = []
        for (table, span) in spans {
            if var last = reads.last, last.table == table,
                span.lowerBound <= last.range.upperBound + 1 + (table.isBits ? 0 : map.maxGap)
            {
                let upper = max(last.range.upperBound, span.upperBound)
                if upper - last.address + 1 <= table.maxReadCount {
                    last.count = upper - last.address + 1
                    reads[reads.count - 1] = last
                    continue
                }
            }
            reads.append(ModbusRead(table: table, address: span.lowerBound, count: span.count))
        }
        return reads
    }
}
