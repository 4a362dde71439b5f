import ClosetModel
import Dispatch
import Synchronization

/// One Modbus line or TCP connection, shared by every unit id on it.
///
/// libmodbus blocks, so transactions run on this bus's own serial dispatch queue, never on
/// the cooperative pool; the queue also keeps one unit's request and answer from interleaving
/// with another's on a shared RS-485 line.
public final class ModbusBus: Sendable {
    public let endpoint: ModbusEndpoint
    private let queue: DispatchQueue
    private let connection: ModbusConnection
    private let count = Atomic<Int>(0)

    public init(endpoint: ModbusEndpoint, responseTimeout: Duration, byteTimeout: Duration) {
        self.endpoint = endpoint
        self.queue = DispatchQueue(label: "closet.modbus.\(endpoint.busKey)")
        self.connection = ModbusConnection(endpoint: endpoint, responseTimeout: responseTimeout, byteTimeout: byteTimeout)
    }

    /// Requests sent on this bus so far (for benchmarks and `probe`).
    public var transactions: Int { count.load(ordering: .relaxed) }

    /// Runs `reads` for `unit` back to back on the bus and returns the raw snapshot.
    public func read(_ reads: [ModbusRead], unit: Int) async throws -> RegisterSnapshot {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<RegisterSnapshot, any Error>) in
            queue.async { [self] in
                var snapshot = RegisterSnapshot()
                do {
                    for read in reads {
                        self.count.add(1, ordering: .relaxed)
                        let words = try connection.read(read, unit: unit)
                        if read.table.isBits {
                            snapshot.store(read, bits: words.map { $0 != 0 })
                        } else {
                            snapshot.store(read, words: words)
                        }
                    }
                    continuation.resume(returning: snapshot)
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }

    /// Closes the line (the next read reopens it).
    public func close() {
        queue.async { [connection] in connection.close() }
    }
}
