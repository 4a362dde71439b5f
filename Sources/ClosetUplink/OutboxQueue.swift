import ClosetWire
import Dispatch
import Synchronization

/// The outbox on a queue of its own (SQLite blocks; the cooperative pool must not).
public final class OutboxQueue: @unchecked Sendable {
    private let queue = DispatchQueue(label: "closet.outbox")
    /// Touched only on `queue`.
    private let outbox: Outbox
    private let resync = Atomic<Bool>(false)

    /// The store lost track of the state (a delta without its base): the recorder's next
    /// state record must be a full snapshot.
    public func requestResync() { resync.store(true, ordering: .relaxed) }
    public func takeResyncRequest() -> Bool { resync.exchange(false, ordering: .relaxed) }

    public init(_ outbox: Outbox) {
        self.outbox = outbox
    }

    /// Runs `body` with the outbox on the outbox's queue.
    public func run<T: Sendable>(_ body: @escaping @Sendable (Outbox) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<T, any Error>) in
            queue.async { [outbox] in
                c.resume(with: Result { try body(outbox) })
            }
        }
    }

    /// Appends and, when `commit`, writes everything buffered; returns how many were refused.
    @discardableResult
    public func append(_ records: [WireRecord], commit: Bool) async throws -> Int {
        try await run { outbox -> Int in
            outbox.append(records)
            return commit ? try outbox.commit() : 0
        }
    }
}
