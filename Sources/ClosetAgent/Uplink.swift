import ClosetConfig
import ClosetModel
import ClosetUplink
import ClosetWire
import Dispatch
import Logging
import ServiceLifecycle

/// Turns the site's state into records on an interval and puts them in the outbox. Events
/// are committed at once; state records wait up to `commitInterval` (fewer SD-card writes).
public final class Recorder<C: Clock>: Service where C.Instant == Timestamp, C.Duration == Duration {
    let store: StateStore
    let outbox: OutboxQueue
    let clock: C
    let logger: Logger
    let configuration: UplinkConfiguration
    private let initialEncoder: RecordEncoder

    public init(store: StateStore, outbox: OutboxQueue, boot: UInt32, nextSeq: UInt64, configuration: UplinkConfiguration, clock: C, logger: Logger) {
        self.store = store
        self.outbox = outbox
        self.clock = clock
        self.logger = logger
        self.configuration = configuration
        self.initialEncoder = RecordEncoder(
            site: "", boot: boot, nextSeq: nextSeq, fullEvery: configuration.fullEvery, deadbands: configuration.deadbands)
    }

    public func run() async throws {
        var encoder = initialEncoder
        var failing = false
        var cursor = 0
        var lastCommit = clock.now
        var dirty = false
        // The first record waits one interval, so every device has had its first poll.
        while !Task.isShuttingDownGracefully {
            let clock = self.clock
            let interval = configuration.recordInterval
            do { try await cancelWhenGracefulShutdown { try await clock.sleep(until: clock.now.advanced(by: interval), tolerance: nil) } } catch { break }
            let snapshot = await store.snapshot(since: cursor)
            cursor = snapshot.cursor
            let now = clock.now
            if outbox.takeResyncRequest() {
                logger.notice("the store asked for a full snapshot")
                encoder.resync()
            }
            let records = encoder.records(state: snapshot.state, events: snapshot.events, at: now)
            dirty = dirty || !records.isEmpty
            let urgent = records.contains { $0.kind == .events || $0.kind == .dictionary }
            let due = lastCommit.duration(to: now) >= configuration.commitInterval
            do {
                let refused = try await outbox.append(records, commit: dirty && (urgent || due))
                if refused > 0 { logger.error("outbox full (\(configuration.outboxMaxBytes) bytes): \(refused) records refused") }
                if dirty && (urgent || due) {
                    lastCommit = now
                    dirty = false
                }
                if failing {
                    logger.notice("outbox \(configuration.outboxPath) writable again; the records held in memory are on disk")
                    failing = false
                }
            } catch {
                // Said once, not every interval; the records stay in memory until there is room.
                if !failing {
                    let held = (try? await outbox.run { $0.buffered }) ?? 0
                    logger.error("outbox \(configuration.outboxPath): \(error); \(held) records held in memory until there is room")
                }
                failing = true
            }
        }
        // Graceful stop: the last state and anything buffered go to disk.
        let snapshot = await store.snapshot(since: cursor)
        let records = encoder.records(state: snapshot.state, events: snapshot.events, at: clock.now)
        do {
            try await outbox.append(records, commit: true)
        } catch {
            logger.error("outbox at shutdown: \(error)")
        }
    }
}

/// Pushes the outbox to the store whenever there is something to send: events first, a
/// batch at a time, deleting only what the store says it has durably stored. Failures back
/// off exponentially with jitter up to `maxBackoff`; a store that asks to wait is obeyed.
public final class UplinkService<C: Clock>: Service where C.Instant == Timestamp, C.Duration == Duration {
    let outbox: OutboxQueue
    let push: StorePush
    let clock: C
    let logger: Logger
    let configuration: UplinkConfiguration
    let sink = 0
    /// How often an idle uplink looks for new records (a read, no writes).
    let idleCheck: Duration
    private let queue = DispatchQueue(label: "closet.uplink")

