/// A syntax error in a TOML document, with its position.
public struct TOMLSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    public var line: Int
    public var column: Int
    public var message: String
    public var description: String { "line \(line), column \(column): \(message)" }
}

/// A TOML 1.0 parser that keeps the line of every key.
///
/// Written for the agent rather than taken from a package: the mirror's TOMLKit links full
/// Foundation (`import struct Foundation.Data`), which measured +10 MB resident on its own
/// (17.1 MB vs 7.3 MB for a release "hello"), more than half the agent's whole budget; and it
/// reports positions only for syntax errors, while every config error here must carry a line.
public struct TOMLParser {
    private var bytes: [UInt8]
    private var pos = 0
    private var line = 1
    private var lineStart = 0

    private init(_ text: String) {
        bytes = Array(text.utf8)
    }

    /// Parses a whole document into its root table.
    public static func parse(_ text: String) throws(TOMLSyntaxError) -> ConfigTable {
        var parser = TOMLParser(text)
        return try parser.document()
    }

    // MARK: - Mutable tree while parsing

    private final class Table {
        enum Origin { case header, implicit, dotted, inline, arrayElement }
        var entries: [(key: String, item: Item)] = []
        var origin: Origin
        var line: Int
        init(origin: Origin, line: Int) {
            self.origin = origin
            self.line = line
        }
        func find(_ key: String) -> Item? { entries.first(where: { $0.key == key })?.item }
        func set(_ key: String, _ item: Item) {
            if let i = entries.firstIndex(where: { $0.key == key }) { entries[i].item = item } else {
                entries.append((key, item))
            }
        }
    }

    private enum Item {
        case value(ConfigNode)
        case table(Table)
        case tableArray([Table], line: Int)
    }

    // MARK: - Document

    private mutating func document() throws(TOMLSyntaxError) -> ConfigTable {
        let root = Table(origin: .header, line: 1)
        var current = root
        while true {
            skipWhitespaceCommentsAndNewlines()
            guard let c = peek() else { break }
            if c == UInt8(ascii: "[") {
                current = try header(root: root)
            } else {
                try keyValue(into: current)
            }
            try endOfLine()
        }
        return Self.freeze(root)
    }

    private mutating func header(root: Table) throws(TOMLSyntaxError) -> Table {
        let headerLine = line
        advance()
        let isArray = peek() == UInt8(ascii: "[")
        if isArray { advance() }
        skipSpaces()
        let keys = try dottedKey()
        skipSpaces()
        try expect("]", "expected ']' to close the table header")
        if isArray { try expect("]", "expected ']]' to close the array-of-tables header") }
        var table = root
        for (i, key) in keys.enumerated() {
            let last = i == keys.count - 1
            switch table.find(key) {
            case nil:
                if last, isArray {
                    let element = Table(origin: .arrayElement, line: headerLine)
                    table.set(key, .tableArray([element], line: headerLine))
                    return element
                }
                let next = Table(origin: last ? .header : .implicit, line: headerLine)
                table.set(key, .table(next))
                table = next
            case .table(let existing):
                if last {
                    if isArray { throw error("'\(keys.joined(separator: "."))' is a table, not an array of tables") }
                    if existing.origin == .implicit {
                        existing.origin = .header
                        existing.line = headerLine
                    } else {
                        throw error("table [\(keys.joined(separator: "."))] defined twice (first on line \(existing.line))")
                    }
                } else if existing.origin == .inline {
                    throw error("'\(key)' is an inline table and cannot be extended")
                }
                table = existing
            case .tableArray(var elements, let firstLine):
                if last {
                    guard isArray else {
                        throw error("'\(keys.joined(separator: "."))' is an array of tables (line \(firstLine))")
                    }
                    let element = Table(origin: .arrayElement, line: headerLine)
                    elements.append(element)
                    table.set(key, .tableArray(elements, line: firstLine))
                    return element
                }
                table = elements[elements.count - 1]
            case .value(let node):
                throw error("'\(key)' already holds a value (\(node.value.typeName), line \(node.line))")
            }
        }
        return table
    }

