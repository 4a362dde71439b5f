import ClosetConfig
import ClosetModel
import ClosetTesting
import Foundation
import Synchronization
import Testing

@testable import ClosetUSBHID

func apcReplay() throws -> ReplayHIDTransport {
    ReplayHIDTransport(
        name: "051d:0002 at 1-1 APC Back-UPS BK650M2-CH",
        descriptorHex: try String(contentsOfFile: hidFixtures + "apc_back-ups_bk650m2-ch_051d-0002.rdesc.hex", encoding: .utf8),
        reports: try String(contentsOfFile: hidFixtures + "apc_back-ups_bk650m2-ch_051d-0002.reports.txt", encoding: .utf8))
}

/// The driver's real code (descriptor, report selection, GET_REPORT, interrupt reports,
/// mapping, reconnects) on a transport that replays a real UPS's answers.
@Suite(.enabled(if: haveHIDFixtures, "../shared/fixtures/usb-hid is absent: no recorded UPS to replay"))
struct USBHIDDriverTests {
    /// Each `open` hands out the next transport, like plugging a UPS in again.
    final class Plugs: @unchecked Sendable {
        let transports: Mutex<[ReplayHIDTransport]>
        let opened = Atomic<Int>(0)
        init(_ t: [ReplayHIDTransport]) { transports = Mutex(t) }
        func open() throws(USBError) -> any HIDTransport {
            opened.add(1, ordering: .relaxed)
            guard let t = transports.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) else {
                throw USBError(.noDevice, "no USB UPS matching a known UPS vendor (0 USB devices seen)")
            }
            return t
        }
    }

    func values(_ readings: [Reading]) -> [String: ReadingValue] {
        Dictionary(uniqueKeysWithValues: readings.map { ($0.name.rawValue, $0.value) })
    }

    @Test func readsTheAPCBackUPSAsNUTDidFromTheSameAnswers() async throws {
        let replay = try apcReplay()
        let plugs = Plugs([replay])
        let driver = USBHIDDriver(configuration: .init()) { () throws(USBError) in try plugs.open() }
        let v = values(try await driver.poll(at: Timestamp(secondsSinceEpoch: 0)))
        // The upsc dump of the same unit (the .dev beside the fixture).
        #expect(v["battery.charge"] == .number(100))
        #expect(v["battery.runtime"] == .number(3618))
        #expect(v["battery.voltage"] == .number(13.5))
        #expect(v["input.voltage"] == .number(232))
        #expect(v["ups.status"] == .status([.onLine, .discharging]), "the firmware's Discharging-while-on-line quirk, as NUT shows it")
        let perPoll = replay.requests
        #expect(perPoll > 0 && perPoll < 30, "only the reports holding mapped values are asked for (\(perPoll))")
        _ = try await driver.poll(at: Timestamp(secondsSinceEpoch: 10))
        #expect(plugs.opened.load(ordering: .relaxed) == 1, "the device stays open between polls")
    }

    @Test func unpluggedFailsNamingTheDeviceAndAReplugRecovers() async throws {
        let first = try apcReplay()
        let plugs = Plugs([first, try apcReplay()])
        let driver = USBHIDDriver(configuration: .init()) { () throws(USBError) in try plugs.open() }
        _ = try await driver.poll(at: Timestamp(secondsSinceEpoch: 0))
        first.unplugged = true
        await #expect { try await driver.poll(at: Timestamp(secondsSinceEpoch: 10)) } throws: { "\($0)".contains("NO_DEVICE") && "\($0)".contains("051d:0002") }
        #expect(first.closed, "the dead handle is closed")
        let back = values(try await driver.poll(at: Timestamp(secondsSinceEpoch: 20)))
        #expect(back["battery.charge"] == .number(100), "found again and its descriptor read anew")
        #expect(plugs.opened.load(ordering: .relaxed) == 2)
    }

    @Test func aStatusSentOnlyOnTheInterruptEndpointIsTaken() async throws {
        let replay = try apcReplay()
        // This firmware refuses GET_REPORT for the status report; the status arrives as an
        // input report instead: 0x16, ACPresent (bit 2) clear, Discharging (bit 1) set.
        replay.features[0x16] = nil
        replay.inputs = [[0x16, 0x0A, 0x00]]
        let driver = USBHIDDriver(configuration: .init()) { () throws(USBError) in replay }
        let v = values(try await driver.poll(at: Timestamp(secondsSinceEpoch: 0)))
        #expect(v["ups.status"] == .status([.onBattery, .discharging]))
    }

    @Test func theSantakMGEFamilyFromItsPublishedReports() async throws {
        let replay = ReplayHIDTransport(
            name: "0463:ffff SANTAK TG-BOX 850",
            descriptorHex: try String(contentsOfFile: hidFixtures + "santak_tg-box-850_0463-ffff.rdesc.hex", encoding: .utf8),
            // The feature reports the fixture's README lists, as the device sent them.
            reports: """
                REPORT get 01 25 -> PATH x
                REPORT get 06 64 e0 04 00 00 -> PATH x
                REPORT get 07 00 00 00 00 00 18 -> PATH x
                REPORT get 08 14 -> PATH x
                REPORT get 0e e6 00 -> PATH x
                REPORT get 12 dc -> PATH x
                """)
        let driver = USBHIDDriver(configuration: .init()) { () throws(USBError) in replay }
        let v = values(try await driver.poll(at: Timestamp(secondsSinceEpoch: 0)))
        #expect(v["battery.charge"] == .number(100))
        #expect(v["battery.runtime"] == .number(1248))
        #expect(v["ups.load"] == .number(24))
        #expect(v["output.voltage"] == .number(230))
        #expect(v["ups.status"] == .status([.onLine, .charging]))
    }

    @Test func aModelWithAKnownFirmwareErrorIsCorrected() async throws {
        let replay = try apcReplay()
        // The same answers from a device with the ids of the CyberPower model whose battery
        // voltage reads 1.5 times too high: 13.5 V reported, 9 V shown.
        replay.usbIDs = (0x0764, 0x0501)
        let v = values(try await USBHIDDriver(configuration: .init()) { () throws(USBError) in replay }.poll(at: Timestamp(secondsSinceEpoch: 0)))
        #expect(v["battery.voltage"] == .number(9))
        #expect(v["battery.charge"] == .number(100), "other values untouched")
    }

    @Test func aMalformedDescriptorIsAClearErrorNotACrash() async throws {
        let replay = try apcReplay()
        let broken = ReplayHIDTransport(name: "051d:0002 broken", descriptorHex: "05 84 09 04 a1 01 09 24 a1 00 85", reports: "")
        let driver = USBHIDDriver(configuration: .init()) { () throws(USBError) in broken }
        await #expect { try await driver.poll(at: Timestamp(secondsSinceEpoch: 0)) } throws: { "\($0)".contains("report descriptor (11 bytes)") }
        _ = replay
    }

    @Test func matchingPicksByVendorSerialOrSocket() {
        let apc = USBDeviceInfo(vendor: 0x051D, product: 2, busPath: "1-1.2", serial: "3B1234X", hidInterface: 0)
        let keyboard = USBDeviceInfo(vendor: 0x046D, product: 0xC31C, busPath: "1-1.3", hidInterface: 0)
        let noHID = USBDeviceInfo(vendor: 0x0463, product: 0xFFFF, busPath: "1-1.4", hidInterface: nil)
        #expect(USBHIDDriver.Configuration().matches(apc))
        #expect(!USBHIDDriver.Configuration().matches(keyboard), "a keyboard is HID but not a UPS vendor")
        #expect(!USBHIDDriver.Configuration().matches(noHID))
        #expect(USBHIDDriver.Configuration(vendor: 0x046D).matches(keyboard), "an explicit vendor overrides the table")
        #expect(!USBHIDDriver.Configuration(serial: "OTHER").matches(apc))
        #expect(USBHIDDriver.Configuration(busPath: "1-1.2").matches(apc))
        #expect(apc.label == "051d:0002 at 1-1.2 serial 3B1234X")
    }

    @Test func theConfigReadsHexIdsAndNamesBadOnes() {
        let loader = ConfigLoader(drivers: [USBHIDDriver.factory])
        let d = ConfigDiagnostics(file: "agent.toml")
        let config = loader.parse(
            "[agent]\nsite = \"s\"\nself_monitoring = false\n[[ups]]\nname = \"ups\"\ndriver = \"usbhid\"\nvendor = \"051d\"\nserial = \"3B1234X\"\n[[ups]]\nname = \"ups2\"\ndriver = \"usbhid\"\nvendor = \"APC\"\n",
            diagnostics: d, directory: "/etc/closet")
        #expect(d.sortedIssues.map { "\($0.line): \($0.key): \($0.message)" } == [#"12: ups[1].vendor: a USB id is 4 hex digits such as "051d", got "APC""#])
        _ = config
    }
}

/// The real libusb path on a machine with no USB UPS (CI, this VM): a plain error, no crash.
@Suite struct LibUSBOnThisMachineTests {
    @Test func noUPSHereIsSaidPlainly() async {
        let driver = try! USBHIDDriver.Configuration().makeDriver(DriverRuntime())
        do {
            _ = try await driver.poll(at: Timestamp(secondsSinceEpoch: 0))
            // A machine with a real USB UPS plugged in reads it: fine too.
        } catch {
            let text = "\(error)"
            #expect(text.contains("no USB UPS matching a known UPS vendor") || text.contains("libusb_init") || text.contains("permission"), "\(text)")
        }
    }
}