    public init(outbox: OutboxQueue, push: StorePush, configuration: UplinkConfiguration, clock: C, logger: Logger) {
        self.outbox = outbox
        self.push = push
        self.clock = clock
        self.logger = logger
        self.configuration = configuration
        self.idleCheck = min(configuration.recordInterval, .seconds(2))
    }

    public func run() async throws {
        var failures = 0
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let batch: [Outbox.Pending]
            let losses: (thinned: UInt64, refused: UInt64)
            do {
                let sink = self.sink
                let limit = configuration.batchBytes
                (batch, losses) = try await outbox.run { (try $0.pending(sink: sink, maxBytes: limit), try $0.losses()) }
            } catch {
                logger.error("outbox: \(error)")
                failures += 1
                if await pause(backoff(failures)) { break } else { continue }
            }
            if batch.isEmpty {
                // Nothing to send: look again shortly (events are committed at once).
                if await pause(idleCheck) { break } else { continue }
            }
            let now = clock.now.nanosecondsSinceEpoch / 1_000_000_000
            let push = self.push
            let outcome = await withCheckedContinuation { c in
                queue.async {
                    c.resume(returning: push.push(records: batch.map(\.body), thinned: losses.thinned, refused: losses.refused, now: now))
                }
            }
            switch outcome {
            case .stored(let through, let bytes, let resync):
                if resync { outbox.requestResync() }
                let sent = batch.map(\.seq).filter { $0 <= through }
                do {
                    let sink = self.sink
                    let status = "ok at \(Timestamp(nanosecondsSinceEpoch: now * 1_000_000_000)): \(sent.count) records, \(bytes) bytes"
                    try await outbox.run {
                        try $0.acknowledge(sink: sink, seqs: sent, reportedThinned: losses.thinned, reportedRefused: losses.refused, status: status)
                    }
                } catch {
                    logger.error("outbox: \(error)")
                }
                if failures > 0 { logger.notice("uplink to \(push.endpoint) works again after \(failures) failed attempts") }
                logger.debug("pushed \(sent.count) records (\(bytes) bytes) to \(push.endpoint)")
                failures = 0
            case .later(let delay, let reason):
                failures += 1
                await note(failures, reason, now)
                if await pause(max(delay ?? .zero, backoff(failures))) { break }
            case .refused(let status, let reason):
                // A wrong key or site will not fix itself: wait the longest, say so each time.
                failures += 1
                logger.error("store refused the batch (\(status)): \(reason); check [uplink] key and agent.site")
                await recordStatus("refused at \(Timestamp(nanosecondsSinceEpoch: now * 1_000_000_000)): \(reason)")
                if await pause(configuration.maxBackoff) { break }
            case .failed(let reason):
                failures += 1
                await note(failures, reason, now)
                if await pause(backoff(failures)) { break }
            }
        }
    }

    private func note(_ failures: Int, _ reason: String, _ now: Int64) async {
        // The first failure and then every tenth: an outage is not a log flood.
        if failures == 1 || failures % 10 == 0 {
            logger.warning("uplink: \(reason) (attempt \(failures); records stay in the outbox)")
        }
        await recordStatus("failed at \(Timestamp(nanosecondsSinceEpoch: now * 1_000_000_000)): \(reason)")
    }

    private func recordStatus(_ text: String) async {
        _ = try? await outbox.run { try $0.setStatus("last_push", text) }
    }

    func backoff(_ failures: Int) -> Duration { backoffDelay(failures, max: configuration.maxBackoff) }

    private func pause(_ d: Duration) async -> Bool { await sleepOrStop(clock, d) }
}

