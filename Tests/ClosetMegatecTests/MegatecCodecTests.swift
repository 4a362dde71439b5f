import ClosetModel
import ClosetTesting
import Foundation
import Testing

@testable import ClosetMegatec

/// `../shared/fixtures/megatec-q1/responses.txt`, read in place: id -> (command, reply).
let megatecFixturesPath = repositoryRoot + "/../shared/fixtures/megatec-q1/responses.txt"
let megatecFixtures: [String: (command: String, reply: String)] = {
    guard let text = try? String(contentsOfFile: megatecFixturesPath, encoding: .utf8) else { return [:] }
    var out: [String: (String, String)] = [:]
    for line in text.split(separator: "\n") where !line.hasPrefix("#") {
        let cols = line.split(separator: "\t", omittingEmptySubsequences: false)
        if cols.count >= 3 { out[String(cols[0])] = (String(cols[1]), String(cols[2])) }
    }
    return out
}()
let haveFixtures = !megatecFixtures.isEmpty

func reply(_ id: String) -> [UInt8] { Array((megatecFixtures[id]!.reply + "\r").utf8) }

@Suite(.enabled(if: haveFixtures, "../shared/fixtures/megatec-q1 is absent: real Q1 replies not available"))
struct MegatecFixtureTests {
    let t0 = Timestamp(secondsSinceEpoch: 0)

    @Test func theProtocolDocumentsExampleLine() throws {
        let s = try MegatecCodec.parseStatus(reply("spec-example"))
        #expect(s.inputVoltage == 208.4 && s.inputFaultVoltage == 140.0 && s.outputVoltage == 208.4)
        #expect(s.load == 34 && s.inputFrequency == 59.9 && s.batteryVoltage == 2.05 && s.temperature == 35.0)
        #expect(s.bits == [false, false, true, true, false, false, false, false])
        let r = values(MegatecCodec.readings(s, ratings: nil, at: t0))
        #expect(r["ups.status"] == .status([.onLine, .bypass]), "b5 on an online unit is bypass")
        #expect(r["ups.alarm"] == .text("UPS failed"))
        #expect(r["ups.type"] == .text("online"))
        #expect(r["battery.charge"] == nil, "no charge without the F ratings")
    }

    @Test func perCellBatteryVoltageIsScaledToTheStringWithRatings() throws {
        let s = try MegatecCodec.parseStatus(reply("spec-example"))
        let ratings = try MegatecCodec.parseRatings(reply("nut-comment-f"))
        #expect(ratings == MegatecCodec.Ratings(voltage: 220, current: 0, batteryVoltage: 24, frequency: 50))
        let r = values(MegatecCodec.readings(s, ratings: ratings, at: t0))
        #expect(r["battery.voltage"] == .number(24.6), "2.05 V x 12 cells")
        #expect(r["battery.charge"] == .number(73.1))
    }

    @Test func aStandbyUnitOnLine() throws {
        let s = try MegatecCodec.parseStatus(reply("nut-comment-q1"))
        let r = values(MegatecCodec.readings(s, ratings: try MegatecCodec.parseRatings(reply("nut-comment-f")), at: t0))
        #expect(r["ups.status"] == .status([.onLine]))
        #expect(r["ups.type"] == .text("offline / line interactive"))
        #expect(r["battery.voltage"] == .number(27.5))
        #expect(r["battery.charge"] == .number(100))
        #expect(r["input.voltage"] == .number(226) && r["ups.load"] == .number(14))
    }

    @Test func aRealUnitOnBattery() throws {
        let r = values(MegatecCodec.readings(try MegatecCodec.parseStatus(reply("armac-r2000i-psw-onbatt")), ratings: nil, at: t0))
        #expect(r["ups.status"] == .status([.onBattery]))
        #expect(r["input.voltage"] == .number(0) && r["input.frequency"] == .number(0))
        #expect(r["output.voltage"] == .number(227) && r["ups.load"] == .number(2))
        #expect(r["battery.voltage"] == .number(46.8) && r["ups.temperature"] == .number(56))
    }

