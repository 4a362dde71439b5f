import ClosetModel
import Synchronization

/// A clock that moves only when a test says so. Sleepers wake, in deadline order, when
/// `advance` passes their deadline; cancelled sleepers throw `CancellationError`.
public final class ManualClock: Clock, Sendable {
    public typealias Instant = Timestamp
    public typealias Duration = Swift.Duration

    private struct Sleeper {
        var id: UInt64
        var deadline: Timestamp
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now: Timestamp
        var sleepers: [Sleeper] = []
        var nextID: UInt64 = 0
    }

    private let state: Mutex<State>

    public init(now: Timestamp = Timestamp(secondsSinceEpoch: 1_800_000_000)) {
        state = Mutex(State(now: now))
    }

    public var now: Timestamp { state.withLock { $0.now } }
    public var minimumResolution: Swift.Duration { .nanoseconds(1) }

    /// How many tasks are asleep on this clock now.
    public var sleeperCount: Int { state.withLock { $0.sleepers.count } }

    /// When each sleeper will wake, earliest first: tells a test exactly what is pending.
    public var deadlines: [Timestamp] { state.withLock { $0.sleepers.map(\.deadline).sorted() } }

    public func sleep(until deadline: Timestamp, tolerance: Swift.Duration?) async throws {
        let id = state.withLock { s -> UInt64 in
            s.nextID += 1
            return s.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                // Cancellation may arrive before the sleeper is registered: the handler then
                // finds nothing to cancel, so check again here.
                let cancelled = Task.isCancelled
                let resumeNow: Bool = state.withLock { s in
                    if deadline <= s.now || cancelled { return true }
                    s.sleepers.append(Sleeper(id: id, deadline: deadline, continuation: continuation))
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let sleeper: Sleeper? = state.withLock { s in
                guard let i = s.sleepers.firstIndex(where: { $0.id == id }) else { return nil }
                return s.sleepers.remove(at: i)
            }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
        try Task.checkCancellation()
    }

    /// Moves time forward, waking every sleeper whose deadline is reached, one deadline at a
    /// time so that work scheduled at an earlier instant runs before later sleepers wake.
    public func advance(by duration: Swift.Duration) async {
        let target = now.advanced(by: duration)
        while true {
            let due: [Sleeper] = state.withLock { s in
                guard let earliest = s.sleepers.map(\.deadline).min(), earliest <= target else {
                    s.now = target
                    return []
                }
                s.now = max(s.now, earliest)
                let ready = s.sleepers.filter { $0.deadline <= earliest }
                s.sleepers.removeAll { $0.deadline <= earliest }
                return ready
            }
            if due.isEmpty { return }
            for sleeper in due { sleeper.continuation.resume() }
            await settle()
        }
    }

    /// Lets woken tasks run until they are asleep again or done.
    public func settle() async {
        for _ in 0..<50 { await Task.yield() }
    }

    /// Waits (in real time, briefly) until at least `count` tasks are asleep on this clock.
    public func waitForSleepers(_ count: Int, timeoutIterations: Int = 100_000) async -> Bool {
        for _ in 0..<timeoutIterations {
            if sleeperCount >= count { return true }
            await Task.yield()
        }
        return sleeperCount >= count
    }
}
