import ClosetModel

/// IF-MIB (RFC 2863) interface table columns the switch driver walks, and their decoding
/// into per-port readings. Pure: the driver hands in what it walked and the previous
/// counters; rates come out.
public enum IFMIB {
    public static let sysDescr: OID = "1.3.6.1.2.1.1.1"
    public static let sysUpTime: OID = "1.3.6.1.2.1.1.3"
    public static let sysName: OID = "1.3.6.1.2.1.1.5"

    static let ifEntry: OID = "1.3.6.1.2.1.2.2.1"
    static let ifXEntry: OID = "1.3.6.1.2.1.31.1.1.1"
    public static let ifDescr = ifEntry.appending(2)
    public static let ifSpeed = ifEntry.appending(5)
    public static let ifAdminStatus = ifEntry.appending(7)
    public static let ifOperStatus = ifEntry.appending(8)
    public static let ifLastChange = ifEntry.appending(9)
    public static let ifInDiscards = ifEntry.appending(13)
    public static let ifInErrors = ifEntry.appending(14)
    public static let ifOutDiscards = ifEntry.appending(19)
    public static let ifOutErrors = ifEntry.appending(20)
    public static let ifName = ifXEntry.appending(1)
    public static let ifHCInOctets = ifXEntry.appending(6)
    public static let ifHCOutOctets = ifXEntry.appending(10)
    public static let ifHighSpeed = ifXEntry.appending(15)
    public static let ifAlias = ifXEntry.appending(18)

    /// Only the columns the model needs.
    public static let columns: [OID] = [
        ifDescr, ifSpeed, ifAdminStatus, ifOperStatus, ifLastChange, ifInDiscards, ifInErrors, ifOutDiscards,
        ifOutErrors, ifName, ifHCInOctets, ifHCOutOctets, ifHighSpeed, ifAlias,
    ]

    static let operWords = [1: "up", 2: "down", 3: "testing", 4: "unknown", 5: "dormant", 6: "notPresent", 7: "lowerLayerDown"]
    static let adminWords = [1: "up", 2: "down", 3: "testing"]

    /// Counter values of one poll, to turn the next poll's counters into rates.
    public struct Counters: Sendable, Hashable {
        /// sysUpTime in hundredths of a second; a smaller value means the agent restarted.
        public var uptime: UInt64
        public var time: Timestamp
        public var perPort: [Int: [OID: UInt64]]
    }

    /// Readings for one walk. Counter wraps (32-bit) are undone; an agent restart (sysUpTime
    /// going back) yields no rates for that poll rather than nonsense.
    public static func decode(
        columns walked: [OID: [[UInt]: SNMPValue]], uptime: UInt64?, previous: Counters?, at time: Timestamp
    ) -> (readings: [Reading], counters: Counters?) {
        var readings: [Reading] = []
        var perPort: [Int: [OID: UInt64]] = [:]
        let indexes = Set(walked.values.flatMap { $0.keys }.compactMap { $0.count == 1 ? Int($0[0]) : nil }).sorted()
        let elapsed = previous.map { $0.time.duration(to: time).seconds } ?? 0
        let restarted = uptime != nil && previous != nil && uptime! < previous!.uptime
        var up = 0
        var down = 0
        var adminDown = 0
        for index in indexes {
            func value(_ column: OID) -> SNMPValue? { walked[column]?[[UInt(index)]] }
            func add(_ field: PortField, _ v: ReadingValue, _ unit: Unit? = nil) {
                readings.append(Reading(.port(index, field), v, unit: unit, time: time))
            }
            let name = value(ifName)?.text.flatMap { $0.isEmpty ? nil : $0 } ?? value(ifDescr)?.text ?? "if\(index)"
            add(.name, .text(name))
            if let alias = value(ifAlias)?.text, !alias.isEmpty { add(.alias, .text(alias)) }
            let admin = value(ifAdminStatus)?.number.flatMap { adminWords[Int($0)] }
            if let admin { add(.admin, .text(admin)) }
            if let oper = value(ifOperStatus)?.number.flatMap({ operWords[Int($0)] }) {
                add(.oper, .text(oper))
                if admin == "down" { adminDown += 1 } else if oper == "up" { up += 1 } else { down += 1 }
            }
            if let high = value(ifHighSpeed)?.number, high > 0 {
                add(.speed, .number(high), .megabitPerSecond)
            } else if let bps = value(ifSpeed)?.number, bps > 0, bps < 4_294_967_295 {
                add(.speed, .number(bps / 1_000_000), .megabitPerSecond)
            }
            if let uptime, let changed = value(ifLastChange)?.number, Double(uptime) >= changed {
                add(.lastChange, .number(((Double(uptime) - changed) / 100).rounded()), .second)
            }
            var counters: [OID: UInt64] = [:]
            for column in [ifInErrors, ifOutErrors, ifInDiscards, ifOutDiscards, ifHCInOctets, ifHCOutOctets] {
                switch value(column) {
                case .unsigned(let v, _): counters[column] = v
                case .counter64(let v): counters[column] = v
                default: break
                }
            }
            perPort[index] = counters
            guard let before = previous?.perPort[index], elapsed > 0, !restarted else { continue }
            func delta(_ column: OID, wrap: UInt64) -> Double? {
                guard let now = counters[column], let then = before[column] else { return nil }
                return Double(now >= then ? now - then : now &+ (wrap &- then))
            }
            let wrap32: UInt64 = 1 << 32
            if let i = delta(ifInErrors, wrap: wrap32), let o = delta(ifOutErrors, wrap: wrap32) {
                add(.errors, .number(((i + o) / elapsed * 1000).rounded() / 1000), nil)
            }
            if let i = delta(ifInDiscards, wrap: wrap32), let o = delta(ifOutDiscards, wrap: wrap32) {
                add(.discards, .number(((i + o) / elapsed * 1000).rounded() / 1000), nil)
            }
            // 64-bit counters do not wrap in practice: a smaller value is a reset, not a wrap.
            if let now = counters[ifHCInOctets], let then = before[ifHCInOctets], now >= then {
                add(.inBps, .number((Double(now - then) * 8 / elapsed).rounded()), nil)
            }
            if let now = counters[ifHCOutOctets], let then = before[ifHCOutOctets], now >= then {
                add(.outBps, .number((Double(now - then) * 8 / elapsed).rounded()), nil)
            }
        }
        readings.append(Reading("ports.up", .number(Double(up)), unit: .count, time: time))
        readings.append(Reading("ports.down", .number(Double(down)), unit: .count, time: time))
        readings.append(Reading("ports.admin_down", .number(Double(adminDown)), unit: .count, time: time))
        let counters = uptime.map { Counters(uptime: $0, time: time, perPort: perPort) }
        return (readings, counters)
    }
}

/// Counts each port's state changes within a sliding window, to flag flapping ports.
public struct FlapTracker: Sendable {
    public var window: Duration
    private var changes: [Int: [Timestamp]] = [:]
    private var lastState: [Int: String] = [:]

    public init(window: Duration) { self.window = window }

    /// Records this poll's oper states; returns each port's change count within the window.
    public mutating func record(_ states: [Int: String], at time: Timestamp) -> [Int: Int] {
        var counts: [Int: Int] = [:]
        for (port, state) in states {
            if let last = lastState[port], last != state { changes[port, default: []].append(time) }
            lastState[port] = state
            changes[port]?.removeAll { $0.duration(to: time) > window }
            counts[port] = changes[port]?.count ?? 0
        }
        return counts
    }
}
