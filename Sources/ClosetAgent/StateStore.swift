import ClosetModel
import Logging

/// Owns the site's state: applies poll outcomes through the pure `SiteState` machine, logs
/// every event, and keeps the recent ones for the console and `once`.
public actor StateStore {
    public private(set) var state: SiteState
    /// The newest events, oldest first, at most `eventCapacity`.
    public private(set) var recentEvents: [Event] = []
    public let eventCapacity: Int
    private let logger: Logger
    private var observers: [AsyncStream<Event>.Continuation] = []
    /// When a poll outcome last arrived: the poll loop is alive while this keeps moving.
    public private(set) var lastActivity: Timestamp?
    /// Events ever applied; the recorder's cursor into `recentEvents`.
    public private(set) var eventCount = 0
    /// When the agent started, and the devices not yet polled once (answered or failed):
    /// the first complete snapshot is logged with the time it took.
    private let started: Timestamp?
    private var unpolled: Set<String>
    public private(set) var firstCompleteSnapshot: Timestamp?

    public init(state: SiteState, logger: Logger, eventCapacity: Int = 500, started: Timestamp? = nil) {
        self.state = state
        self.logger = logger
        self.eventCapacity = eventCapacity
        self.started = started
        self.unpolled = Set(state.devices.map(\.name))
    }

    /// Applies one poll's outcome; returns the events it caused.
    @discardableResult
    public func apply(_ outcome: PollOutcome, device: String, at time: Timestamp) -> [Event] {
        let events = state.apply(outcome, device: device, at: time)
        lastActivity = time
        if unpolled.remove(device) != nil, unpolled.isEmpty {
            firstCompleteSnapshot = time
            let failed = state.devices.filter { $0.lastSuccess == nil }.count
            let after = started.map { " \(($0.duration(to: time).seconds * 1000).rounded() / 1000) s after start" } ?? ""
            logger.notice("first complete snapshot\(after): \(state.devices.count) devices, \(failed) not answering")
        }
        for event in events {
            let level: Logger.Level = switch event.level {
            case .crit: .error
            case .warn, .unknown: .warning
            case .ok: .notice
            }
            logger.log(level: level, "\(event)")
            for observer in observers { observer.yield(event) }
        }
        recentEvents.append(contentsOf: events)
        eventCount += events.count
        if recentEvents.count > eventCapacity { recentEvents.removeFirst(recentEvents.count - eventCapacity) }
        if case .failed(let reason) = outcome, events.isEmpty {
            logger.debug("'\(device)' still failing: \(reason)")
        }
        return events
    }

    /// The state now and the events after cursor `since` (an earlier `eventCount`), with the
    /// new cursor. Events older than the capacity are gone.
    public func snapshot(since: Int) -> (state: SiteState, events: [Event], cursor: Int) {
        let fresh = min(eventCount - since, recentEvents.count)
        return (state, fresh > 0 ? Array(recentEvents.suffix(fresh)) : [], eventCount)
    }

    /// A stream of every event from now on.
    public func events() -> AsyncStream<Event> {
        let (stream, continuation) = AsyncStream.makeStream(of: Event.self, bufferingPolicy: .bufferingNewest(1000))
        observers.append(continuation)
        return stream
    }

    public func finishObservers() {
        for observer in observers { observer.finish() }
        observers.removeAll()
    }
}
