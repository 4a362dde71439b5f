import ClosetConfig
import ClosetModel
import ClosetSensors
import ClosetUplink
import Logging
import ServiceLifecycle

/// Builds the outbox and the services that fill and drain it.
public enum UplinkAssembly {
    public static func services<C: Clock>(
        _ config: UplinkConfiguration, site: String, store: StateStore, vitals: AgentVitals, clock: C, logger: Logger
    ) throws -> [ServiceGroupConfiguration.ServiceConfiguration] where C.Instant == Timestamp, C.Duration == Duration {
        guard let endpoint = HTTPEndpoint(config.url) else { throw AgentError("uplink.url: not a URL: \(config.url)") }
        let outbox: Outbox
        do {
            outbox = try Outbox(path: config.outboxPath, maxBytes: config.outboxMaxBytes, sinks: config.influxURL == nil ? 1 : 2)
        } catch {
            throw AgentError("outbox \(config.outboxPath): \(error)")
        }
        let queue = OutboxQueue(outbox)
        let stats = try outbox.stats()
        logger.info(
            "outbox \(config.outboxPath): \(stats.records) records waiting, boot \(stats.boot), next sequence \(stats.nextSeq)")
        vitals.outbox = AgentVitals.Outbox(path: config.outboxPath, starts: stats.boot) {
            guard let now = try? await queue.run({ try $0.stats() }) else { return nil }
            return (now.records, now.bytes)
        }
        let client: HTTPClient
        do {
            client = try HTTPClient(caFile: config.caFile, timeout: config.timeout)
        } catch {
            throw AgentError("uplink: \(error)")
        }
        let push = StorePush(endpoint: endpoint, site: site, key: config.key, client: client, bandwidth: config.bandwidth)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        if let influx = config.influxURL {
            guard let endpoint = HTTPEndpoint(influx) else { throw AgentError("uplink.influx_url: not a URL: \(influx)") }
            services.append(
                .init(
                    service: InfluxService(outbox: queue, endpoint: endpoint, client: client, site: site, configuration: config, clock: clock, logger: logger),
                    successTerminationBehavior: .ignore))
        }
        return services + [
            .init(
                service: Recorder(
                    store: store, outbox: queue, boot: stats.boot, nextSeq: stats.nextSeq, configuration: config,
                    clock: clock, logger: logger),
                successTerminationBehavior: .ignore),
            .init(service: UplinkService(outbox: queue, push: push, configuration: config, clock: clock, logger: logger), successTerminationBehavior: .ignore),
        ]
    }
}
