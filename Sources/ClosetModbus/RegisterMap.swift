import ClosetModel

/// Which Modbus table a value lives in.
public enum ModbusTable: String, Sendable, Hashable, CaseIterable, Comparable {
    case holding, input, coil, discrete

    /// Register tables hold 16-bit words; coil and discrete tables hold bits.
    public var isBits: Bool { self == .coil || self == .discrete }

    /// Most units a single read may ask for (Modbus spec: 125 registers, 2000 bits).
    public var maxReadCount: Int { isBits ? 2000 : 125 }

    public static func < (a: ModbusTable, b: ModbusTable) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// How register words become a number.
public enum RegisterType: String, Sendable, Hashable, CaseIterable {
    case u16, s16, u32, s32, float32
    /// A coil or discrete input (one bit).
    case bool

    public var words: Int {
        switch self {
        case .u16, .s16, .bool: 1
        case .u32, .s32, .float32: 2
        }
    }
}

/// For 32-bit values: which register holds the high word.
public enum WordOrder: String, Sendable, Hashable {
    /// High word first (Modbus convention, APC).
    case big
    /// Low word first (many meters and probes).
    case little
}

/// One model variable read from one place in the device.
public struct RegisterEntry: Sendable, Hashable {
    public var variable: VariableName
    public var table: ModbusTable
    public var address: Int
    public var type: RegisterType
    public var wordOrder: WordOrder
    /// value = raw * scale + offset
    public var scale: Double
    public var offset: Double
    public var unit: Unit?
    /// Raw values that mean "not available" (APC reports 0xFFFF for an absent input voltage).
    public var invalid: [Int64]

    public init(
        variable: VariableName, table: ModbusTable = .holding, address: Int, type: RegisterType = .u16,
        wordOrder: WordOrder = .big, scale: Double = 1, offset: Double = 0, unit: Unit? = nil, invalid: [Int64] = []
    ) {
        self.variable = variable
        self.table = table
        self.address = address
        self.type = type
        self.wordOrder = wordOrder
        self.scale = scale
        self.offset = offset
        self.unit = unit
        self.invalid = invalid
    }

    public var span: ClosedRange<Int> { address...(address + type.words - 1) }
}

/// A register (or group of bits) whose bits set `ups.status` flags.
public struct FlagEntry: Sendable, Hashable {
    public var table: ModbusTable
    public var address: Int
    /// `u16` or `u32` for registers; for bit tables, bit i is at address + i.
    public var type: RegisterType
    public var wordOrder: WordOrder
    /// Bit number to NUT status token.
    public var bits: [Int: UPSStatus]

    public init(table: ModbusTable = .holding, address: Int, type: RegisterType = .u16, wordOrder: WordOrder = .big, bits: [Int: UPSStatus]) {
        self.table = table
        self.address = address
        self.type = type
        self.wordOrder = wordOrder
        self.bits = bits
    }

    public var span: ClosedRange<Int> {
        table.isBits ? address...(address + (bits.keys.max() ?? 0)) : address...(address + type.words - 1)
    }
}

/// What a device's registers mean: the mapping table a driver reads through.
public struct RegisterMap: Sendable, Hashable {
    public var name: String
    public var description: String
    public var entries: [RegisterEntry]
    public var flags: [FlagEntry]
    /// Unmapped registers a read may span to merge two reads into one (0: only adjacent ones).
    /// Only for devices that answer reads across their gaps (APC SMT answers 0..26 and 128..159).
    public var maxGap: Int

    public init(name: String, description: String = "", entries: [RegisterEntry], flags: [FlagEntry] = [], maxGap: Int = 0) {
        self.name = name
        self.description = description
        self.entries = entries
        self.flags = flags
        self.maxGap = maxGap
    }

    /// Every (table, address range) the map reads.
    var spans: [(ModbusTable, ClosedRange<Int>)] {
        entries.map { ($0.table, $0.span) } + flags.map { ($0.table, $0.span) }
    }
}
