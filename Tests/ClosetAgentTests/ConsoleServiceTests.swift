import ClosetAgent
import ClosetConfig
import ClosetModel
import ClosetSerial
import ClosetTesting
import Foundation
import Logging
import Testing

/// A terminal on the other end of a socat pseudo-terminal pair, as a laptop on a null-modem
/// cable: the agent opens `agentSide`, the test types into `techSide`.
final class NullModem: @unchecked Sendable {
    let work: FixtureTree
    let name: String
    var socat: ChildProcess?
    var agentSide: String { work.path("\(name)-agent") }
    var techSide: String { work.path("\(name)-tech") }

    init(_ work: FixtureTree, name: String) async throws {
        self.work = work
        self.name = name
        try await plugIn()
    }

    func plugIn() async throws {
        socat = try ChildProcess(
            "/usr/bin/socat", ["pty,raw,echo=0,link=\(agentSide)", "pty,raw,echo=0,link=\(techSide)"], logPath: work.path("\(name).log"))
        guard await waitUntil({ FileManager.default.fileExists(atPath: self.techSide) }) else { throw TestSetupError("no pty") }
    }

    func unplug() { socat?.stop() }

    /// Presses Enter until the agent answers with a prompt: the agent may open its end a
    /// little later, and opening flushes whatever was typed before.
    func waitForPrompt() async -> Bool {
        for _ in 0..<30 {
            if let answer = try? await type("\r", until: "closet> ", timeout: .seconds(1)), answer.contains("closet> ") { return true }
        }
        return false
    }

    /// Types `text` and returns what the agent answered until `until` shows up. The blocking
    /// serial IO runs on a queue, not on a cooperative thread the agent needs.
    func type(_ text: String, until marker: String, timeout: Duration = .seconds(30)) async throws -> String {
        try await withCheckedThrowingContinuation { c in
            DispatchQueue.global().async { c.resume(with: Result { try self.typeBlocking(text, until: marker, timeout: timeout) }) }
        }
    }

    func typeBlocking(_ text: String, until marker: String, timeout: Duration) throws -> String {
        let port = try SerialPort(path: techSide, baud: 115_200)
        defer { port.close() }
        try port.write(Array(text.utf8), timeout: .seconds(1))
        var received: [UInt8] = []
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            received += try port.readAvailable(timeout: .milliseconds(200))
            if String(decoding: received, as: UTF8.self).contains(marker) { break }
        }
        return String(decoding: received, as: UTF8.self)
    }
}

@Suite(.serialized) struct ConsoleServiceTests {
    func agent(consoles: [ConsoleConfiguration], socket: String? = nil) throws -> Agent<WallClock> {
        var configuration = AgentConfiguration(
            site: "pty-test",
            devices: [
                DeviceConfiguration(
                    name: "probe", kind: .sensor, driverName: "scripted",
                    driver: GivenDriver(driver: ScriptedDriver([.readings([(.ambientTemperature, .number(24.5))])])),
                    poll: PollSettings(interval: .seconds(60), timeout: .seconds(2)))
            ])
        configuration.consoles = consoles
        configuration.consoleSocket = socket
        return try Agent(configuration: configuration, clock: WallClock(), logger: Logger(label: "t", factory: { _ in SwiftLogNoOpLogHandler() }))
    }

    @Test func twoSerialConsolesAtOnceAndAPortThatIsPulledAndReplugged() async throws {
        let work = FixtureTree(prefix: "closet-console")
        defer { work.remove() }
        let a = try await NullModem(work, name: "ttyS0")
        let b = try await NullModem(work, name: "ttyUSB0")
        let agent = try agent(consoles: [
            ConsoleConfiguration(device: a.agentSide, language: "en"), ConsoleConfiguration(device: b.agentSide, language: "vi-ascii"),
        ])
        let console = ConsoleService(agent: agent, clock: WallClock(), logger: Logger(label: "t", factory: { _ in SwiftLogNoOpLogHandler() }))
        let running = Task { try await withThrowingDiscardingTaskGroup { g in
            g.addTask { try await agent.run() }
            g.addTask { try await console.run() }
        } }
        defer { running.cancel(); a.unplug(); b.unplug() }
        #expect(await a.waitForPrompt())
        #expect(await b.waitForPrompt())
        let english = try await a.type("env\r", until: "closet> ")
        #expect(english.contains("ambient.temperature            24.5"), "\(english)")
        let vietnamese = try await b.type("status\r", until: "closet> ")
        #expect(vietnamese.contains("Tram pty-test"), "\(vietnamese)")

        a.unplug()  // the USB-serial adapter is pulled out ...
        try await Task.sleep(for: .milliseconds(500))
        #expect(try await b.type("help\r", until: "closet> ").contains("Cac lenh"), "the other console is unaffected")
        try await a.plugIn()  // ... and plugged back in: the agent reopens it within 2 s
        #expect(await a.waitForPrompt())
        // Prompts answering waitForPrompt's returns may still be on their way: wait for the
        // answer itself, not the next prompt.
        #expect(try await a.type("ups\r", until: "ups: none configured").contains("ups: none configured"))
    }

    @Test func theLocalSocketGreetsWithTheStatusScreen() async throws {
        let work = FixtureTree(prefix: "closet-console")
        defer { work.remove() }
        let path = work.path("console.sock")
        let agent = try agent(consoles: [], socket: path)
        let console = ConsoleService(agent: agent, clock: WallClock(), logger: Logger(label: "t", factory: { _ in SwiftLogNoOpLogHandler() }))
        let running = Task { try await withThrowingDiscardingTaskGroup { g in
            g.addTask { try await agent.run() }
            g.addTask { try await console.run() }
        } }
        defer { running.cancel() }
        #expect(await waitUntil { FileManager.default.fileExists(atPath: path) })
        var st = stat()
        stat(path, &st)
        #expect(st.st_mode & 0o777 == 0o660, "owner and group only")

        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8) + [0]) }
        let connected = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        #expect(connected == 0)
        defer { close(fd) }
        _ = Array("exit\r".utf8).withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            received += buffer[0..<n]
        }
        let text = String(decoding: received, as: UTF8.self)
        #expect(text.hasPrefix("CLOSET "), "\(text)")
        #expect(text.contains("Site pty-test"))
        #expect(text.hasSuffix("bye\r\n"), "exit ends the session and closes the socket")
    }
}
