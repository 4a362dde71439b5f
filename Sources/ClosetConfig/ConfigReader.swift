import ClosetModel

/// One problem in a configuration file: where, which key, what is wrong.
public struct ConfigIssue: Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var line: Int
    /// The key path, e.g. `sensor[1].thresholds."board.temperature".warn_high`.
    public var key: String
    public var message: String

    public init(file: String, line: Int, key: String, message: String) {
        self.file = file
        self.line = line
        self.key = key
        self.message = message
    }

    /// `agent.toml:12: sensor[1].interval: expected a duration ...`
    public var description: String {
        key.isEmpty ? "\(file):\(line): \(message)" : "\(file):\(line): \(key): \(message)"
    }
}

/// Collects issues while a whole file is read, so every problem is reported at once.
public final class ConfigDiagnostics: @unchecked Sendable {
    // Only touched by the single thread reading one file; a class so nested readers share it.
    public private(set) var issues: [ConfigIssue] = []
    /// Lines of keys that hold secrets (passwords, communities, keys).
    public private(set) var secretLines: [(line: Int, key: String)] = []
    public let file: String

    public init(file: String) { self.file = file }

    public func report(line: Int, key: String, _ message: String) {
        issues.append(ConfigIssue(file: file, line: line, key: key, message: message))
    }

    func noteSecret(line: Int, key: String) { secretLines.append((line, key)) }

    /// Adds an issue found in another file (a map or profile the config refers to).
    public func append(_ issue: ConfigIssue) { issues.append(issue) }

    /// Issues sorted by line, as a reader expects them.
    public var sortedIssues: [ConfigIssue] {
        issues.enumerated().sorted { ($0.element.line, $0.offset) < ($1.element.line, $1.offset) }.map(\.element)
    }
}

/// Reads one TOML table with typed getters. Each getter records its key as known, reports a
/// wrong type or range with the key's line, and `finish()` reports keys nobody asked for,
/// with a "did you mean" suggestion.
public final class ConfigReader: @unchecked Sendable {
    public let table: ConfigTable
    public let path: String
    public let line: Int
    public let diagnostics: ConfigDiagnostics
    private var known: [String] = []

    public init(table: ConfigTable, path: String, line: Int, diagnostics: ConfigDiagnostics) {
        self.table = table
        self.path = path
        self.line = line
        self.diagnostics = diagnostics
    }

