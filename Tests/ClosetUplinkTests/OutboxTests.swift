import ClosetModel
import ClosetTesting
import ClosetWire
import Testing

@testable import ClosetUplink

@Suite struct OutboxTests {
    func record(_ seq: UInt64, _ kind: WireRecord.Kind, time: Int64, size: Int = 100) -> WireRecord {
        let body: WireRecord.Body
        switch kind {
        case .full: body = .full(WireSnapshot(dictionary: 1, levels: [0], present: [1], values: Array(repeating: 7, count: size), ports: []))
        case .delta: body = .delta(WireDelta(base: seq - 1, changed: [0], values: [Int64(seq)]))
        case .dictionary: body = .dictionary(WireDictionary(id: 1))
        case .events: body = .events([WireEvent(time: time, device: 0, kind: "health", variable: "x", old: "ok", new: "warn", level: 2, reason: "r")])
        }
        return WireRecord(boot: 1, seq: seq, time: time, body: body)
    }

    @Test func committedRecordsSurviveAReopenAndSequencesAreNeverReused() throws {
        let tree = FixtureTree(prefix: "closet-outbox")
        defer { tree.remove() }
        let path = tree.path("outbox.db")
        do {
            let o = try Outbox(path: path)
            #expect(o.boot == 1 && o.nextSeq == 1)
            o.append([record(1, .dictionary, time: 0), record(2, .full, time: 0)])
            try o.commit()
            // Buffered, never committed: lost in the "crash" below.
            o.append([record(3, .delta, time: 10)])
        }
        let o = try Outbox(path: path)
        #expect(o.boot == 2)
        #expect(o.nextSeq == 3)
        #expect(try o.pending(sink: 0).map(\.seq) == [1, 2])
        try o.acknowledge(sink: 0, seqs: [1, 2])
        #expect(try o.stats().records == 0)
        // The counter survives an empty outbox.
        #expect(try Outbox(path: path).nextSeq == 3)
    }

    @Test func eventsAndDictionariesGoFirstThenStateInOrder() throws {
        let tree = FixtureTree(prefix: "closet-outbox")
        defer { tree.remove() }
        let o = try Outbox(path: tree.path("o.db"))
        o.append([record(1, .dictionary, time: 0), record(2, .full, time: 0), record(3, .delta, time: 10), record(4, .events, time: 10), record(5, .delta, time: 20)])
        try o.commit()
        #expect(try o.pending(sink: 0).map(\.seq) == [1, 4, 2, 3, 5])
        // A byte budget cuts the batch, never below one record.
        #expect(try o.pending(sink: 0, maxBytes: 1).map(\.seq) == [1])
    }

    @Test func twoSinksEachSeeEveryRecordAndDeletionWaitsForBoth() throws {
        let tree = FixtureTree(prefix: "closet-outbox")
        defer { tree.remove() }
        let o = try Outbox(path: tree.path("o.db"), sinks: 2)
        o.append((1...4).map { record($0, $0 == 1 ? .full : .delta, time: Int64($0)) })
        try o.commit()
        try o.acknowledge(sink: 0, seqs: [1, 2, 3, 4])
        #expect(try o.pending(sink: 0).isEmpty)
        #expect(try o.pending(sink: 1).map(\.seq) == [1, 2, 3, 4])
        try o.acknowledge(sink: 1, seqs: [1, 2])
        #expect(try o.stats().records == 2)
    }

