#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ClosetModel

/// The real clock: wall time for timestamps, the monotonic clock for sleeping, so an NTP step
/// does not stretch or skip a poll interval.
public struct WallClock: Clock {
    public typealias Instant = Timestamp
    public typealias Duration = Swift.Duration

    public init() {}

    public var now: Timestamp {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Timestamp(nanosecondsSinceEpoch: Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec))
    }

    public var minimumResolution: Swift.Duration { .nanoseconds(1) }

    public func sleep(until deadline: Timestamp, tolerance: Swift.Duration?) async throws {
        let remaining = now.duration(to: deadline)
        guard remaining > .zero else { return }
        try await ContinuousClock().sleep(for: remaining, tolerance: tolerance)
    }
}