    /// The printable path of a key in this table.
    public func keyPath(_ key: String) -> String {
        let k = key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) ? key : "\"\(key)\""
        return path.isEmpty ? k : path + "." + k
    }

    /// Reports a problem with `key` (at its line, or this table's line when absent).
    public func report(_ key: String, _ message: String) {
        diagnostics.report(line: table[key]?.line ?? line, key: keyPath(key), message)
    }

    /// Reports a problem with the table itself.
    public func reportTable(_ message: String) {
        diagnostics.report(line: line, key: path, message)
    }

    /// The raw node for `key`, marking it known.
    public func node(_ key: String) -> ConfigNode? {
        known.append(key)
        return table[key]
    }

    private func typed<T>(_ key: String, _ expected: String, _ extract: (ConfigValue) -> T?) -> T? {
        guard let node = node(key) else { return nil }
        if let v = extract(node.value) { return v }
        report(key, "expected \(expected), got \(node.value.typeName) \(node.value.shortDescription)")
        return nil
    }

    public func string(_ key: String) -> String? {
        typed(key, "a string") { if case .string(let s) = $0 { s } else { nil } }
    }

    /// A string that must not be empty.
    public func requiredString(_ key: String) -> String? {
        guard let node = table[key] else {
            known.append(key)
            reportTable("missing required key '\(key)'")
            return nil
        }
        _ = node
        guard let s = string(key) else { return nil }
        if s.isEmpty { report(key, "must not be empty") }
        return s.isEmpty ? nil : s
    }

    /// A string that is a secret: noted so the file's permissions can be checked.
    public func secret(_ key: String) -> String? {
        let s = string(key)
        if s != nil, let node = table[key] { diagnostics.noteSecret(line: node.line, key: keyPath(key)) }
        return s
    }

    public func bool(_ key: String) -> Bool? {
        typed(key, "true or false") { if case .bool(let b) = $0 { b } else { nil } }
    }

    public func integer(_ key: String, in range: ClosedRange<Int64>? = nil) -> Int64? {
        guard let v = typed(key, "an integer", { if case .integer(let i) = $0 { i } else { nil } }) else { return nil }
        if let range, !range.contains(v) {
            report(key, "\(v) is out of range \(range.lowerBound)...\(range.upperBound)")
            return nil
        }
        return v
    }

    /// An integer or a float.
    public func number(_ key: String, in range: ClosedRange<Double>? = nil) -> Double? {
        guard
            let v = typed(
                key, "a number",
                {
                    switch $0 {
                    case .integer(let i): Double(i)
                    case .float(let d): d
                    default: nil
                    }
                })
        else { return nil }
        if !v.isFinite {
            report(key, "must be a finite number, got \(v)")
            return nil
        }
        if let range, !range.contains(v) {
            report(key, "\(v.compactDescription) is out of range \(range.lowerBound.compactDescription)...\(range.upperBound.compactDescription)")
            return nil
        }
        return v
    }

    /// A duration written as a string: `500ms`, `10s`, `5m`, `1h`, `1m30s`.
    public func duration(_ key: String, in range: ClosedRange<Duration>? = nil) -> Duration? {
        guard let node = node(key) else { return nil }
        guard case .string(let s) = node.value, let d = Duration(parsing: s) else {
            report(
                key,
                "expected a duration such as \"10s\", \"500ms\" or \"5m\", got \(node.value.typeName) \(node.value.shortDescription)"
            )
            return nil
        }
        if let range, !range.contains(d) {
            report(
                key, "\(s) is out of range \(range.lowerBound.compactDescription)...\(range.upperBound.compactDescription)")
            return nil
        }
        return d
    }

    /// A byte count: an integer, or a string with a unit: `"500 kB"`, `"20MB"`, `"4 GiB"`
    /// (k, M, G, T are powers of 1000; Ki, Mi, Gi, Ti of 1024; a trailing `/s` is allowed for rates).
    public func bytes(_ key: String, in range: ClosedRange<Int64>? = nil) -> Int64? {
        guard let node = node(key) else { return nil }
        var value: Int64?
        switch node.value {
        case .integer(let i): value = i
        case .string(let s): value = parseByteCount(s)
        default: break
        }
        guard let value else {
            report(key, "expected a size such as \"512 MB\", \"4 GiB\" or a number of bytes, got \(node.value.typeName) \(node.value.shortDescription)")
            return nil
        }
        if let range, !range.contains(value) {
            report(key, "\(value) bytes is out of range \(range.lowerBound)...\(range.upperBound)")
            return nil
        }
        return value
    }

    /// A list of TCP or UDP port numbers (`[446, 2049]`).
    public func ports(_ key: String) -> [Int]? {
        guard let node = node(key) else { return nil }
        guard case .array(let items) = node.value else {
            report(key, "expected a list of port numbers, e.g. [22, 80, 443], got \(node.value.typeName)")
            return nil
        }
        let ports = items.compactMap { if case .integer(let i) = $0.value, (1...65535).contains(i) { Int(i) } else { nil } }
        if ports.count != items.count { report(key, "expected port numbers 1...65535, e.g. [22, 80, 443]") }
        return ports
    }

    /// One of a fixed set of words.
    public func choice(_ key: String, _ choices: [String]) -> String? {
        guard let s = string(key) else { return nil }
        guard choices.contains(s) else {
            report(key, "\"\(s)\" is not one of \(choices.map { "\"\($0)\"" }.joined(separator: ", "))"
                + suggestion(for: s, among: choices))
            return nil
        }
        return s
    }

    public func level(_ key: String) -> HealthLevel? {
        choice(key, ["ok", "warn", "crit", "unknown"]).flatMap { HealthLevel(name: $0) }
    }

    /// An array of strings (a single string is accepted as a one-element array).
    public func strings(_ key: String) -> [String]? {
        guard let node = node(key) else { return nil }
        switch node.value {
        case .string(let s): return [s]
        case .array(let items):
            var out: [String] = []
            for (i, item) in items.enumerated() {
                guard case .string(let s) = item.value else {
                    diagnostics.report(
                        line: item.line, key: "\(keyPath(key))[\(i)]",
                        "expected a string, got \(item.value.typeName) \(item.value.shortDescription)")
                    return nil
                }
                out.append(s)
            }
            return out
        default:
            report(key, "expected an array of strings, got \(node.value.typeName) \(node.value.shortDescription)")
            return nil
        }
    }

    /// A sub-table.
    public func table(_ key: String) -> ConfigReader? {
        guard let node = node(key) else { return nil }
        guard case .table(let t) = node.value else {
            report(key, "expected a table, got \(node.value.typeName) \(node.value.shortDescription)")
            return nil
        }
        return ConfigReader(table: t, path: keyPath(key), line: node.line, diagnostics: diagnostics)
    }

    /// An array of tables (`[[key]]`).
    public func tables(_ key: String) -> [ConfigReader] {
        guard let node = node(key) else { return [] }
        guard case .array(let items) = node.value else {
            report(key, "expected an array of tables ([[\(key)]]), got \(node.value.typeName)")
            return []
        }
        var out: [ConfigReader] = []
        for (i, item) in items.enumerated() {
            guard case .table(let t) = item.value else {
                diagnostics.report(line: item.line, key: "\(keyPath(key))[\(i)]", "expected a table, got \(item.value.typeName)")
                continue
            }
            out.append(ConfigReader(table: t, path: "\(keyPath(key))[\(i)]", line: item.line, diagnostics: diagnostics))
        }
        return out
    }

    /// Marks keys as known without reading them (read elsewhere).
    public func allow(_ keys: String...) { known.append(contentsOf: keys) }

    /// Reports every key in this table that no getter asked for.
    public func finish() {
        for (key, node) in table.entries where !known.contains(key) {
            diagnostics.report(
                line: node.line, key: keyPath(key), "unknown key" + suggestion(for: key, among: known))
        }
    }
}

