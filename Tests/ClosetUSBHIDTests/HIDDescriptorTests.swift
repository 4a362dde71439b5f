import ClosetModel
import ClosetTesting
import Foundation
import Testing

@testable import ClosetUSBHID

let hidFixtures = repositoryRoot + "/../shared/fixtures/usb-hid/"
let haveHIDFixtures = FileManager.default.fileExists(atPath: hidFixtures + "apc_back-ups_bk650m2-ch_051d-0002.rdesc.hex")

func descriptor(_ name: String) throws -> [UInt8] {
    let text = try String(contentsOfFile: hidFixtures + name, encoding: .utf8)
    return text.split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { UInt8($0, radix: 16) }
}

/// One line of the fixture's reports.txt: the bytes NUT read and how it decoded them.
struct NUTReport {
    var kind: String
    var bytes: [UInt8]
    var path: String
    var type: String
    var id: UInt8
    var offset: Int
    var size: Int
    var value: Int64?

    func matches(_ f: HIDField) -> Bool {
        f.path == path && f.kind.rawValue == type && f.reportID == id && f.bitOffset == offset && f.bitSize == size
    }
}

/// `REPORT <kind> <hex bytes> -> PATH <path> type=<T> id=0x<NN> offset=<bit> size=<bits> value=<v>`
func nutReports(_ name: String) throws -> [NUTReport] {
    let text = try String(contentsOfFile: hidFixtures + name, encoding: .utf8)
    return text.split(separator: "\n").compactMap { line -> NUTReport? in
        guard line.hasPrefix("REPORT "), let arrow = line.range(of: "-> PATH ") else { return nil }
        let head = line[..<arrow.lowerBound].split(separator: " ")
        let words = line[arrow.upperBound...].split(separator: " ")
        var a: [String: String] = [:]
        for w in words.dropFirst() { let kv = w.split(separator: "="); if kv.count == 2 { a[String(kv[0])] = String(kv[1]) } }
        guard let type = a["type"], let id = a["id"].flatMap({ UInt8($0.dropFirst(2), radix: 16) }),
            let offset = a["offset"].flatMap({ Int($0) }), let size = a["size"].flatMap({ Int($0) })
        else { return nil }
        return NUTReport(
            kind: String(head[1]), bytes: head.dropFirst(2).compactMap { UInt8($0, radix: 16) }, path: String(words[0]),
            type: type, id: id, offset: offset, size: size, value: a["value"].flatMap { Int64($0) })
    }
}

@Suite(.enabled(if: haveHIDFixtures, "../shared/fixtures/usb-hid is absent: no real descriptors to parse"))
struct HIDDescriptorFixtureTests {
    @Test func everyReportNUTDecodedOnTheAPCBackUPSIsAFieldHere() throws {
        let bytes = try descriptor("apc_back-ups_bk650m2-ch_051d-0002.rdesc.hex")
        #expect(bytes.count == 743)
        let fields = try HIDDescriptorParser.parse(bytes)
        let reports = try nutReports("apc_back-ups_bk650m2-ch_051d-0002.reports.txt")
        #expect(reports.count > 80)
        for r in reports {
            #expect(fields.contains { r.matches($0) }, "no field \(r.path) \(r.type) id \(r.id) offset \(r.offset) size \(r.size)")
        }
    }

    @Test func valuesDecodeFromTheRealReportBytesAsNUTDecodedThem() throws {
        let fields = try HIDDescriptorParser.parse(try descriptor("apc_back-ups_bk650m2-ch_051d-0002.rdesc.hex"))
        let reports = try nutReports("apc_back-ups_bk650m2-ch_051d-0002.reports.txt").filter { $0.kind != "err" && $0.value != nil }
        #expect(reports.count > 70)
        for r in reports {
            #expect(fields.first { r.matches($0) }?.value(in: r.bytes) == r.value, "\(r.path) \(r.type) \(r.bytes)")
        }
    }

    @Test func aReportShorterThanDeclaredGivesNoValueNotGarbage() throws {
        let fields = try HIDDescriptorParser.parse(try descriptor("apc_back-ups_bk650m2-ch_051d-0002.rdesc.hex"))
        // Report 0x16 is declared 5 bytes and the device sends 3: its status bits fit in those
        // (the rest is padding); a report cut shorter than a field gives nil for that field.
        let status = fields.filter { $0.reportID == 0x16 }
        #expect(!status.isEmpty && status.allSatisfy { $0.value(in: [0x16, 0x0E, 0x00]) != nil })
        #expect(status.allSatisfy { $0.value(in: [0x16]) == nil })
        let runtime = try #require(fields.first { $0.reportID == 0x0F && $0.kind == .feature })
        #expect(runtime.value(in: [0x0F, 0x22]) == nil, "16-bit field, one byte sent")
    }

