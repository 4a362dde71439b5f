import ClosetConfig
import Synchronization

/// What the agent knows about itself beyond `/proc`: filled in by the parts that own the
/// facts (the uplink's outbox), read by the `agent` device's polls.
public final class AgentVitals: Sendable {
    /// The outbox, once the uplink has opened it.
    public struct Outbox: Sendable {
        /// Where it lives: its filesystem's free space is the one that matters.
        public var path: String
        /// Starts of the agent counted by the outbox (this one included).
        public var starts: UInt32
        /// Records waiting and their bytes, read when the `agent` device polls.
        public var size: @Sendable () async -> (records: Int, bytes: Int64)?

        public init(path: String, starts: UInt32, size: @escaping @Sendable () async -> (records: Int, bytes: Int64)?) {
            self.path = path
            self.starts = starts
            self.size = size
        }
    }

    private let state = Mutex<Outbox?>(nil)

    public init() {}

    public var outbox: Outbox? {
        get { state.withLock { $0 } }
        set { state.withLock { $0 = newValue } }
    }
}

extension DriverRuntime {
    /// The agent's vitals, one per running agent.
    public var vitals: AgentVitals { shared("agent.vitals") { AgentVitals() } }
}
