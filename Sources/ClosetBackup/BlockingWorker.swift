import Dispatch
import Synchronization

/// Runs blocking filesystem calls on a thread of their own and stops waiting for them after a
/// timeout. A stale NFS handle can block a `stat` for ever: the call stays stuck on its thread,
/// the caller gets a timeout, and no second call is started on that share until the first
/// returns, so a hung mount costs one thread, not one per poll.
public final class BlockingWorker: Sendable {
    private let queue: DispatchQueue
    private let busy = Mutex<(what: String, since: ContinuousClock.Instant)?>(nil)

    public init(label: String) {
        queue = DispatchQueue(label: label)
    }

    public enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        /// The call did not return within the timeout (it may still return later).
        case timedOut(what: String, after: Duration)
        /// An earlier call is still stuck; nothing new was started.
        case stillStuck(what: String, for: Duration)

        public var description: String {
            switch self {
            case .timedOut(let what, let after):
                "no answer from \(what) within \(after.compactDescription) (hung mount or stale NFS handle?)"
            case .stillStuck(let what, let d):
                "\(what) has not answered for \(Duration.seconds(d.components.seconds).compactDescription) (hung mount or stale NFS handle?)"
            }
        }
    }

    /// Whether a call is still running, and since when.
    public var isBusy: Bool { busy.withLock { $0 != nil } }

    public func run<T: Sendable>(
        _ what: String, timeout: Duration, _ body: @escaping @Sendable () -> T
    ) async -> Result<T, Failure> {
        let now = ContinuousClock.now
        if let stuck = busy.withLock({ current -> (String, ContinuousClock.Instant)? in
            if let current { return (current.what, current.since) }
            current = (what, now)
            return nil
        }) {
            return .failure(.stillStuck(what: stuck.0, for: stuck.1.duration(to: now)))
        }
        let once = Once<Result<T, Failure>>()
        return await withCheckedContinuation { (c: CheckedContinuation<Result<T, Failure>, Never>) in
            once.arm(c)
            let timer = Task {
                try? await Task.sleep(for: timeout)
                if !Task.isCancelled { once.resume(.failure(.timedOut(what: what, after: timeout))) }
            }
            queue.async { [self] in
                let value = body()
                busy.withLock { $0 = nil }
                timer.cancel()
                once.resume(.success(value))
            }
        }
    }
}

/// A continuation resumed by whichever of two racers comes first.
private final class Once<T: Sendable>: Sendable {
    private let continuation = Mutex<CheckedContinuation<T, Never>?>(nil)

    func arm(_ c: CheckedContinuation<T, Never>) { continuation.withLock { $0 = c } }

    func resume(_ value: T) {
        continuation.withLock { c in
            c?.resume(returning: value)
            c = nil
        }
    }
}
