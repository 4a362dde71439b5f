import ClosetConfig
import ClosetModel
import ClosetSensors
import Logging
import ServiceLifecycle

/// The assembled agent: one poller per configured device around one state store.
public final class Agent<C: Clock>: Service where C.Instant == Timestamp, C.Duration == Duration {
    public let configuration: AgentConfiguration
    public let store: StateStore
    public let pollers: [DevicePoller<C>]
    /// Shared by the drivers; holds the agent's vitals for its `agent` device.
    public let runtime = DriverRuntime()
    private let logger: Logger

    /// Builds the drivers; throws only for a device that cannot be set up at all.
    public init(configuration: AgentConfiguration, clock: C, logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
        var state = SiteState(site: configuration.site)
        for device in configuration.devices {
            state.register(device.name, policy: device.policy)
        }
        let store = StateStore(state: state, logger: logger, started: clock.now)
        self.store = store
        let runtime = self.runtime
        self.pollers = try configuration.devices.map { device in
            let driver: any DeviceDriver
            do {
                driver = try device.driver.makeDriver(runtime)
            } catch {
                throw AgentError("\(device.kind.rawValue) '\(device.name)' (\(device.driverName)): \(error)")
            }
            return DevicePoller(name: device.name, driver: driver, settings: device.poll, store: store, clock: clock)
        }
    }

    /// Polls every device on its own schedule until graceful shutdown or cancellation.
    public func run() async throws {
        logger.info(
            "polling \(pollers.count) devices for site '\(configuration.site)'",
            metadata: ["devices": .array(pollers.map { .string($0.name) })])
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                for poller in self.pollers {
                    group.addTask { await poller.run() }
                }
            }
        }
        await store.finishObservers()
        logger.info("pollers stopped")
    }

    /// Polls every device once, concurrently, each within its timeout; returns the state.
    public func pollAllOnce(clock: C) async -> SiteState {
        await withDiscardingTaskGroup { group in
            for poller in pollers {
                group.addTask {
                    let start = clock.now
                    let outcome = await poller.pollOnce(at: start)
                    await self.store.apply(outcome, device: poller.name, at: clock.now)
                }
            }
        }
        return await store.state
    }
}

/// The agent could not start.
public struct AgentError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
