import CLinux
import ClosetConfig
import ClosetModel
import Logging
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

/// Keeps the agent's resident memory near what it really uses on a small board.
public enum MemoryTuning {
    /// One malloc arena: glibc otherwise gives each thread that allocates its own (the
    /// agent's blocking drivers run on a dozen dispatch threads), each keeping its freed
    /// memory: 3.6 MB more on the reference closet. The agent allocates little, so the
    /// shared arena's lock is never contended in practice.
    public static func limitMallocArenas() {
        _ = mallopt(M_ARENA_MAX, 1)
    }

    /// Gives code and constant pages back to the kernel (MADV_PAGEOUT), the executable's
    /// and the libraries', and free heap pages (malloc_trim). Start-up touches code used
    /// once (the config parser, OpenSSL and SQLite set-up, every driver's initialisation)
    /// and the kernel maps 64 kB around each touched page; afterwards only the pages the
    /// poll loop uses fault back in. Pages another process also maps stay (the kernel skips
    /// them). Returns the bytes of the mappings advised; kernels before 5.4 refuse
    /// (nothing happens, 0 returned).
    @discardableResult
    public static func releaseStartupPages(mapsText: String? = readMaps()) -> Int {
        _ = malloc_trim(0)
        guard let mapsText else { return 0 }
        var advised = 0
        for range in codeRanges(maps: mapsText) {
            guard let start = UnsafeMutableRawPointer(bitPattern: range.lowerBound) else { continue }
            // Random access from now on: a page fault reads that page, not 128 kB of
            // readahead that the next fault-around would map again.
            _ = madvise(start, range.count, MADV_RANDOM)
            if madvise(start, range.count, MADV_PAGEOUT) == 0 { advised += range.count }
        }
        return advised
    }

    /// The read-only, private, file-backed mappings in a `/proc/PID/maps` text (code and
    /// constants of the executable and the libraries; never writable data). Pure, for tests.
    static func codeRanges(maps: String) -> [Range<UInt>] {
        var ranges: [Range<UInt>] = []
        for line in maps.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 6, fields[1].hasPrefix("r"), !fields[1].contains("w"), fields[1].hasSuffix("p"),
                fields[5].hasPrefix("/")
            else { continue }
            let bounds = fields[0].split(separator: "-")
            guard bounds.count == 2, let low = UInt(bounds[0], radix: 16), let high = UInt(bounds[1], radix: 16), low < high
            else { continue }
            ranges.append(low..<high)
        }
        return ranges
    }

    public static func readMaps() -> String? {
        (try? readFileBytes("/proc/self/maps")).map { String(decoding: $0, as: UTF8.self) }
    }
}

/// Once the agent has settled (every device polled once, then `delay` for the first
/// uplink push and console start), releases the start-up code pages, once.
public struct StartupPageRelease<C: Clock>: Service where C.Instant == Timestamp, C.Duration == Duration {
    let store: StateStore
    let clock: C
    let delay: Duration
    let logger: Logger

    public init(store: StateStore, clock: C, delay: Duration = .seconds(60), logger: Logger) {
        self.store = store
        self.clock = clock
        self.delay = delay
        self.logger = logger
    }

    public func run() async throws {
        while await store.firstCompleteSnapshot == nil {
            if await sleepOrStop(clock, .seconds(1)) { return }
        }
        if await sleepOrStop(clock, delay) { return }
        let advised = MemoryTuning.releaseStartupPages()
        logger.info("released the start-up code pages (\(advised / 1024) kB of code mapped); they come back as used")
    }
}
