import ClosetModel
import ClosetTesting
import Foundation
import Logging
import Testing

@testable import ClosetAgent

/// systemd's side of sd_notify: a datagram socket the test binds and reads.
final class NotifySocket {
    let path: String
    let fd: Int32

    init(path: String) {
        self.path = path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8) + [0]) }
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
    }

    deinit { close(fd) }

    /// The next message, or nil after `timeout` of real time. Polls without blocking: a
    /// blocked cooperative thread could starve the very task under test on 2 cores.
    func next(timeout: Duration = .seconds(5)) async -> String? {
        let deadline = ContinuousClock.now + timeout
        var buffer = [UInt8](repeating: 0, count: 512)
        repeat {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if n > 0 { return String(decoding: buffer[0..<n], as: UTF8.self) }
            try? await Task.sleep(for: .milliseconds(5))
        } while ContinuousClock.now < deadline
        return nil
    }
}

@Suite struct SupervisionTests {
    @Test func readyThenWatchdogPingsOnlyWhilePollingAndAMagicCloseAtTheEnd() async throws {
        let tree = FixtureTree(prefix: "closet-supervision")
        defer { tree.remove() }
        let systemd = NotifySocket(path: tree.path("notify"))
        let watchdog = tree.file("watchdog", "")
        let clock = ManualClock()
        var state = SiteState(site: "t")
        state.register("probe", policy: DevicePolicy(kind: .sensor, driver: "t"))
        let store = StateStore(state: state, logger: Logger(label: "t", factory: { _ in SwiftLogNoOpLogHandler() }))
        await store.apply(.readings([]), device: "probe", at: clock.now)
        let supervision = Supervision(
            store: store, clock: clock, logger: Logger(label: "t", factory: { _ in SwiftLogNoOpLogHandler() }),
            environment: ["NOTIFY_SOCKET": systemd.path, "WATCHDOG_USEC": "10000000"], hardwareDevice: watchdog,
            stallLimit: .seconds(60))
        let running = Task { try await supervision.run() }

        #expect(await systemd.next() == "READY=1\nSTATUS=polling")
        #expect(await systemd.next() == "WATCHDOG=1")
        for _ in 0..<3 {
            #expect(await eventually("asleep") { clock.sleeperCount == 1 })
            await clock.advance(by: .seconds(5))
            await store.apply(.readings([]), device: "probe", at: clock.now)
            #expect(await systemd.next() == "WATCHDOG=1")
        }
        // The poll loop stops producing outcomes (last one at 15 s): pings go on until the
        // 60 s stall limit, at 20..75 s, and stop at 80 s.
        var messages: [String] = []
        for _ in 0..<13 {
            #expect(await eventually("asleep") { clock.sleeperCount == 1 })
            await clock.advance(by: .seconds(5))
            #expect(await eventually("asleep") { clock.sleeperCount == 1 })
            while let m = await systemd.next(timeout: .milliseconds(50)) { messages.append(m) }
        }
        running.cancel()
        _ = try? await running.value
        while let m = await systemd.next(timeout: .milliseconds(300)) { messages.append(m) }
        #expect(messages == Array(repeating: "WATCHDOG=1", count: 12) + ["STATUS=poll loop stalled", "STOPPING=1"])
        let fed = try Data(contentsOf: URL(fileURLWithPath: watchdog))
        #expect(Array(fed) == Array(repeating: 0, count: 16) + [UInt8(ascii: "V")], "fed at start and each healthy tick, then the magic close")
    }
}

@Suite struct FirstSnapshotTests {
    @Test func theFirstCompleteSnapshotIsWhenEveryDeviceHasAnsweredOrFailedOnce() async {
        var state = SiteState(site: "t")
        for name in ["ups", "probe", "core1"] { state.register(name, policy: DevicePolicy(kind: .sensor, driver: "t")) }
        let t0 = Timestamp(secondsSinceEpoch: 1_800_000_000)
        let store = StateStore(state: state, logger: Logger(label: "t", factory: { _ in SwiftLogNoOpLogHandler() }), started: t0)
        await store.apply(.readings([]), device: "ups", at: t0.advanced(by: .milliseconds(300)))
        await store.apply(.readings([]), device: "ups", at: t0.advanced(by: .milliseconds(400)))
        await store.apply(.failed(reason: "timeout"), device: "core1", at: t0.advanced(by: .milliseconds(500)))
        #expect(await store.firstCompleteSnapshot == nil, "the probe has not been polled yet")
        await store.apply(.readings([]), device: "probe", at: t0.advanced(by: .milliseconds(800)))
        #expect(await store.firstCompleteSnapshot == t0.advanced(by: .milliseconds(800)))
        await store.apply(.readings([]), device: "probe", at: t0.advanced(by: .seconds(10)))
        #expect(await store.firstCompleteSnapshot == t0.advanced(by: .milliseconds(800)), "only the first")
    }
}

@Suite struct MemoryTuningTests {
    @Test func onlyReadOnlyPrivateFileMappingsAreReleased() {
        let maps = """
            55d0c0000000-55d0c0b47000 r-xp 00000000 fe:00 16515710                   /usr/bin/closet-agent
            55d0c0b47000-55d0c0b8d000 r--p 00b46000 fe:00 16515710                   /usr/bin/closet-agent
            55d0c0b8d000-55d0c0cdf000 rw-p 00b8c000 fe:00 16515710                   /usr/bin/closet-agent
            55d0c1000000-55d0c1200000 rw-p 00000000 00:00 0                          [heap]
            7f0000000000-7f0000400000 r-xp 00000000 fe:00 123                        /usr/lib/x86_64-linux-gnu/libcrypto.so.3
            7f0000400000-7f0000401000 r--s 00000000 fe:00 124                        /var/lib/closet/outbox.db-shm
            7f0000500000-7f0000501000 r--p 00000000 00:00 0
            7f0000600000-7f0000602000 r-xp 00000000 00:00 0                          [vdso]
            7f0000700000-7f0000701000 r-xp 00000000 fe:00 125                        /opt/closet/my agent
            garbage line
            """
        #expect(
            MemoryTuning.codeRanges(maps: maps) == [
                0x55d0_c000_0000..<0x55d0_c0b4_7000, 0x55d0_c0b4_7000..<0x55d0_c0b8_d000,
                0x7f00_0000_0000..<0x7f00_0040_0000, 0x7f00_0070_0000..<0x7f00_0070_1000,
            ])
    }

    @Test func releasingThisProcessesPagesLeavesItWorking() {
        MemoryTuning.limitMallocArenas()
        #expect(MemoryTuning.releaseStartupPages() > 0, "this test's own code was advised")
        #expect([3, 1, 2].sorted() == [1, 2, 3], "code faults back in")
    }
}
