#if canImport(Glibc)
import Glibc
#endif
import ClosetModel
import Logging
import ServiceLifecycle

/// Tells systemd the agent is up (`READY=1`) and alive (`WATCHDOG=1`), and keeps the board's
/// hardware watchdog fed, both only while the poll loop is healthy: a wedged agent is
/// restarted by systemd, a wedged board by the watchdog.
public final class Supervision<C: Clock>: Service where C.Instant == Timestamp, C.Duration == Duration {
    let store: StateStore
    let clock: C
    let logger: Logger
    let notifySocket: String?
    /// systemd's WatchdogSec, from WATCHDOG_USEC; pinged at half of it.
    let systemdWatchdog: Duration?
    let hardwareDevice: String?
    /// The poll loop counts as healthy while an outcome arrived within this long.
    let stallLimit: Duration

    public init(
        store: StateStore, clock: C, logger: Logger, environment: [String: String], hardwareDevice: String?, stallLimit: Duration
    ) {
        self.store = store
        self.clock = clock
        self.logger = logger
        self.notifySocket = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        self.systemdWatchdog = environment["WATCHDOG_USEC"].flatMap(Int64.init).map { .microseconds($0) }
        self.hardwareDevice = hardwareDevice
        self.stallLimit = stallLimit
    }

    public func run() async throws {
        var watchdog: Int32 = -1
        if let hardwareDevice {
            watchdog = open(hardwareDevice, O_WRONLY | O_CLOEXEC)
            if watchdog < 0 {
                logger.error("hardware watchdog \(hardwareDevice): \(String(cString: strerror(errno))); not fed")
            } else {
                logger.info("hardware watchdog \(hardwareDevice): fed while polling is healthy")
            }
        }
        let started = clock.now
        notify("READY=1\nSTATUS=polling")
        let period = min(systemdWatchdog.map { $0 / 2 } ?? .seconds(5), .seconds(5))
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            let now = clock.now
            let last = await store.lastActivity ?? started
            if last.duration(to: now) <= stallLimit {
                if systemdWatchdog != nil { notify("WATCHDOG=1") }
                if watchdog >= 0 { _ = write(watchdog, "\0", 1) }
            } else {
                logger.critical("poll loop stalled: no outcome for \(last.duration(to: now).compactDescription); watchdogs not fed")
                notify("STATUS=poll loop stalled")
            }
            do { try await clock.sleep(until: clock.now.advanced(by: period), tolerance: nil) } catch { break }
        }
        notify("STOPPING=1")
        if watchdog >= 0 {
            // "Magic close": 'V' tells the driver this is a clean stop, not a hang.
            _ = write(watchdog, "V", 1)
            close(watchdog)
        }
    }

    /// One datagram to systemd's notify socket (`@name` is the abstract namespace).
    func notify(_ message: String) {
        guard let path = notifySocket else { return }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(path.utf8.prefix(107))
        if bytes.first == UInt8(ascii: "@") { bytes[0] = 0 }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + (bytes.first == 0 ? 0 : 1))
        _ = withUnsafePointer(to: &address) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                // Never block the agent on systemd: a full queue drops the ping, the next one follows.
                message.withCString { sendto(fd, $0, strlen($0), Int32(MSG_NOSIGNAL | MSG_DONTWAIT), sa, length) }
            }
        }
    }
}
