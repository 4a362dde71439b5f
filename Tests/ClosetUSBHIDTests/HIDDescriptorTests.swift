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

@Suite(.enabled(if: haveHIDFixtures, "../shared/fixtures/usb-hid is absent: no real descriptors to parse"))
struct HIDDescriptorFixtureTests {
    @Test func everyReportNUTDecodedOnTheAPCBackUPSIsAFieldHere() throws {
        let bytes = try descriptor("apc_back-ups_bk650m2-ch_051d-0002.rdesc.hex")
        #expect(bytes.count == 743)
        let fields = try HIDDescriptorParser.parse(bytes)
        let text = try String(contentsOfFile: hidFixtures + "apc_back-ups_bk650m2-ch_051d-0002.reports.txt", encoding: .utf8)
        var checked = 0
        for line in text.split(separator: "\n") where line.hasPrefix("REPORT") {
            // ... -> PATH UPS.PowerSummary.RemainingCapacity type=Feature id=0x0c offset=0 size=8 value=100
            guard let arrow = line.range(of: "-> PATH ") else { continue }
            let words = line[arrow.upperBound...].split(separator: " ")
            let path = String(words[0])
            var attributes: [String: String] = [:]
            for w in words.dropFirst() { let kv = w.split(separator: "="); if kv.count == 2 { attributes[String(kv[0])] = String(kv[1]) } }
            let id = UInt8(attributes["id"]!.dropFirst(2), radix: 16)!
            let found = fields.contains {
                $0.path == path && $0.kind.rawValue == attributes["type"] && $0.reportID == id
                    && $0.bitOffset == Int(attributes["offset"]!) && $0.bitSize == Int(attributes["size"]!)
            }
            #expect(found, "no field \(path) \(attributes["type"]!) id \(id) offset \(attributes["offset"]!) size \(attributes["size"]!)")
            checked += 1
        }
        #expect(checked > 80)
    }

    @Test func valuesDecodeFromTheRealReportBytesAsNUTDecodedThem() throws {
        let fields = try HIDDescriptorParser.parse(try descriptor("apc_back-ups_bk650m2-ch_051d-0002.rdesc.hex"))
        let text = try String(contentsOfFile: hidFixtures + "apc_back-ups_bk650m2-ch_051d-0002.reports.txt", encoding: .utf8)
        var checked = 0
        for line in text.split(separator: "\n") where line.hasPrefix("REPORT") && !line.hasPrefix("REPORT err") {
            guard let arrow = line.range(of: "-> PATH ") else { continue }
            let bytes = line[line.index(line.startIndex, offsetBy: 11)..<arrow.lowerBound].split(separator: " ").compactMap { UInt8($0, radix: 16) }
            let words = line[arrow.upperBound...].split(separator: " ")
            var a: [String: String] = [:]
            for w in words.dropFirst() { let kv = w.split(separator: "="); if kv.count == 2 { a[String(kv[0])] = String(kv[1]) } }
            guard let expected = a["value"].flatMap({ Int64($0) }) else { continue }
            let field = fields.first {
                $0.path == words[0] && $0.kind.rawValue == a["type"] && $0.bitOffset == Int(a["offset"]!) && $0.bitSize == Int(a["size"]!)
                    && $0.reportID == UInt8(a["id"]!.dropFirst(2), radix: 16)!
            }
            #expect(field?.value(in: bytes) == expected, "\(line)")
            checked += 1
        }
        #expect(checked > 70)
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
