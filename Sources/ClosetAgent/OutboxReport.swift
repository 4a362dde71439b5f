import ClosetModel
import ClosetUplink

#if canImport(Glibc)
import Glibc
#endif

/// `closet-agent outbox`.
public enum OutboxReport {
    public static func print(path: String, now: Timestamp) -> Int32 {
        do {
            let (s, lastPush) = try Outbox.inspect(path: path)
            let seconds = now.nanosecondsSinceEpoch / 1_000_000_000
            let oldest = s.oldestTime.map { "\(Duration.seconds(max(0, seconds - $0)).compactDescription) ago" } ?? "-"
            Swift.print(
                """
                outbox \(path)
                  records waiting   \(s.records)
                  bytes             \(s.bytes)
                  oldest record     \(oldest)
                  thinned           \(s.thinned) (not yet reported to the store)
                  refused           \(s.refused)
                  boot              \(s.boot)
                  next sequence     \(s.nextSeq)
                  last push         \(lastPush ?? "never")
                """)
            return 0
        } catch {
            writeStandardError("outbox: \(error)\n")
            return 1
        }
    }
}

/// All of standard input.
public func readStandardInput() -> [UInt8] {
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65_536)
    while true {
        let n = read(0, &chunk, chunk.count)
        if n <= 0 { break }
        out.append(contentsOf: chunk[0..<n])
    }
    return out
}