    private mutating func keyValue(into table: Table) throws(TOMLSyntaxError) {
        let keyLine = line
        let keys = try dottedKey()
        skipSpaces()
        try expect("=", "expected '=' after the key '\(keys.joined(separator: "."))'")
        skipSpaces()
        let value = try self.value()
        var target = table
        for key in keys.dropLast() {
            switch target.find(key) {
            case nil:
                let next = Table(origin: .dotted, line: keyLine)
                target.set(key, .table(next))
                target = next
            case .table(let existing) where existing.origin == .dotted || existing.origin == .implicit:
                target = existing
            default:
                throw error("'\(key)' is already defined and cannot be extended with a dotted key", line: keyLine)
            }
        }
        let last = keys[keys.count - 1]
        if let existing = target.find(last) {
            let firstLine: Int
            switch existing {
            case .value(let node): firstLine = node.line
            case .table(let t): firstLine = t.line
            case .tableArray(_, let l): firstLine = l
            }
            throw error("duplicate key '\(keys.joined(separator: "."))' (first on line \(firstLine))", line: keyLine)
        }
        target.set(last, value)
        _ = keyLine
    }

    // MARK: - Keys

    private mutating func dottedKey() throws(TOMLSyntaxError) -> [String] {
        var keys = [try simpleKey()]
        while true {
            skipSpaces()
            guard peek() == UInt8(ascii: ".") else { break }
            advance()
            skipSpaces()
            keys.append(try simpleKey())
        }
        return keys
    }

    private mutating func simpleKey() throws(TOMLSyntaxError) -> String {
        guard let c = peek() else { throw error("expected a key, found the end of the file") }
        if c == UInt8(ascii: "\"") {
            advance()
            return try basicString()
        }
        if c == UInt8(ascii: "'") {
            advance()
            return try literalString()
        }
        let start = pos
        while let b = peek(), Self.isBareKeyByte(b) { advance() }
        guard pos > start else { throw error("expected a key, found \(describe(c))") }
        return String(decoding: bytes[start..<pos], as: UTF8.self)
    }

    private static func isBareKeyByte(_ b: UInt8) -> Bool {
        (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39)
            || b == UInt8(ascii: "_") || b == UInt8(ascii: "-")
    }

    // MARK: - Values

    private mutating func value() throws(TOMLSyntaxError) -> Item {
        let valueLine = line
        guard let c = peek() else { throw error("expected a value, found the end of the file") }
        switch c {
        case UInt8(ascii: "\""):
            if matches("\"\"\"") {
                pos += 3
                return .value(ConfigNode(.string(try multilineBasicString()), line: valueLine))
            }
            advance()
            return .value(ConfigNode(.string(try basicString()), line: valueLine))
        case UInt8(ascii: "'"):
            if matches("'''") {
                pos += 3
                return .value(ConfigNode(.string(try multilineLiteralString()), line: valueLine))
            }
            advance()
            return .value(ConfigNode(.string(try literalString()), line: valueLine))
        case UInt8(ascii: "["):
            return .value(ConfigNode(.array(try array()), line: valueLine))
        case UInt8(ascii: "{"):
            return .table(try inlineTable())
        default:
            if matches("true"), !isBareAt(pos + 4) {
                pos += 4
                return .value(ConfigNode(.bool(true), line: valueLine))
            }
            if matches("false"), !isBareAt(pos + 5) {
                pos += 5
                return .value(ConfigNode(.bool(false), line: valueLine))
            }
            return .value(ConfigNode(try scalar(), line: valueLine))
        }
    }

    private func isBareAt(_ i: Int) -> Bool { i < bytes.count && Self.isBareKeyByte(bytes[i]) }

    /// Numbers and date-times: read the token, then decide.
    private mutating func scalar() throws(TOMLSyntaxError) -> ConfigValue {
        let start = pos
        let startColumn = pos - lineStart + 1
        while let b = peek(), Self.isScalarByte(b) {
            // A space is part of a date-time only between a date and a time: `1979-05-27 07:32:00`.
            if b == UInt8(ascii: " ") {
                let token = bytes[start..<pos]
                guard token.count == 10, token.contains(UInt8(ascii: "-")), pos + 1 < bytes.count,
                    (0x30...0x39).contains(bytes[pos + 1])
                else { break }
            }
            advance()
        }
        let token = String(decoding: bytes[start..<pos], as: UTF8.self)
        guard !token.isEmpty else {
            throw TOMLSyntaxError(line: line, column: startColumn, message: "expected a value, found \(describe(bytes[pos]))")
        }
        if let v = Self.integer(token) { return .integer(v) }
        if let v = Self.float(token) { return .float(v) }
        if Self.isDateTime(token) { return .datetime(token) }
        throw TOMLSyntaxError(
            line: line, column: startColumn,
            message: "invalid value '\(token)' (strings need quotes: \"\(token)\")")
    }

