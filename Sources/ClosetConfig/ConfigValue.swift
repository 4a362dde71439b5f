/// A parsed configuration value with the line it was written on, so every later check
/// (type, range, unknown key) can name `file:line`.
public struct ConfigNode: Sendable {
    public var value: ConfigValue
    /// 1-based line of the key (or of the array element) in the source file.
    public var line: Int

    public init(_ value: ConfigValue, line: Int) {
        self.value = value
        self.line = line
    }
}

/// The TOML data model.
public indirect enum ConfigValue: Sendable {
    case string(String)
    case integer(Int64)
    case float(Double)
    case bool(Bool)
    /// Date, time or date-time, kept as written (RFC 3339 text).
    case datetime(String)
    case array([ConfigNode])
    case table(ConfigTable)

    /// The TOML type's name for error messages: `string`, `integer`, `table`, ...
    public var typeName: String {
        switch self {
        case .string: "string"
        case .integer: "integer"
        case .float: "float"
        case .bool: "boolean"
        case .datetime: "date-time"
        case .array: "array"
        case .table: "table"
        }
    }

    /// A short rendering for messages: strings quoted, tables and arrays abbreviated.
    public var shortDescription: String {
        switch self {
        case .string(let s): "\"\(s)\""
        case .integer(let i): String(i)
        case .float(let d): String(d)
        case .bool(let b): String(b)
        case .datetime(let s): s
        case .array(let a): "an array of \(a.count)"
        case .table: "a table"
        }
    }
}

/// A TOML table: keys in the order they were written.
public struct ConfigTable: Sendable {
    public private(set) var entries: [(key: String, node: ConfigNode)] = []

    public init(entries: [(key: String, node: ConfigNode)] = []) {
        self.entries = entries
    }

    public subscript(key: String) -> ConfigNode? {
        entries.first(where: { $0.key == key })?.node
    }

    public var keys: [String] { entries.map(\.key) }
}
