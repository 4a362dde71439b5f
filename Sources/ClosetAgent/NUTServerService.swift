import ClosetConfig
import ClosetModel
import ClosetNUT
import Dispatch
import Logging
import ServiceLifecycle
import Synchronization

/// Runs the NUT-compatible server: refreshes its tables from the site's state every
/// second, decides forced shutdown (FSD) from the configured floors, and logs both.
public final class NUTServerService<C: Clock>: Service where C.Instant == Timestamp, C.Duration == Duration {
    let server: NUTServer
    let store: StateStore
    let clock: C
    let logger: Logger
    private let export: Mutex<NUTExport>

    /// Binds the configured addresses now: a port in use stops the agent at start, named.
    public init(_ config: NUTServerConfiguration, store: StateStore, clock: C, logger: Logger) throws {
        do {
            server = try NUTServer(
                settings: .init(
                    addresses: config.listen, port: config.port, maxClients: config.maxClients,
                    users: config.users))
        } catch {
            throw AgentError("nut_server (line \(config.line)): cannot listen on \(error.detail)")
        }
        self.store = store
        self.clock = clock
        self.logger = logger
        self.export = Mutex(NUTExport(chargeFloor: config.fsdCharge, runtimeFloor: config.fsdRuntime))
    }

    public func run() async throws {
        logger.info("NUT server on \(server.bound.joined(separator: ", "))")
        await refresh()
        let server = self.server
        let logger = self.logger
        let loop = Task.detached { [self] in
            await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                DispatchQueue(label: "closet.nut.server").async {
                    server.run(
                        onForcedShutdown: { ups, peer in
                            logger.warning("NUT: \(peer) (a primary upsmon) set forced shutdown on '\(ups)'")
                            self.export.withLock { $0.force(ups, reason: "set by \(peer)") }
                        },
                        log: { logger.notice("NUT: \($0)") })
                    done.resume()
                }
            }
        }
        while !Task.isCancelled {
            if await sleepOrStop(clock, .seconds(1)) { break }
            await refresh()
        }
        server.stop()
        await loop.value
    }

    func refresh() async {
        let state = await store.state
        let (upses, set, cleared) = export.withLock { $0.update(state) }
        for (ups, reason) in set { logger.warning("NUT: forced shutdown (FSD) for '\(ups)': \(reason); upsmon clients shut down now") }
        for ups in cleared { logger.notice("NUT: mains power back on '\(ups)': FSD cleared") }
        server.update(upses)
    }
}