    @Test func aFullOutboxThinsOldSnapshotsToOnePerHourBeforeRefusing() throws {
        let tree = FixtureTree(prefix: "closet-outbox")
        defer { tree.remove() }
        let o = try Outbox(path: tree.path("o.db"), maxBytes: 12_000)
        // Three hours of a full snapshot every 10 minutes, deltas between, an event each hour.
        var seq: UInt64 = 0
        var records: [WireRecord] = []
        for minute in stride(from: 0, to: 180, by: 2) {
            seq += 1
            records.append(record(seq, minute % 10 == 0 ? .full : .delta, time: Int64(minute * 60)))
            if minute % 60 == 0 {
                seq += 1
                records.append(record(seq, .events, time: Int64(minute * 60)))
            }
        }
        // Then more than fits.
        for minute in stride(from: 180, to: 400, by: 2) {
            seq += 1
            records.append(record(seq, .full, time: Int64(minute * 60), size: 200))
        }
        o.append(records)
        try o.commit()
        let stats = try o.stats()
        #expect(stats.bytes <= 12_000)
        #expect(stats.thinned > 0)
        let kept = try o.pending(sink: 0, maxBytes: 1 << 30)
        // Every event is kept.
        #expect(kept.filter { $0.kind == .events }.count == 3)
        // The first hour keeps exactly one full snapshot and no deltas.
        let firstHour = kept.filter { $0.time < 3600 && $0.kind != .events }
        #expect(firstHour.map(\.kind) == [.full])
        // Losses are reported, then cleared once the store acknowledged them.
        let losses = try o.losses()
        #expect(losses.thinned == stats.thinned)
        try o.acknowledge(sink: 0, seqs: [], reportedThinned: losses.thinned, reportedRefused: losses.refused)
        #expect(try o.losses().thinned == 0)
    }

    @Test func whenOnlyEventsAreLeftNewRecordsAreRefusedAndCounted() throws {
        let tree = FixtureTree(prefix: "closet-outbox")
        defer { tree.remove() }
        let o = try Outbox(path: tree.path("o.db"), maxBytes: 600)
        o.append((1...40).map { record($0, .events, time: Int64($0)) })
        let refused = try o.commit()
        #expect(refused > 0)
        #expect(try o.stats().refused == UInt64(refused))
        #expect(try o.stats().bytes <= 600)
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// The outbox on a filesystem that fills up: a tmpfs of 256 kB when this machine lets the
/// test mount one (root), else SQLite's own page limit standing in for the full disk.
@Suite(.serialized) struct OutboxDiskFullTests {
    func record(_ seq: UInt64) -> WireRecord {
        WireRecord(boot: 1, seq: seq, time: Int64(seq), body: .full(WireSnapshot(dictionary: 1, levels: [0], present: [1], values: (0..<200).map { Int64($0 * 7919 + Int(seq)) }, ports: [])))
    }

    @Test func aFullDiskKeepsRecordsInMemoryAndLosesNoneWhenSpaceReturns() throws {
        let tree = FixtureTree(prefix: "closet-tinyfs")
        defer { tree.remove() }
        let mountPoint = tree.path("tiny")
        mkdir(mountPoint, 0o755)
        let mounted = system("mount -t tmpfs -o size=256k closet-test '\(mountPoint)' 2>/dev/null") == 0
        defer { if mounted { _ = system("umount '\(mountPoint)'") } }
        let o = try Outbox(path: mountPoint + "/outbox.db", maxBytes: 64 << 20)
        if !mounted { try o.limitPagesForTest(60) }
        var seq: UInt64 = 0
        var failure: String?
        for _ in 0..<400 {
            seq += 1
            o.append([record(seq)])
            do {
                try o.commit()
            } catch {
                failure = "\(error)"
                break
            }
        }
        let message = try #require(failure, "the filesystem never filled up")
        #expect(message.contains("database or disk is full"), "\(message)")
        #expect(o.buffered > 0, "the record that did not fit is still held")
        // More records arrive while the disk is full: held too.
        for _ in 0..<5 {
            seq += 1
            o.append([record(seq)])
            #expect(throws: (any Error).self) { try o.commit() }
        }
        // Space returns.
        if mounted {
            #expect(system("mount -o remount,size=16m '\(mountPoint)'") == 0)
        } else {
            try o.limitPagesForTest(1_000_000)
        }
        try o.commit()
        #expect(o.buffered == 0)
        let stored = try o.pending(sink: 0, maxBytes: 1 << 30, maxRecords: 100_000).map(\.seq)
        #expect(stored == Array(1...seq), "every record is on disk once")
    }
}