/// The second sink: every record as InfluxDB line protocol to a `/write` endpoint (InfluxDB
/// 1.x, VictoriaMetrics), with its own cursor in the outbox, in sequence order.
public final class InfluxService<C: Clock>: Service where C.Instant == Timestamp, C.Duration == Duration {
    let outbox: OutboxQueue
    let endpoint: HTTPEndpoint
    let client: HTTPClient
    let site: String
    let clock: C
    let logger: Logger
    let configuration: UplinkConfiguration
    let sink = 1
    private let queue = DispatchQueue(label: "closet.influx")

    public init(outbox: OutboxQueue, endpoint: HTTPEndpoint, client: HTTPClient, site: String, configuration: UplinkConfiguration, clock: C, logger: Logger) {
        self.outbox = outbox
        self.endpoint = endpoint
        self.client = client
        self.site = site
        self.configuration = configuration
        self.clock = clock
        self.logger = logger
    }

    public func run() async throws {
        var converter = InfluxLines(site: site)
        var failures = 0
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let batch: [Outbox.Pending]
            do {
                let sink = self.sink
                let limit = configuration.batchBytes
                batch = try await outbox.run { try $0.pending(sink: sink, maxBytes: limit, eventsFirst: false) }
            } catch {
                logger.error("outbox: \(error)")
                batch = []
            }
            if batch.isEmpty {
                if await pause(min(configuration.recordInterval, .seconds(2))) { break } else { continue }
            }
            var next = converter
            var lines: [String] = []
            for p in batch {
                guard let record = try? WireRecord(decoding: p.body) else { continue }
                lines += next.lines(record)
            }
            let body = Array(lines.joined(separator: "\n").utf8)
            let (client, endpoint, bandwidth) = (self.client, self.endpoint, configuration.bandwidth)
            let result: Result<HTTPReply, HTTPFailure> = lines.isEmpty
                ? .success(HTTPReply(status: 204, headers: [:], body: []))
                : await withCheckedContinuation { c in
                    queue.async {
                        c.resume(returning: Result { () throws(HTTPFailure) in
                            try client.send("POST", endpoint, headers: [("Content-Type", "text/plain; charset=utf-8")], body: body, pace: bandwidth)
                        })
                    }
                }
            switch result {
            case .success(let reply) where (200..<300).contains(reply.status):
                converter = next
                failures = 0
                let sink = self.sink
                let seqs = batch.map(\.seq)
                do { try await outbox.run { try $0.acknowledge(sink: sink, seqs: seqs) } } catch { logger.error("outbox: \(error)") }
            case .success(let reply):
                failures += 1
                if failures == 1 || failures % 10 == 0 {
                    logger.warning("influx \(endpoint): \(reply.status) \(String(decoding: reply.body.prefix(200), as: UTF8.self))")
                }
                if await pause(backoff(failures)) { break }
            case .failure(let error):
                failures += 1
                if failures == 1 || failures % 10 == 0 { logger.warning("influx \(endpoint): \(error)") }
                if await pause(backoff(failures)) { break }
            }
        }
    }

    func backoff(_ failures: Int) -> Duration { backoffDelay(failures, max: configuration.maxBackoff) }

    private func pause(_ d: Duration) async -> Bool { await sleepOrStop(clock, d) }
}

/// Exponential backoff from 1 s, doubled per failure, at most `max`, with jitter (50-100 %)
/// so a province of agents does not come back in step.
func backoffDelay(_ failures: Int, max limit: Duration) -> Duration {
    var d = Duration.seconds(1)
    for _ in 1..<min(Swift.max(failures, 1), 30) { d = d * 2 }
    return min(d, limit) * Double.random(in: 0.5...1.0)
}

/// Sleeps on `clock`; true when the agent is stopping (graceful shutdown or cancellation).
func sleepOrStop<C: Clock>(_ clock: C, _ d: Duration) async -> Bool where C.Instant == Timestamp, C.Duration == Duration {
    do {
        try await cancelWhenGracefulShutdown { try await clock.sleep(until: clock.now.advanced(by: d), tolerance: nil) }
        return Task.isShuttingDownGracefully
    } catch {
        return true
    }
}
