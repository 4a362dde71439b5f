import ClosetConfig
import ClosetModel

/// Reads a register map from TOML (a built-in, a file, or a table inside the agent config).
///
/// ```toml
/// name = "apc-smt"
/// max_gap = 16
/// [[register]]
/// variable = "battery.charge"
/// function = "holding"      # holding, input, coil, discrete
/// address = 130
/// type = "u16"              # u16 s16 u32 s32 float32 bool
/// word_order = "big"        # 32-bit values: big = high word first
/// scale = 0.001953125       # value = raw * scale + offset
/// unit = "%"
/// [[flags]]
/// address = 0
/// type = "u32"
/// bits = { 1 = "OL", 2 = "OB" }
/// ```
public enum RegisterMapReader {
    public static func read(_ r: ConfigReader, defaultName: String) -> RegisterMap? {
        let before = r.diagnostics.issues.count
        let name = r.string("name") ?? defaultName
        let description = r.string("description") ?? ""
        let maxGap = r.integer("max_gap", in: 0...124).map(Int.init) ?? 0
        var entries: [RegisterEntry] = []
        var flags: [FlagEntry] = []
        var claimed: [(ModbusTable, ClosedRange<Int>, String, Int)] = []

        func claim(_ table: ModbusTable, _ span: ClosedRange<Int>, what: String, reader: ConfigReader) {
            if let other = claimed.first(where: { $0.0 == table && $0.1.overlaps(span) }) {
                reader.report(
                    "address",
                    "\(table) \(span.lowerBound)..\(span.upperBound) overlaps \(other.2) at \(other.0) "
                        + "\(other.1.lowerBound)..\(other.1.upperBound) (line \(other.3))")
            } else {
                claimed.append((table, span, what, reader.table["address"]?.line ?? reader.line))
            }
        }

        for e in r.tables("register") {
            defer { e.finish() }
            guard let variable = e.requiredString("variable") else { continue }
            if !isVariableName(variable) {
                e.report("variable", "\"\(variable)\" is not a dotted variable name such as \"battery.charge\"")
            }
            let table = e.choice("function", ModbusTable.allCases.map(\.rawValue)).flatMap(ModbusTable.init) ?? .holding
            let type = e.choice("type", RegisterType.allCases.map(\.rawValue)).flatMap(RegisterType.init)
                ?? (table.isBits ? .bool : .u16)
            if table.isBits != (type == .bool) {
                e.report("type", table.isBits ? "\(table) values are bits: use type = \"bool\"" : "\"bool\" is only for coil and discrete")
                continue
            }
            let order = e.choice("word_order", ["big", "little"]).flatMap(WordOrder.init) ?? .big
            let scale = e.number("scale") ?? 1
            if scale == 0 { e.report("scale", "must not be 0") }
            let offset = e.number("offset") ?? 0
            let unit = e.choice("unit", Unit.allCases.map(\.rawValue)).flatMap(Unit.init)
            let invalid = (e.node("invalid").flatMap { node -> [Int64]? in
                guard case .array(let items) = node.value else { return nil }
                return items.compactMap { if case .integer(let i) = $0.value { i } else { nil } }
            }) ?? []
            guard let address = requiredAddress(e) else { continue }
            let entry = RegisterEntry(
                variable: VariableName(variable), table: table, address: address, type: type, wordOrder: order,
                scale: scale, offset: offset, unit: unit, invalid: invalid)
            claim(table, entry.span, what: variable, reader: e)
            entries.append(entry)
        }

        for f in r.tables("flags") {
            defer { f.finish() }
            let table = f.choice("function", ModbusTable.allCases.map(\.rawValue)).flatMap(ModbusTable.init) ?? .holding
            let type = f.choice("type", ["u16", "u32", "bool"]).flatMap(RegisterType.init) ?? (table.isBits ? .bool : .u16)
            let order = f.choice("word_order", ["big", "little"]).flatMap(WordOrder.init) ?? .big
            guard let address = requiredAddress(f) else { continue }
            guard let bitsTable = f.table("bits") else {
                f.reportTable("missing required key 'bits' (e.g. bits = { 1 = \"OL\", 2 = \"OB\" })")
                continue
            }
            var bits: [Int: UPSStatus] = [:]
            let width = table.isBits ? 2000 : type.words * 16
            for key in bitsTable.table.keys {
                guard let bit = Int(key), bit >= 0, bit < width else {
                    bitsTable.report(key, "bit must be a number 0..\(width - 1)")
                    bitsTable.allow(key)
                    continue
                }
                guard let token = bitsTable.string(key) else { continue }
                guard let flag = UPSStatus.flag(forToken: token) else {
                    bitsTable.report(
                        key,
                        "\"\(token)\" is not a status flag (\(UPSStatus.tokens.map(\.1).joined(separator: " ")))"
                            + suggestion(for: token, among: UPSStatus.tokens.map(\.1)))
                    continue
                }
                bits[bit] = flag
            }
            bitsTable.finish()
            let entry = FlagEntry(table: table, address: address, type: type, wordOrder: order, bits: bits)
            claim(table, entry.span, what: "flags", reader: f)
            flags.append(entry)
        }
        if r.table["register"] == nil, r.table["flags"] == nil {
            r.reportTable("a register map needs at least one [[register]] or [[flags]] table")
        }
        r.finish()
        guard r.diagnostics.issues.count == before else { return nil }
        return RegisterMap(name: name, description: description, entries: entries, flags: flags, maxGap: maxGap)
    }

    private static func requiredAddress(_ r: ConfigReader) -> Int? {
        guard r.table["address"] != nil else {
            r.reportTable("missing required key 'address'")
            r.allow("address")
            return nil
        }
        return r.integer("address", in: 0...65535).map(Int.init)
    }

    static func isVariableName(_ s: String) -> Bool {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count >= 2 && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") } }
    }

    /// Parses map text; issues name `file` and its lines.
    public static func parse(_ text: String, file: String, defaultName: String, into diagnostics: ConfigDiagnostics) -> RegisterMap? {
        readTOML(text, file: file, into: diagnostics) { read($0, defaultName: defaultName) }
    }
}