    private static func isScalarByte(_ b: UInt8) -> Bool {
        isBareKeyByte(b) || b == UInt8(ascii: "+") || b == UInt8(ascii: ".") || b == UInt8(ascii: ":")
            || b == UInt8(ascii: " ")
    }

    static func integer(_ token: String) -> Int64? {
        var t = Substring(token)
        if t.hasPrefix("0x") || t.hasPrefix("0o") || t.hasPrefix("0b") {
            let radix = t.hasPrefix("0x") ? 16 : t.hasPrefix("0o") ? 8 : 2
            t = t.dropFirst(2)
            guard validUnderscores(t) else { return nil }
            return Int64(t.replacing("_", with: ""), radix: radix)
        }
        var digits = t
        if let f = digits.first, f == "+" || f == "-" { digits = digits.dropFirst() }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "_") }),
            validUnderscores(digits), !(digits.count > 1 && digits.first == "0")
        else { return nil }
        return Int64(t.replacing("_", with: ""))
    }

    static func float(_ token: String) -> Double? {
        switch token {
        case "inf", "+inf": return .infinity
        case "-inf": return -.infinity
        case "nan", "+nan", "-nan": return .nan
        default: break
        }
        var body = Substring(token)
        if let f = body.first, f == "+" || f == "-" { body = body.dropFirst() }
        guard let first = body.first, first.isNumber, validUnderscores(body),
            body.allSatisfy({ $0.isASCII && ($0.isNumber || "_.eE+-".contains($0)) })
        else { return nil }
        // A leading zero is allowed only before the point or exponent: `0.5`, not `05.5`.
        if body.count > 1, first == "0", let second = body.dropFirst().first, second.isNumber { return nil }
        if let dot = body.firstIndex(of: ".") {
            let after = body.index(after: dot)
            guard dot > body.startIndex, after < body.endIndex, body[after].isNumber else { return nil }
        }
        return Double(token.replacing("_", with: ""))
    }

    private static func validUnderscores(_ t: Substring) -> Bool {
        guard t.first != "_", t.last != "_" else { return false }
        var previous: Character = " "
        for c in t {
            if c == "_", !previous.isHexDigit { return false }
            if previous == "_", !c.isHexDigit { return false }
            previous = c
        }
        return true
    }

    private static func isDateTime(_ token: String) -> Bool {
        let u = Array(token.utf8)
        func digits(_ r: Range<Int>) -> Bool { r.upperBound <= u.count && r.allSatisfy { (0x30...0x39).contains(u[$0]) } }
        let isDate = u.count >= 10 && digits(0..<4) && u[4] == UInt8(ascii: "-") && digits(5..<7)
            && u[7] == UInt8(ascii: "-") && digits(8..<10)
        let timeStart = isDate ? 11 : 0
        if isDate, u.count == 10 { return true }
        if isDate, !(u[10] == UInt8(ascii: "T") || u[10] == UInt8(ascii: "t") || u[10] == UInt8(ascii: " ")) {
            return false
        }
        return digits(timeStart..<timeStart + 2) && timeStart + 8 <= u.count && u[timeStart + 2] == UInt8(ascii: ":")
            && digits(timeStart + 3..<timeStart + 5) && u[timeStart + 5] == UInt8(ascii: ":")
            && digits(timeStart + 6..<timeStart + 8)
    }

    private mutating func array() throws(TOMLSyntaxError) -> [ConfigNode] {
        advance()
        var elements: [ConfigNode] = []
        while true {
            skipWhitespaceCommentsAndNewlines()
            guard let c = peek() else { throw error("unterminated array: expected ']'") }
            if c == UInt8(ascii: "]") {
                advance()
                return elements
            }
            let elementLine = line
            switch try value() {
            case .value(let node): elements.append(node)
            case .table(let t): elements.append(ConfigNode(.table(Self.freezeTable(t)), line: elementLine))
            case .tableArray: throw error("unexpected array of tables inside an array")
            }
            skipWhitespaceCommentsAndNewlines()
            if peek() == UInt8(ascii: ",") {
                advance()
            } else if peek() != UInt8(ascii: "]") {
                throw error("expected ',' or ']' in the array, found \(peek().map(describe) ?? "the end of the file")")
            }
        }
    }

    private mutating func inlineTable() throws(TOMLSyntaxError) -> Table {
        let table = Table(origin: .inline, line: line)
        advance()
        skipSpaces()
        if peek() == UInt8(ascii: "}") {
            advance()
            return table
        }
        while true {
            skipSpaces()
            try keyValue(into: table)
            skipSpaces()
            guard let c = peek() else { throw error("unterminated inline table: expected '}'") }
            if c == UInt8(ascii: ",") {
                advance()
                continue
            }
            if c == UInt8(ascii: "}") {
                advance()
                return table
            }
            throw error("expected ',' or '}' in the inline table, found \(describe(c))")
        }
    }

    // MARK: - Strings

    private mutating func basicString() throws(TOMLSyntaxError) -> String {
        var out: [UInt8] = []
        while true {
            guard let c = peek(), c != UInt8(ascii: "\n") else { throw error("unterminated string") }
            advance()
            if c == UInt8(ascii: "\"") { break }
            if c == UInt8(ascii: "\\") {
                try escape(into: &out)
            } else {
                try checkControl(c)
                out.append(c)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private mutating func multilineBasicString() throws(TOMLSyntaxError) -> String {
        var out: [UInt8] = []
        skipNewlineAfterOpeningDelimiter()
        while true {
            guard let c = peek() else { throw error("unterminated multi-line string: expected '\"\"\"'") }
            if matches("\"\"\"") {
                pos += 3
                // Up to two quotes may sit right before the closing delimiter.
                var extra = 0
                while peek() == UInt8(ascii: "\""), extra < 2 {
                    out.append(UInt8(ascii: "\""))
                    advance()
                    extra += 1
                }
                return String(decoding: out, as: UTF8.self)
            }
            if c == UInt8(ascii: "\\") {
                advance()
                // A backslash at the end of a line trims the newline and the following whitespace.
                var look = pos
                while look < bytes.count, bytes[look] == UInt8(ascii: " ") || bytes[look] == UInt8(ascii: "\t") {
                    look += 1
                }
                if look < bytes.count, bytes[look] == UInt8(ascii: "\n") || bytes[look] == UInt8(ascii: "\r") {
                    pos = look
                    skipWhitespaceAndNewlines()
                    continue
                }
                try escape(into: &out)
                continue
            }
            advanceTrackingNewline(c)
            if c != UInt8(ascii: "\n"), c != UInt8(ascii: "\r") { try checkControl(c) }
            out.append(c)
        }
    }

    private mutating func literalString() throws(TOMLSyntaxError) -> String {
        let start = pos
        while true {
            guard let c = peek(), c != UInt8(ascii: "\n") else { throw error("unterminated literal string") }
            if c == UInt8(ascii: "'") { break }
            try checkControl(c)
            advance()
        }
        defer { advance() }
        return String(decoding: bytes[start..<pos], as: UTF8.self)
    }

    private mutating func multilineLiteralString() throws(TOMLSyntaxError) -> String {
        skipNewlineAfterOpeningDelimiter()
        var out: [UInt8] = []
        while true {
            guard let c = peek() else { throw error("unterminated multi-line literal string: expected \"'''\"") }
            if matches("'''") {
                pos += 3
                var extra = 0
                while peek() == UInt8(ascii: "'"), extra < 2 {
                    out.append(UInt8(ascii: "'"))
                    advance()
                    extra += 1
                }
                return String(decoding: out, as: UTF8.self)
            }
            advanceTrackingNewline(c)
            out.append(c)
        }
    }

    private mutating func escape(into out: inout [UInt8]) throws(TOMLSyntaxError) {
        guard let e = peek() else { throw error("unterminated escape sequence") }
        advance()
        switch e {
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "f"): out.append(0x0C)
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "\""): out.append(0x22)
        case UInt8(ascii: "\\"): out.append(0x5C)
        case UInt8(ascii: "u"), UInt8(ascii: "U"):
            let count = e == UInt8(ascii: "u") ? 4 : 8
            guard pos + count <= bytes.count,
                let code = UInt32(String(decoding: bytes[pos..<pos + count], as: UTF8.self), radix: 16),
                let scalar = Unicode.Scalar(code)
            else { throw error("invalid unicode escape") }
            pos += count
            out.append(contentsOf: Array(String(Character(scalar)).utf8))
        default:
            throw error("invalid escape sequence '\\\(describe(e))'")
        }
    }

    private func checkControl(_ c: UInt8) throws(TOMLSyntaxError) {
        if (c < 0x20 && c != 0x09) || c == 0x7F { throw error("control character \(describe(c)) in a string") }
    }

    // MARK: - Scanning

    private func peek() -> UInt8? { pos < bytes.count ? bytes[pos] : nil }

    private mutating func advance() { pos += 1 }

    private mutating func advanceTrackingNewline(_ c: UInt8) {
        pos += 1
        if c == UInt8(ascii: "\n") {
            line += 1
            lineStart = pos
        }
    }

    private func matches(_ s: StaticString) -> Bool {
        let n = s.utf8CodeUnitCount
        guard pos + n <= bytes.count else { return false }
        return s.withUTF8Buffer { buf in (0..<n).allSatisfy { bytes[pos + $0] == buf[$0] } }
    }

    private mutating func expect(_ c: Character, _ message: String) throws(TOMLSyntaxError) {
        guard let b = peek(), b == c.asciiValue else { throw error(message) }
        advance()
    }

    private mutating func skipSpaces() {
        while let c = peek(), c == UInt8(ascii: " ") || c == UInt8(ascii: "\t") { advance() }
    }

    private mutating func skipComment() {
        guard peek() == UInt8(ascii: "#") else { return }
        while let c = peek(), c != UInt8(ascii: "\n") { advance() }
    }

    private mutating func skipWhitespaceAndNewlines() {
        while let c = peek(), c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D { advanceTrackingNewline(c) }
    }

    private mutating func skipWhitespaceCommentsAndNewlines() {
        while true {
            skipWhitespaceAndNewlines()
            guard peek() == UInt8(ascii: "#") else { return }
            skipComment()
        }
    }

    private mutating func skipNewlineAfterOpeningDelimiter() {
        if matches("\r\n") { pos += 1 }
        if peek() == UInt8(ascii: "\n") { advanceTrackingNewline(UInt8(ascii: "\n")) }
    }

    /// After a key/value pair or a header only a comment may follow on the same line.
    private mutating func endOfLine() throws(TOMLSyntaxError) {
        skipSpaces()
        skipComment()
        if peek() == UInt8(ascii: "\r") { advance() }
        guard let c = peek() else { return }
        guard c == UInt8(ascii: "\n") else {
            throw error("unexpected \(describe(c)) after the value (one key = value per line)")
        }
        advanceTrackingNewline(c)
    }

    private func describe(_ c: UInt8) -> String {
        if c >= 0x21 && c < 0x7F { return "'\(Character(Unicode.Scalar(c)))'" }
        return "byte 0x" + String(c, radix: 16)
    }

    private func error(_ message: String, line errorLine: Int? = nil) -> TOMLSyntaxError {
        TOMLSyntaxError(
            line: errorLine ?? line, column: errorLine == nil ? pos - lineStart + 1 : 1, message: message)
    }

    // MARK: - Freezing

    private static func freeze(_ table: Table) -> ConfigTable { freezeTable(table) }

    private static func freezeTable(_ table: Table) -> ConfigTable {
        ConfigTable(
            entries: table.entries.map { entry in
                switch entry.item {
                case .value(let node):
                    return (entry.key, node)
                case .table(let t):
                    return (entry.key, ConfigNode(.table(freezeTable(t)), line: t.line))
                case .tableArray(let elements, let line):
                    return (
                        entry.key,
                        ConfigNode(
                            .array(elements.map { ConfigNode(.table(freezeTable($0)), line: $0.line) }), line: line)
                    )
                }
            })
    }
}