    @Test func anUnsupportedTemperatureIsLeftOutNotAnError() throws {
        let r = values(MegatecCodec.readings(try MegatecCodec.parseStatus(reply("greencell-ups01lcd")), ratings: nil, at: t0))
        #expect(r["ups.temperature"] == nil)
        #expect(r["battery.voltage"] == .number(13.7))
        #expect(r["ups.beeper.status"] == .text("enabled"))
        #expect(r["ups.status"] == .status([.onLine]))
    }

    @Test func identityIsFixedWidth() throws {
        #expect(
            try MegatecCodec.parseIdentity(reply("microsinus-i"))
                == MegatecCodec.Identity(company: "", model: "MicroSinus", version: "V5.15C0503"))
    }

    @Test func nakMeansNotSupported() {
        #expect(throws: MegatecCodec.ParseError.self) { try MegatecCodec.parseIdentity(reply("armac-r3000i-id-nak")) }
        do {
            _ = try MegatecCodec.parseStatus(Array("NAK\r".utf8))
        } catch {
            #expect(error.kind == .notSupported)
            #expect(error.description == "the UPS does not support Q1 (answered \"NAK\")")
        }
    }
}

func values(_ readings: [Reading]) -> [String: ReadingValue] {
    Dictionary(uniqueKeysWithValues: readings.map { ($0.name.rawValue, $0.value) })
}

@Suite struct MegatecMalformedTests {
    @Test(arguments: [
        ("", MegatecCodec.ParseError.Kind.missingStart, "Q1 reply does not start with '(': \"\""),
        ("208.4 140.0 208.4 034 59.9 2.05 35.0 00110000", .missingStart, "Q1 reply does not start with '(': \"208.4 140.0 208.4 034 59.9 2.05 35.0 00110000\""),
        ("(208.4 140.0 208.4", .wrongFieldCount, "Q1 reply has 3 fields, expected 8: \"(208.4 140.0 208.4\""),
        ("(2O8.4 140.0 208.4 034 59.9 2.05 35.0 00110000", .notANumber, "input voltage \"2O8.4\" is not a number"),
        ("(208.4 140.0 208.4 034 59.9 2.05 35.0 0011000", .badStatusBits, "Q1 status bits \"0011000\" are not 8 binary digits"),
        ("(208.4 140.0 208.4 034 59.9 2.05 35.0 00110002", .badStatusBits, "Q1 status bits \"00110002\" are not 8 binary digits"),
        ("(208.4 140.0 \u{01}208.4 034 59.9 2.05 35.0 00110000", .missingStart, "Q1 reply holds non-text bytes: \"(208.4 140.0 \\x01208.4 034 59.9 2.05 35.0 00110000\""),
    ])
    func malformedLinesAreTypedErrors(text: String, kind: MegatecCodec.ParseError.Kind, message: String) {
        do {
            _ = try MegatecCodec.parseStatus(Array(text.utf8))
            Issue.record("parsed \(text)")
        } catch {
            #expect(error.kind == kind)
            #expect(error.description == message)
        }
    }

    @Test func overlongAndRandomBytesNeverCrash() {
        #expect(throws: MegatecCodec.ParseError.self) { try MegatecCodec.parseStatus([UInt8](repeating: 0x28, count: 500)) }
        var rng = SystemRandomNumberGenerator()
        let alphabet = Array("(0123456789. -@#NAK\r\n".utf8) + [0x00, 0xFF, 0x80]
        for _ in 0..<5000 {
            let bytes = (0..<Int.random(in: 0..<60, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! }
            _ = try? MegatecCodec.parseStatus(bytes)
            _ = try? MegatecCodec.parseRatings(bytes)
            _ = try? MegatecCodec.parseIdentity(bytes)
        }
    }

    @Test func chargeEstimateFollowsTheBlazerHeuristic() {
        #expect(MegatecCodec.estimatedCharge(batteryVoltage: 20.8, nominal: 24) == 0)
        #expect(abs(MegatecCodec.estimatedCharge(batteryVoltage: 23.4, nominal: 24) - 50) < 1e-9)
        #expect(MegatecCodec.estimatedCharge(batteryVoltage: 28, nominal: 24) == 100)
        #expect(MegatecCodec.estimatedCharge(batteryVoltage: 10, nominal: 24) == 0)
    }
}
