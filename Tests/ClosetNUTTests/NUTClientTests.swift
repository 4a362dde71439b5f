import ClosetModel
import ClosetTesting
import Foundation
import Testing

@testable import ClosetNUT

let nutDumps = repositoryRoot + "/../shared/fixtures/nut-dumps/"
let haveNUT = NUTDaemons.available && FileManager.default.fileExists(atPath: nutDumps)

func dump(_ name: String) throws -> String { try String(contentsOfFile: nutDumps + name, encoding: .utf8) }

func values(_ readings: [Reading]) -> [String: ReadingValue] {
    Dictionary(uniqueKeysWithValues: readings.map { ($0.name.rawValue, $0.value) })
}

/// The NUT client against NUT's own upsd, fed by dummy-ups with real `upsc` dumps.
@Suite(.enabled(if: haveNUT, "needs Debian's nut-server (tools/setup) and ../shared/fixtures/nut-dumps"), .serialized)
struct NUTClientTests {
    struct Expected: Sendable, CustomTestStringConvertible {
        var file: String
        var charge: Double
        var runtime: Double?
        var input: Double
        var load: Double
        var status: UPSStatus
        var testDescription: String { file }
    }

    @Test(arguments: [
        Expected(file: "APC__Back-UPS_ES_850G2__usbhid-ups__2.8.0__01.dev", charge: 100, runtime: 1572, input: 238, load: 18, status: .onLine),
        Expected(file: "APC__Smart-UPS_2200__usbhid-ups__2.7.4__01.dev", charge: 93, runtime: nil, input: 0, load: 5.2, status: [.onBattery, .discharging]),
        Expected(
            file: "Cyber_Power_Systems__CP900AVR__usbhid-ups__2.6.5__01.dev", charge: 93, runtime: 2572, input: 0, load: 13,
            status: [.onBattery, .discharging]),
    ])
    func readsEveryVariableOfARealUPSThroughUpsd(_ e: Expected) async throws {
        let (file, charge, runtime, input, load, status) = (e.file, e.charge, e.runtime, e.input, e.load, e.status)
        let nut = try NUTDaemons(dump: try dump(file))
        defer { nut.stop() }
        let driver = NUTDriver(configuration: .init(host: "127.0.0.1", port: nut.port))
        let readings = try await pollWhenReady(driver)
        let v = values(readings)
        #expect(v["battery.charge"] == .number(charge))
        #expect(v["battery.runtime"] == runtime.map { .number($0) }, "65535 s is usbhid-ups's 16-bit saturation: unknown")
        #expect(v["input.voltage"] == .number(input))
        #expect(v["ups.load"] == .number(load))
        #expect(v["ups.status"] == .status(status))
        #expect(readings.first { $0.name.rawValue == "battery.charge" }?.unit == .percent)
        #expect(readings.first { $0.name.rawValue == "input.voltage" }?.unit == .volt)
        #expect(v.keys.allSatisfy { !$0.hasPrefix("driver.") }, "the NUT driver's own variables are not the UPS's")
        // Every UPS variable in the dump arrives (numbers as numbers, words as words).
        let expected = NUTDaemons.clean(try dump(file)).split(separator: "\n").compactMap { line -> String? in
            let name = String(line.prefix { $0 != ":" })
            return name.hasPrefix("driver.") || name == "battery.runtime" && line.hasSuffix("65535") ? nil : name
        }
        #expect(Set(v.keys) == Set(expected))
    }

    @Test func anEatonOnQ1WithoutBatteryChargeKeepsItsUnknownStatusTokensOut() async throws {
        let nut = try NUTDaemons(dump: try dump("Eaton__5E2200USB-LA__nutdrv_qx__2.7.4.1__01.dev"))
        defer { nut.stop() }
        let v = values(try await pollWhenReady(NUTDriver(configuration: .init(host: "127.0.0.1", port: nut.port, ups: "ups"))))
        #expect(v["ups.status"] == .status(.onLine), "CAL is not a model flag")
        #expect(v["battery.charge"] == nil)
        #expect(v["input.voltage"] == .number(120.3))
    }

