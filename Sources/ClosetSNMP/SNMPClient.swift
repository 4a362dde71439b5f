import ClosetModel
import Dispatch
import Synchronization

/// One agent (a switch, a UPS card): its net-snmp session on a queue of its own, since the
/// single-session API blocks. Different agents have different queues, so switches are polled
/// concurrently; requests to one agent go one at a time.
public final class SNMPClient: Sendable {
    public let target: SNMPTarget
    private let queue: DispatchQueue
    private let session = Mutex<SNMPSession?>(nil)
    private let sent = Atomic<Int>(0)

    public init(target: SNMPTarget) {
        self.target = target
        self.queue = DispatchQueue(label: "closet.snmp.\(target.host):\(target.port)")
    }

    /// PDUs sent so far (for benchmarks).
    public var requests: Int { sent.load(ordering: .relaxed) }

    /// Runs `body` with the session on this agent's queue.
    public func perform<T: Sendable>(_ body: @escaping @Sendable (SNMPRequester) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<T, any Error>) in
            queue.async { [self] in
                do {
                    let s = try session.withLock { s -> SNMPSession in
                        if let s { return s }
                        let made = try SNMPSession(target: target)
                        s = made
                        return made
                    }
                    let before = s.requests
                    let result = Result { try body(SNMPRequester(session: s)) }
                    sent.add(s.requests - before, ordering: .relaxed)
                    c.resume(with: result)
                } catch {
                    c.resume(throwing: error)
                }
            }
        }
    }
}

/// The requests available inside `SNMPClient.perform`.
public struct SNMPRequester {
    let session: SNMPSession

    public func get(_ oids: [OID]) throws(SNMPError) -> [(OID, SNMPValue)] {
        try session.get(oids)
    }

    public func getBulk(_ oids: [OID], nonRepeaters: Int = 0, maxRepetitions: Int) throws(SNMPError) -> [(OID, SNMPValue)] {
        try session.getBulk(oids, nonRepeaters: nonRepeaters, maxRepetitions: maxRepetitions)
    }

    /// Walks several table columns at once with GETBULK: each request asks every column not
    /// yet finished for its next `maxRepetitions` rows. `scalars` are fetched as non-repeaters
    /// in the first request (GETNEXT semantics: give the OID before the instance).
    /// Returns, per column, the values by row index (the OID suffix after the column).
    public func walk(columns: [OID], scalars: [OID] = [], maxRepetitions: Int) throws(SNMPError)
        -> (columns: [OID: [[UInt]: SNMPValue]], scalars: [OID: SNMPValue])
    {
        var result: [OID: [[UInt]: SNMPValue]] = [:]
        var cursors = Dictionary(uniqueKeysWithValues: columns.map { ($0, $0) })
        var active = columns
        var scalarValues: [OID: SNMPValue] = [:]
        var pendingScalars = scalars
        var rounds = 0
        while !active.isEmpty || !pendingScalars.isEmpty {
            rounds += 1
            if rounds > 10_000 { throw SNMPError(kind: .protocolError, description: "\(session.target): walk does not end") }
            let request = pendingScalars + active.map { cursors[$0]! }
            let answer = try session.getBulk(request, nonRepeaters: pendingScalars.count, maxRepetitions: maxRepetitions)
            for (i, (oid, value)) in answer.prefix(pendingScalars.count).enumerated() {
                scalarValues[pendingScalars[i]] = value.isException ? nil : value
                _ = oid
            }
            let repeated = answer.dropFirst(pendingScalars.count)
            pendingScalars = []
            guard !active.isEmpty else { break }
            var finished = Set<OID>()
            var advanced = false
            for (i, (oid, value)) in repeated.enumerated() {
                let column = active[i % active.count]
                if finished.contains(column) { continue }
                guard column.isPrefix(of: oid), value != .endOfMibView else {
                    finished.insert(column)
                    continue
                }
                guard cursors[column]! < oid else {
                    throw SNMPError(kind: .protocolError, description: "\(session.target): agent returned OIDs out of order at \(oid)")
                }
                cursors[column] = oid
                advanced = true
                if !value.isException { result[column, default: [:]][Array(oid.parts.dropFirst(column.parts.count))] = value }
            }
            if repeated.isEmpty { break }
            active.removeAll { finished.contains($0) }
            if !advanced && !active.isEmpty {
                throw SNMPError(kind: .protocolError, description: "\(session.target): GETBULK made no progress")
            }
        }
        return (result, scalarValues)
    }
}
