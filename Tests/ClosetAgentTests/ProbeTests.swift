import ClosetAgent
import ClosetModbus
import ClosetTesting
import Foundation
import Testing

@testable import closet_agent

@Suite(.serialized) struct ProbeTests {
    @Test func aModbusScanNamesWhatAnswersAndWhichMapFits() async throws {
        let work = FixtureTree(prefix: "closet-probe")
        defer { work.remove() }
        let port = freeLoopbackPort()
        let sim = try ChildProcess(
            try simulatorPython,
            [repositoryRoot + "/tools/sim/modbus-sim.py", "--tcp", String(port), "--ups", "1", "--probes", "3", "--ready", work.path("ready")],
            logPath: work.path("sim.log"))
        defer { sim.stop() }
        #expect(await waitUntil { FileManager.default.fileExists(atPath: work.path("ready")) })
        let report = await Probe.modbus(endpoint: .tcp(host: "127.0.0.1", port: port), units: 1...4, timeout: .milliseconds(300))
        let lines = report.split(separator: "\n").map(String.init)
        #expect(lines.first == "modbus tcp 127.0.0.1:\(port), units 1..4, 300ms per request")
        #expect(lines.contains("unit 1: answers"))
        #expect(lines.contains { $0.hasPrefix("  matches apc-smt: battery.charge 100 %") })
        #expect(lines.contains("unit 2: no answer"))
        #expect(lines.contains("  matches generic-th-probe: ambient.humidity 55 %RH, ambient.temperature 24.5 degC"))
        #expect(lines.last == "2 of 4 units answered")
    }

    @Test func aMissingDeviceIsSaidPlainly() async {
        #expect(await Probe.megatec(device: "/nonexistent/ttyUSB9", baud: 2400, timeout: .milliseconds(100))
            == "/nonexistent/ttyUSB9 at 2400 baud: /nonexistent/ttyUSB9: cannot open: No such file or directory\n")
    }

    @Test func unitRangesAreChecked() throws {
        #expect(try ClosetAgentMain.parseUnits("1..10") == 1...10)
        #expect(try ClosetAgentMain.parseUnits("7") == 7...7)
        #expect(throws: UsageError.self) { try ClosetAgentMain.parseUnits("10..1") }
        #expect(throws: UsageError.self) { try ClosetAgentMain.parseUnits("1..300") }
    }
}

@Suite(.enabled(if: FileManager.default.fileExists(atPath: repositoryRoot + "/../shared/fixtures/usb-hid/apc_back-ups_bk650m2-ch_051d-0002.rdesc.hex"), "needs ../shared/fixtures/usb-hid"))
struct ProbeUSBTests {
    @Test func aDumpHasTheDescriptorInHexTheUsagePathsAndTheReadings() throws {
        let folder = repositoryRoot + "/../shared/fixtures/usb-hid/"
        let replay = ReplayHIDTransport(
            name: "051d:0002 at 1-1 American Power Conversion Back-UPS BK650M2-CH",
            descriptorHex: try String(contentsOfFile: folder + "apc_back-ups_bk650m2-ch_051d-0002.rdesc.hex", encoding: .utf8),
            reports: try String(contentsOfFile: folder + "apc_back-ups_bk650m2-ch_051d-0002.reports.txt", encoding: .utf8))
        let text = try Probe.dump(replay)
        #expect(text.hasPrefix("051d:0002 at 1-1 American Power Conversion Back-UPS BK650M2-CH\nreport descriptor, 743 bytes:\n05 84 09 04 a1 01 09 24 a1 00 85 01 09 fe 79 02\n"))
        #expect(text.contains("Feature 0x0c 0+8 [0..255] -/0 UPS.PowerSummary.RemainingCapacity = 100\n"))
        #expect(text.contains("  battery.runtime 3618 s\n"))
        #expect(text.contains("  ups.status OL DISCHRG\n"))
        // The hex part is what a technician saves: it parses back to the same bytes.
        let hexLines = text.split(separator: "\n").dropFirst(2).prefix { $0.first?.isHexDigit == true && $0.count <= 47 }
        #expect(hexLines.joined(separator: " ").split(separator: " ").count == 743)
    }
}