    @Test func followsAPowerCutToLowBatteryAndBack() async throws {
        let nut = try NUTDaemons(dump: try dump("APC__Back-UPS_ES_850G2__usbhid-ups__2.8.0__01.dev"))
        defer { nut.stop() }
        let driver = NUTDriver(configuration: .init(host: "127.0.0.1", port: nut.port))
        _ = try await pollWhenReady(driver)
        let steps: [([String: String], UPSStatus, Double)] = [
            (["ups.status": "OB DISCHRG", "battery.charge": "80", "input.voltage": "0.0"], [.onBattery, .discharging], 80),
            (["ups.status": "OB DISCHRG LB", "battery.charge": "9"], [.onBattery, .discharging, .lowBattery], 9),
            (["ups.status": "OL CHRG", "battery.charge": "12", "input.voltage": "231.0"], [.onLine, .charging], 12),
        ]
        for (changes, status, charge) in steps {
            try nut.set(changes)
            var seen: [String: ReadingValue] = [:]
            for _ in 0..<100 {
                seen = values(try await driver.poll(at: Timestamp(secondsSinceEpoch: 0)))
                if seen["ups.status"] == .status(status) { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(seen["ups.status"] == .status(status), "after \(changes)")
            #expect(seen["battery.charge"] == .number(charge))
        }
    }

    @Test func aDeadUpsdFailsThePollNamingItThenRecovers() async throws {
        let nut = try NUTDaemons(dump: try dump("APC__Back-UPS_ES_850G2__usbhid-ups__2.8.0__01.dev"))
        defer { nut.stop() }
        let driver = NUTDriver(configuration: .init(host: "127.0.0.1", port: nut.port, ups: "ups", timeout: .seconds(2)))
        _ = try await pollWhenReady(driver)
        nut.stopUpsd()
        await #expect {
            try await driver.poll(at: Timestamp(secondsSinceEpoch: 0))
        } throws: { error in
            "\(error)".contains("127.0.0.1:\(nut.port)")
        }
        try nut.startUpsd()
        let back = try await pollWhenReady(driver)
        #expect(values(back)["battery.charge"] == .number(100), "the same driver reconnects by itself")
    }

    @Test func aWrongUPSNameOrPasswordIsNamed() async throws {
        let nut = try NUTDaemons(dump: try dump("APC__Back-UPS_ES_850G2__usbhid-ups__2.8.0__01.dev"))
        defer { nut.stop() }
        _ = try await pollWhenReady(NUTDriver(configuration: .init(host: "127.0.0.1", port: nut.port)))
        await #expect {
            try await NUTDriver(configuration: .init(host: "127.0.0.1", port: nut.port, ups: "nosuch")).poll(at: Timestamp(secondsSinceEpoch: 0))
        } throws: { "\($0)".contains("UNKNOWN-UPS") && "\($0)".contains("nosuch") }
        await #expect {
            try await NUTDriver(configuration: .init(host: "127.0.0.1", port: nut.port, ups: "ups", username: "reader", password: "wrong"))
                .poll(at: Timestamp(secondsSinceEpoch: 0))
        } throws: { "\($0)".contains("ACCESS-DENIED") || "\($0)".contains("INVALID-PASSWORD") }
        let logged = NUTDriver(configuration: .init(host: "127.0.0.1", port: nut.port, ups: "ups", username: "reader", password: "reader-secret"))
        #expect(values(try await logged.poll(at: Timestamp(secondsSinceEpoch: 0)))["battery.charge"] == .number(100))
        #expect(values(try await logged.poll(at: Timestamp(secondsSinceEpoch: 0)))["battery.charge"] == .number(100), "the kept connection stays logged in")
    }
}

/// dummy-ups needs a moment after upsd starts (ups.status reads WAIT, or DATA-STALE).
func pollWhenReady(_ driver: NUTDriver) async throws -> [Reading] {
    var last: (any Error)?
    for _ in 0..<100 {
        do {
            let readings = try await driver.poll(at: Timestamp(secondsSinceEpoch: 0))
            if values(readings)["ups.status"] != .status([]) || readings.contains(where: { $0.name.rawValue == "input.voltage" }) { return readings }
        } catch {
            last = error
        }
        try await Task.sleep(for: .milliseconds(100))
    }
    throw last ?? TestSetupError("the UPS never became ready")
}