/// `; did you mean "interval"?` when a known word is close enough to be a typo.
public func suggestion(for word: String, among candidates: [String]) -> String {
    let scored = Set(candidates).map { ($0, editDistance(word.lowercased(), $0.lowercased())) }
        .filter { $0.1 <= max(1, min(3, $0.0.count / 3)) }
        .sorted { ($0.1, $0.0) < ($1.1, $1.0) }
    guard let best = scored.first else { return "" }
    return "; did you mean \"\(best.0)\"?"
}

/// Levenshtein distance over characters.
public func editDistance(_ a: String, _ b: String) -> Int {
    let x = Array(a)
    let y = Array(b)
    if x.isEmpty { return y.count }
    if y.isEmpty { return x.count }
    var previous = Array(0...y.count)
    var current = [Int](repeating: 0, count: y.count + 1)
    for i in 1...x.count {
        current[0] = i
        for j in 1...y.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1))
        }
        swap(&previous, &current)
    }
    return previous[y.count]
}

/// Parses a TOML file that a config refers to (a register map, an SNMP map) with `read`;
/// its problems name that file and its lines, and are added to `diagnostics`.
public func readTOML<T>(_ text: String, file: String, into diagnostics: ConfigDiagnostics, _ read: (ConfigReader) -> T?) -> T? {
    let local = ConfigDiagnostics(file: file)
    var result: T?
    do {
        result = read(ConfigReader(table: try TOMLParser.parse(text), path: "", line: 1, diagnostics: local))
    } catch {
        local.report(line: error.line, key: "", "TOML syntax error at column \(error.column): \(error.message)")
    }
    for issue in local.issues { diagnostics.append(issue) }
    return local.issues.isEmpty ? result : nil
}


/// `"20 MB"`, `"4GiB"`, `"1.5 G"`, `"500kB/s"` to bytes; nil if not a size.
public func parseByteCount(_ text: String) -> Int64? {
    var s = Substring(text.trimmingSpaces)
    if s.hasSuffix("/s") { s = s.dropLast(2) }
    let number = s.prefix { $0.isNumber || $0 == "." }
    var unit = s.dropFirst(number.count).drop { $0 == " " }
    guard let v = Double(number), v >= 0 else { return nil }
    if unit.hasSuffix("B") { unit = unit.dropLast() }
    let multipliers: [Substring: Double] = [
        "": 1, "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12,
        "Ki": 1024, "Mi": 1_048_576, "Gi": 1_073_741_824, "Ti": 1_099_511_627_776,
    ]
    guard let m = multipliers[unit], (v * m) < 9e18 else { return nil }
    return Int64((v * m).rounded())
}
