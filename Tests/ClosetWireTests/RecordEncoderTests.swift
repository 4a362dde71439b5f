import ClosetModel
import ClosetTesting
import ClosetWireProto
import SwiftProtobuf
import Testing

@testable import ClosetWire

/// The agent's hand-written encoder against the generated swift-protobuf code, and the
/// reference closet's record sizes.
@Suite struct RecordEncoderTests {
    let t0 = Timestamp(secondsSinceEpoch: 1_795_608_000)

    func encoder() -> RecordEncoder { RecordEncoder(site: "so-tttt-hanoi", boot: 3, nextSeq: 1000) }

    func decode(_ bytes: [UInt8]) throws -> Closet_V1_Record { try Closet_V1_Record(serializedBytes: bytes) }

    @Test func theFirstRecordsAreADictionaryThenAFullSnapshot() throws {
        var e = encoder()
        let (state, events) = ReferenceCloset.state(at: t0)
        let records = e.records(state: state, events: events, at: t0)
        #expect(records.map(\.kind) == [.dictionary, .events, .full])
        #expect(records.map(\.seq) == [1000, 1001, 1002])
        let dict = try decode(records[0].encoded())
        #expect(dict.version == 1 && dict.boot == 3 && dict.seq == 1000 && dict.site == "so-tttt-hanoi")
        #expect(dict.time == 1_795_608_000)
        let d = dict.dictionary
        #expect(d.id == e.dictionary.id)
        #expect(d.devices.map(\.name) == ["ups", "board", "probe-rack1", "probe-rack2", "probe-door", "probe-ceiling", "core1", "core2", "access1", "access2", "access3", "board-nics", "openfiler", "agent"])
        #expect(d.devices[8].portIndex.count == 52 && d.devices[8].portName[0] == "Gi1/0/1")
        #expect(d.channels.first { $0.variable == "ambient.temperature" }?.exponent == -1)
        #expect(d.channels.contains { $0.variable == "ups.status" })
        #expect(!d.channels.contains { $0.variable.hasPrefix("port") || $0.variable == "backup.verified" })

        let full = try decode(records[2].encoded()).full
        #expect(full.dictionary == d.id)
        // Every present channel's value, decoded through the dictionary, is the reading.
        var present: [Int] = []
        for c in 0..<d.channels.count where full.present.count > c / 8 && full.present[c / 8] & (1 << UInt8(c % 8)) != 0 { present.append(c) }
        #expect(present.count == full.values.count)
        let temp = try #require(present.firstIndex { d.channels[$0].variable == "ambient.temperature" && d.devices[Int(d.channels[$0].device)].name == "probe-rack1" })
        #expect(full.values[temp] == 243)
        let charge = try #require(present.firstIndex { d.channels[$0].variable == "battery.charge" })
        #expect(full.values[charge] == 100)
        // access1: every 7th of 52 ports down.
        let access1 = try #require(full.ports.first { $0.device == 8 })
        let downs = (0..<52).filter { i in access1.down.count > i / 8 && access1.down[i / 8] & (1 << UInt8(i % 8)) != 0 }
        #expect(downs.map { $0 + 1 } == [7, 14, 21, 28, 35, 42, 49])
        #expect(access1.adminDown.isEmpty)
        // Levels: the access switches with down desk ports are WARN (default port rule).
        func level(_ i: Int) -> UInt8 { (Array(full.levels)[i / 2] >> (i % 2 == 0 ? 0 : 4)) & 0xF }
        #expect(level(0) == 0 && level(8) == 2 && level(6) == 0)
    }

    @Test func fullSnapshotAndOnePortDeltaFitTheirBudgets() throws {
        var e = encoder()
        let (state, events) = ReferenceCloset.state(at: t0)
        let first = e.records(state: state, events: events, at: t0)
        let full = first.last!.encoded()
        // Ten seconds later one uplink port on core1 goes down.
        let t1 = t0.advanced(by: .seconds(10))
        var down = Set(ReferenceCloset.switches.flatMap { s in s.ports == 52 ? stride(from: 7, through: 52, by: 7).map { "\(s.name):\($0)" } : [] })
        down.insert("core1:24")
        var s2 = state
        var events2: [Event] = []
        for p in ReferenceCloset.polls(at: t1, downPorts: down) { events2 += s2.apply(.readings(p.readings), device: p.name, at: t1) }
        let second = e.records(state: s2, events: events2, at: t1)
        #expect(second.map(\.kind) == [.events, .delta])
        let delta = second.last!.encoded()
        let eventRecord = second.first!.encoded()
        print("reference closet: full snapshot \(full.count) bytes, one-port delta \(delta.count) bytes, its event record \(eventRecord.count) bytes")
        #expect(full.count <= 256)
        #expect(delta.count <= 48)
        let d = try decode(delta).delta
        #expect(d.base == first.last!.seq)
        #expect(d.ports == [(23 << 6 | 6) << 2 | 1])
        #expect(d.levels == [6 << 3 | 2])
        #expect(d.changed.isEmpty)
        let ev = try decode(eventRecord).events.events
        #expect(ev.contains { $0.device == 6 && $0.variable == "port.24.oper" && $0.level == 2 && $0.reason.contains("Gi1/0/24") })
    }

    @Test func deadbandsKeepSmallMovesOutOfDeltas() throws {
        var e = encoder()
        let (state, events) = ReferenceCloset.state(at: t0)
        _ = e.records(state: state, events: events, at: t0)
        func poll(_ temp: Double, _ t: Timestamp) -> SiteState {
            var s = state
            for p in ReferenceCloset.polls(at: t, temperature: temp) { _ = s.apply(.readings(p.readings), device: p.name, at: t) }
            return s
        }
        // +0.3 degC: under the 0.5 degC deadband, nothing to send.
        let t1 = t0.advanced(by: .seconds(10))
        #expect(e.records(state: poll(24.6, t1), events: [], at: t1).isEmpty)
        // +0.6 degC from what the store has: all four probes move.
        let t2 = t0.advanced(by: .seconds(20))
        let r = e.records(state: poll(24.9, t2), events: [], at: t2)
        let d = try decode(try #require(r.first).encoded()).delta
        #expect(d.changed.count == 4)
        #expect(d.values.first == 249)
    }

    @Test func aFullSnapshotGoesAtLeastEveryFullEvery() {
        var e = RecordEncoder(site: "s", boot: 1, nextSeq: 1, fullEvery: .seconds(60))
        let (state, events) = ReferenceCloset.state(at: t0)
        _ = e.records(state: state, events: events, at: t0)
        #expect(e.records(state: state, events: [], at: t0.advanced(by: .seconds(30))).isEmpty)
        #expect(e.records(state: state, events: [], at: t0.advanced(by: .seconds(61))).map(\.kind) == [.full])
    }

    @Test func batchesDecodeWithTheGeneratedCode() throws {
        var e = encoder()
        let (state, events) = ReferenceCloset.state(at: t0)
        let records = e.records(state: state, events: events, at: t0).map { r in
            var r = r
            r.site = ""
            return r.encoded()
        }
        let batch = try Closet_V1_Batch(serializedBytes: encodeBatch(site: "so-tttt-hanoi", records: records, thinned: 5, refused: 0))
        #expect(batch.site == "so-tttt-hanoi")
        #expect(batch.records.map(\.seq) == [1000, 1001, 1002])
        #expect(batch.losses.thinned == 5)
        // The generated code's own encoding is byte-identical to ours.
        let again: [UInt8] = try batch.records[0].serializedBytes()
        #expect(again == records[0])
    }
}
