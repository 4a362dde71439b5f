import ClosetModel
import Synchronization

/// A device driver for poll-loop tests: answers each poll from a script, records when it was
/// polled, and can hang forever ignoring cancellation, as a driver stuck in a blocking C call.
public final class ScriptedDriver: DeviceDriver, Sendable {
    public enum Step: Sendable {
        case readings([(VariableName, ReadingValue)])
        case fail(String)
        /// Never returns, and ignores cancellation.
        case hang
    }

    private let steps: Mutex<[Step]>
    private let repeatLast: Bool
    private let polls = Mutex<[Timestamp]>([])
    private let hung = Mutex<[CheckedContinuation<Void, Never>]>([])

    public init(_ steps: [Step], repeatLast: Bool = true) {
        self.steps = Mutex(steps)
        self.repeatLast = repeatLast
    }

    /// The `time` of every poll so far.
    public var pollTimes: [Timestamp] { polls.withLock { $0 } }

    public func poll(at time: Timestamp) async throws -> [Reading] {
        polls.withLock { $0.append(time) }
        let step: Step = steps.withLock { s in
            guard !s.isEmpty else { return .fail("script exhausted") }
            return s.count == 1 && repeatLast ? s[0] : s.removeFirst()
        }
        switch step {
        case .readings(let values):
            return values.map { Reading($0.0, $0.1, time: time) }
        case .fail(let reason):
            throw ScriptedFailure(description: reason)
        case .hang:
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in hung.withLock { $0.append(c) } }
            throw ScriptedFailure(description: "released")
        }
    }

    /// Lets every hung poll return (with an error), as a stuck call that finally comes back.
    public func releaseHung() {
        let waiting = hung.withLock { h -> [CheckedContinuation<Void, Never>] in
            defer { h.removeAll() }
            return h
        }
        for c in waiting { c.resume() }
    }
}

public struct ScriptedFailure: Error, CustomStringConvertible, Sendable {
    public var description: String
}
