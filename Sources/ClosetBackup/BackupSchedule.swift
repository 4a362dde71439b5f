import ClosetModel

/// When a backup job is expected to run, in the board's local time: `hourly :15`,
/// `daily 02:00`, `weekly sun 03:00`. Pure: times are seconds since the epoch, and the zone
/// is an offset east of UTC passed in by the caller.
public struct BackupSchedule: Sendable, Hashable, CustomStringConvertible {
    public enum Period: Sendable, Hashable {
        case hourly(minute: Int)
        /// Minutes after local midnight.
        case daily(minute: Int)
        /// Weekday 0 = Sunday ... 6 = Saturday; minutes after local midnight.
        case weekly(weekday: Int, minute: Int)
    }

    public var period: Period

    public init(_ period: Period) { self.period = period }

    static let weekdays = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]

    /// Parses the config form; the error says what was expected.
    public static func parse(_ text: String) -> Result<BackupSchedule, ScheduleError> {
        let words = text.lowercased().split(separator: " ", omittingEmptySubsequences: true)
        func time(_ word: Substring?) -> Int? {
            guard let word else { return 0 }
            let parts = word.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2, let h = Int(parts[0].isEmpty ? "0" : parts[0]), let m = Int(parts[1]),
                (0..<24).contains(h), (0..<60).contains(m), parts[1].count == 2
            else { return nil }
            return h * 60 + m
        }
        switch words.first {
        case "hourly" where words.count <= 2:
            guard let m = time(words.count == 2 ? words[1] : nil), m < 60 else { break }
            return .success(BackupSchedule(.hourly(minute: m)))
        case "daily" where words.count <= 2:
            guard let m = time(words.count == 2 ? words[1] : nil) else { break }
            return .success(BackupSchedule(.daily(minute: m)))
        case "weekly" where words.count == 2 || words.count == 3:
            guard let day = weekdays.firstIndex(where: { words[1].hasPrefix($0) }),
                let m = time(words.count == 3 ? words[2] : nil)
            else { break }
            return .success(BackupSchedule(.weekly(weekday: day, minute: m)))
        default: break
        }
        return .failure(ScheduleError(text: text))
    }

    public struct ScheduleError: Error, Sendable, CustomStringConvertible {
        public var text: String
        public var description: String {
            "\"\(text)\" is not a schedule (expected \"hourly :15\", \"daily 02:00\" or \"weekly sun 03:00\")"
        }
    }

    /// Seconds between runs.
    public var length: Int64 {
        switch period {
        case .hourly: 3600
        case .daily: 86_400
        case .weekly: 604_800
        }
    }

    /// Run times (seconds since the epoch) in `from...to`, in order.
    public func runs(from: Int64, to: Int64, offset: Int64) -> [Int64] {
        guard from <= to else { return [] }
        let localFrom = from + offset
        var first: Int64
        switch period {
        case .hourly(let minute):
            first = localFrom.floorDivided(by: 3600) * 3600 + Int64(minute) * 60
        case .daily(let minute):
            first = localFrom.floorDivided(by: 86_400) * 86_400 + Int64(minute) * 60
        case .weekly(let weekday, let minute):
            let day = localFrom.floorDivided(by: 86_400)
            // 1970-01-01 was a Thursday (4).
            let today = Int((day + 4) % 7 + 7) % 7
            first = (day - Int64(today) + Int64(weekday)) * 86_400 + Int64(minute) * 60
        }
        while first < localFrom { first += length }
        while first - length >= localFrom { first -= length }
        var out: [Int64] = []
        var r = first
        while r - offset <= to {
            out.append(r - offset)
            r += length
        }
        return out
    }

    public var description: String {
        func hm(_ m: Int) -> String { "\(m / 60 < 10 ? "0" : "")\(m / 60):\(m % 60 < 10 ? "0" : "")\(m % 60)" }
        switch period {
        case .hourly(let m): return "hourly :\(m < 10 ? "0" : "")\(m)"
        case .daily(let m): return "daily \(hm(m))"
        case .weekly(let d, let m): return "weekly \(Self.weekdays[d]) \(hm(m))"
        }
    }
}