    @Test func theMappingReproducesNUTsReadingsFromTheSameReports() throws {
        let fields = try HIDDescriptorParser.parse(try descriptor("apc_back-ups_bk650m2-ch_051d-0002.rdesc.hex"))
        var reports: [UInt8: [UInt8]] = [:]
        for r in try nutReports("apc_back-ups_bk650m2-ch_051d-0002.reports.txt") where r.bytes.count > 1 {
            if (reports[r.id]?.count ?? 0) < r.bytes.count { reports[r.id] = r.bytes }
        }
        let readings = HIDMapping.readings(fields: fields, reports: reports, at: Timestamp(secondsSinceEpoch: 0))
        let v = Dictionary(uniqueKeysWithValues: readings.map { ($0.name.rawValue, $0.value) })
        // The .dev dump beside the fixture: battery.charge 100, battery.runtime 3618,
        // battery.voltage 13.5, input.voltage 232.0, ups.status "OL DISCHRG" (a firmware quirk).
        #expect(v["battery.charge"] == .number(100))
        #expect(v["battery.runtime"] == .number(3618))
        #expect(v["battery.voltage"] == .number(13.5), "1350 with unit exponent 5: 10^(5-7) V")
        #expect(v["input.voltage"] == .number(232))
        #expect(v["ups.status"] == .status([.onLine, .discharging]))
        #expect(v["ups.load"] != nil)
    }

    @Test func theAPCLogicalMaximumQuirkIsReadUnsigned() throws {
        let fields = try HIDDescriptorParser.parse(try descriptor("apc_back-ups_bk650m2-ch_051d-0002.rdesc.hex"))
        let capacity = try #require(fields.first { $0.reportID == 0x0C && $0.kind == .feature })
        #expect(capacity.path == "UPS.PowerSummary.RemainingCapacity")
        #expect(capacity.logicalMinimum == 0 && capacity.logicalMaximum == 255, "LogMax < LogMin on report 0x0c reads as 255")
    }

    @Test func theSantakMGEDescriptorParses() throws {
        let bytes = try descriptor("santak_tg-box-850_0463-ffff.rdesc.hex")
        #expect(bytes.count == 926)
        let fields = try HIDDescriptorParser.parse(bytes)
        func field(_ id: UInt8, _ path: String) -> HIDField? { fields.first { $0.reportID == id && $0.path == path } }
        // Report 06 carries RemainingCapacity (8 bits) then RunTimeToEmpty (32 bits).
        #expect(field(0x06, "UPS.PowerSummary.RemainingCapacity")?.bitOffset == 0)
        #expect(field(0x06, "UPS.PowerSummary.RunTimeToEmpty")?.bitOffset == 8)
        #expect(field(0x06, "UPS.PowerSummary.RunTimeToEmpty")?.bitSize == 32)
        #expect(field(0x01, "UPS.PowerSummary.PresentStatus.ACPresent")?.bitSize == 1)
        #expect(fields.contains { $0.reportID == 0x12 && $0.path.hasSuffix("ConfigVoltage") }, "ConfigVoltage 220 V in report 0x12")
    }

    @Test func truncatedAndMutatedDescriptorsGiveTypedErrorsNeverACrash() throws {
        let bytes = try descriptor("apc_back-ups_bk650m2-ch_051d-0002.rdesc.hex")
        var errors = 0
        for length in 0..<bytes.count {
            do { _ = try HIDDescriptorParser.parse(Array(bytes.prefix(length))) } catch { errors += 1 }
        }
        #expect(errors > bytes.count / 2, "most cuts leave a collection open or an item short")
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<3000 {
            var mutated = bytes
            for _ in 0..<Int.random(in: 1...8, using: &rng) {
                mutated[Int.random(in: 0..<mutated.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
            _ = try? HIDDescriptorParser.parse(mutated)
        }
    }
}

@Suite struct HIDDescriptorErrorTests {
    @Test(arguments: [
        ([0x05, 0x84, 0x09, 0x04, 0xA1, 0x01] as [UInt8], HIDDescriptorError.Kind.unbalanced, "1 collection(s) not closed at the end"),
        ([0xC0], .unbalanced, "End Collection without a collection at byte 0"),
        ([0x26, 0xFF], .truncated, "item 0x26 needs 2 data bytes, the descriptor ends at byte 2"),
        ([0xFE, 0x05, 0x00, 0x01], .truncated, "long item of 5 bytes cut off at byte 0"),
        ([0x85, 0x00], .badSize, "report id 0 at byte 0 (must be 1..255)"),
        ([0xB4], .unbalanced, "Pop without Push at byte 0"),
        ([0x75, 0x40, 0x95, 0x01, 0x81, 0x02], .badSize, "report size 64 x count 1 at byte 4"),
    ])
    func malformedDescriptorsNameTheProblem(bytes: [UInt8], kind: HIDDescriptorError.Kind, message: String) {
        do {
            _ = try HIDDescriptorParser.parse(bytes)
            Issue.record("parsed \(bytes)")
        } catch {
            #expect(error.kind == kind)
            #expect(error.description == message)
        }
    }

    @Test func usagesPrintLikeNUT() {
        #expect(HIDUsages.name(0x0085_0066) == "RemainingCapacity")
        #expect(HIDUsages.name(0xFF86_0052) == "ff860052")
        #expect(HIDUsages.name(0x0084_0004) == "UPS")
    }
}
