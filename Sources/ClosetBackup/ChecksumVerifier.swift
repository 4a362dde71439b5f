#if canImport(Glibc)
import Glibc
#endif
import ClosetConfig
import ClosetModel
import Synchronization

/// Streams files through SHA-256 against a checksum list, with a fixed 1 MiB buffer (memory
/// does not grow with the file) and an optional byte-rate cap so a verification never starves
/// the NAS or the link. Blocking: run it on a thread of its own.
public struct ChecksumVerifier: Sendable {
    /// Bytes per second; nil: as fast as the disk and the CPU go.
    public var rateLimit: Int64?
    public var bufferSize: Int

    public init(rateLimit: Int64? = nil, bufferSize: Int = 1 << 20) {
        self.rateLimit = rateLimit
        self.bufferSize = bufferSize
    }

    public enum Outcome: Sendable, Hashable, CustomStringConvertible {
        case ok(files: Int, bytes: Int64)
        /// The first problem, naming the file.
        case failed(String)
        case noManifest

        /// The `backup.verified` word.
        public var description: String {
            switch self {
            case .ok: "ok"
            case .failed(let why): "failed: \(why)"
            case .noManifest: "no manifest"
            }
        }
    }

    /// Progress of a running verification.
    public struct Progress: Sendable, Hashable {
        public var file: String
        public var done: Int64
        public var total: Int64
        public var percent: Double { total > 0 ? Double(done) / Double(total) * 100 : 100 }
    }

    /// Verifies the entries of `manifestPath` (those in `only`, if given) relative to `base`.
    /// `progress` is called about every 1% and at the end; `cancelled` is checked per chunk.
    public func verify(
        manifestPath: String, base: String, only: Set<String>? = nil,
        progress: (Progress) -> Void = { _ in }, cancelled: () -> Bool = { false }
    ) -> Outcome {
        let text: String
        do {
            text = try readTextFile(manifestPath)
        } catch {
            return .failed(error.description)
        }
        let manifest: ChecksumManifest
        do {
            manifest = try ChecksumManifest.parse(text)
        } catch {
            return .failed("\(manifestPath) \(error)")
        }
        let entries = manifest.entries.filter { only?.contains($0.name) ?? true }
        guard !entries.isEmpty else { return .noManifest }
        var sizes: [Int64] = []
        for entry in entries {
            var st = stat()
            guard stat(base + "/" + entry.name, &st) == 0 else {
                return .failed("\(entry.name): missing (\(errnoText(errno)))")
            }
            sizes.append(Int64(st.st_size))
        }
        let total = sizes.reduce(0, +)
        var done: Int64 = 0
        var buffer = [UInt8](repeating: 0, count: bufferSize)
        let hasher = SHA256Hasher()
        let started = ContinuousClock.now
        var lastReport: Int64 = -1
        let step = max(total / 100, 1)
        for entry in entries {
            let path = base + "/" + entry.name
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { return .failed("\(entry.name): \(errnoText(errno))") }
            defer { close(fd) }
            _ = posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL)
            while true {
                if cancelled() { return .failed("\(entry.name): verification cancelled") }
                let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n < 0 {
                    if errno == EINTR { continue }
                    return .failed("\(entry.name): \(errnoText(errno))")
                }
                if n == 0 { break }
                buffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
                done += Int64(n)
                if let rate = rateLimit, rate > 0 {
                    // Where the byte count says we may be by now; sleep off any lead.
                    let due = started + .nanoseconds(Int64(Double(done) / Double(rate) * 1e9))
                    let lead = ContinuousClock.now.duration(to: due)
                    if lead > .milliseconds(1) { sleepBlocking(lead) }
                }
                if done - lastReport >= step {
                    lastReport = done
                    progress(Progress(file: entry.name, done: done, total: total))
                }
            }
            let digest = hasher.finish()
            if digest != entry.digest {
                return .failed("\(entry.name): checksum mismatch (\(manifestFileName(manifestPath)) line \(entry.line))")
            }
        }
        progress(Progress(file: entries.last!.name, done: done, total: total))
        return .ok(files: entries.count, bytes: done)
    }

    private func manifestFileName(_ path: String) -> String {
        path.lastIndex(of: "/").map { String(path[path.index(after: $0)...]) } ?? path
    }
}

/// Sleeps the calling (dedicated, non-cooperative) thread.
func sleepBlocking(_ d: Duration) {
    let ns = d.nanoseconds
    var ts = timespec(tv_sec: Int(ns / 1_000_000_000), tv_nsec: Int(ns % 1_000_000_000))
    var left = timespec()
    while nanosleep(&ts, &left) != 0 && errno == EINTR { ts = left }
}
