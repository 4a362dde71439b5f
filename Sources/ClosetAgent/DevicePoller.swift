import ClosetConfig
import ClosetModel
import Logging
import Synchronization

/// Polls one device on its own interval, with its own timeout, forever.
///
/// A poll that overruns its timeout is abandoned, not awaited: a driver stuck in a blocking
/// call (a hung serial read, a stale NFS handle) must not hold up this loop, let alone the
/// other devices'. The abandoned poll stays owned here as `inFlight`; until it returns, the
/// device is reported stale without piling a second poll onto the stuck one.
public final class DevicePoller<C: Clock>: Sendable where C.Instant == Timestamp, C.Duration == Duration {
    public let name: String
    public let settings: PollSettings
    private let driver: any DeviceDriver
    private let store: StateStore
    private let clock: C
    private let inFlight = Mutex<(task: Task<Void, Never>, since: Timestamp)?>(nil)

    public init(name: String, driver: any DeviceDriver, settings: PollSettings, store: StateStore, clock: C) {
        self.name = name
        self.driver = driver
        self.settings = settings
        self.store = store
        self.clock = clock
    }

    /// Polls until cancelled.
    public func run() async {
        var failures = 0
        while !Task.isCancelled {
            let start = clock.now
            let outcome = await pollOnce(at: start)
            // A poll cut short by shutdown says nothing about the device.
            if Task.isCancelled { break }
            await store.apply(outcome, device: name, at: clock.now)
            if case .failed = outcome { failures += 1 } else { failures = 0 }
            let next = start.advanced(by: delay(afterFailures: failures))
            do {
                try await clock.sleep(until: max(next, clock.now), tolerance: nil)
            } catch {
                break
            }
        }
        inFlight.withLock { $0?.task.cancel() }
    }

    /// Polls once, giving up after the timeout. Never throws: a failure is an outcome.
    public func pollOnce(at start: Timestamp) async -> PollOutcome {
        if let stuck = inFlight.withLock({ $0 }) {
            return .failed(
                reason: "previous poll has not returned since \(stuck.since) (driver stuck; timeout \(settings.timeout.compactDescription))")
        }
        let result = OneShot<(outcome: PollOutcome, fromDriver: Bool)>()
        let driver = self.driver
        let timeout = settings.timeout
        let task = Task { [self] in
            let outcome: PollOutcome
            do {
                outcome = .readings(try await driver.poll(at: start))
            } catch is CancellationError {
                outcome = .failed(reason: "poll cancelled")
            } catch {
                outcome = .failed(reason: String(describing: error))
            }
            result.resume((outcome, true))
            // Forget the task only once it really ends, so a stuck driver is never polled twice.
            inFlight.withLock { if $0?.since == start { $0 = nil } }
        }
        inFlight.withLock { $0 = (task, start) }
        let clock = self.clock
        let (outcome, fromDriver) = await withTaskGroup(of: Void.self) { group in
            group.addTask {
                guard (try? await clock.sleep(until: start.advanced(by: timeout), tolerance: nil)) != nil else { return }
                result.resume((.failed(reason: "timed out after \(timeout.compactDescription)"), false))
            }
            let first = await withTaskCancellationHandler {
                await result.value
            } onCancel: {
                result.resume((.failed(reason: "agent shutting down"), false))
            }
            group.cancelAll()
            return first
        }
        if fromDriver {
            inFlight.withLock { if $0?.since == start { $0 = nil } }
        } else {
            task.cancel()
        }
        return outcome
    }

    func delay(afterFailures failures: Int) -> Duration {
        settings.delay(afterFailures: failures)
    }
}

/// A value delivered once by whichever side comes first; later deliveries are ignored.
final class OneShot<Value: Sendable>: Sendable {
    private let state = Mutex<(value: Value?, waiter: CheckedContinuation<Value, Never>?)>((nil, nil))

    func resume(_ value: Value) {
        let waiter: CheckedContinuation<Value, Never>? = state.withLock { s in
            guard s.value == nil else { return nil }
            s.value = value
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume(returning: value)
    }

    var value: Value {
        get async {
            await withCheckedContinuation { continuation in
                let ready: Value? = state.withLock { s in
                    if let v = s.value { return v }
                    s.waiter = continuation
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        }
    }
}
