import ClosetModel
import ClosetTesting
import Foundation
import Testing

@testable import ClosetSNMP

/// snmpsim serving real device dumps from the snmpsim-data package on a loopback UDP port.
/// Each dump is served under a community (and v3 context) named after its file here.
final class SNMPSimulator: @unchecked Sendable {
    let work = FixtureTree(prefix: "closet-snmpsim")
    let port = freeLoopbackPort()
    var process: ChildProcess?
    static let v3User = "closet"
    static let v3Auth = "closet-auth-pass"
    static let v3Priv = "closet-priv-pass"

    static var dataRoot: String {
        repositoryRoot + "/.build-tools/venv/lib/python3.11/site-packages/snmpsim_data/data"
    }

    /// `devices`: community name -> dump path under snmpsim-data's data folder (without .snmprec.bz2).
    init(_ devices: [String: String]) async throws {
        work.directory("data")
        for (community, dump) in devices {
            let source = Self.dataRoot + "/" + dump
            let text: String
            if FileManager.default.fileExists(atPath: source + ".snmprec") {
                text = try String(contentsOfFile: source + ".snmprec", encoding: .utf8)
            } else {
                let bz = Process()
                bz.executableURL = URL(fileURLWithPath: "/bin/bzcat")
                bz.arguments = [source + ".snmprec.bz2"]
                let pipe = Pipe()
                bz.standardOutput = pipe
                try bz.run()
                let data = pipe.fileHandleForReading.readDataToEndOfFile()
                bz.waitUntilExit()
                text = String(decoding: data, as: UTF8.self)
            }
            try text.write(toFile: work.path("data/\(community).snmprec"), atomically: true, encoding: .utf8)
        }
        try await start()
    }

    func start() async throws {
        let responder = repositoryRoot + "/.build-tools/venv/bin/snmpsim-command-responder"
        guard FileManager.default.isExecutableFile(atPath: responder) else {
            throw TestSetupError("\(responder) is missing: run tools/setup")
        }
        process = try ChildProcess(
            responder,
            [
                "--cache-dir=\(work.path("cache"))", "--logging-method=file:\(work.path("snmpsim.detail.log"))",
                // One engine: its options follow --v3-engine-id, data and endpoint included.
                // A fresh engine id per simulator: net-snmp keeps USM keys per (engine, user) for
                // the whole process, so tests must not share an engine.
                "--v3-engine-id=80001f8804\(Self.randomHex(8))", "--v3-user=\(Self.v3User)", "--v3-auth-key=\(Self.v3Auth)", "--v3-auth-proto=SHA",
                "--v3-priv-key=\(Self.v3Priv)", "--v3-priv-proto=AES",
                "--data-dir=\(work.path("data"))", "--agent-udpv4-endpoint=127.0.0.1:\(port)",
            ],
            logPath: work.path("snmpsim.log"), environment: ["SNMPSIM_ALLOW_ROOT": "true"])
    }

    func stop() {
        process?.stop()
        process = nil
    }

    func target(_ community: String, timeout: Duration = .seconds(1), retries: Int = 0) -> SNMPTarget {
        SNMPTarget(host: "127.0.0.1", port: port, security: .community(community), timeout: timeout, retries: retries)
    }

    func v3Target(_ context: String, authPassword: String = v3Auth, timeout: Duration = .seconds(2)) -> SNMPTarget {
        SNMPTarget(
            host: "127.0.0.1", port: port,
            security: .user(name: Self.v3User, level: .authPriv, auth: .sha, authPassword: authPassword, privacy: .aes, privPassword: Self.v3Priv),
            timeout: timeout, retries: 0, context: context)
    }

    /// Waits until snmpsim answers (it indexes the dumps first: a few seconds).
    func waitUntilServing(_ community: String) async throws {
        let client = SNMPClient(target: target(community, timeout: .milliseconds(500)))
        for _ in 0..<60 {
            if (try? await client.perform { try $0.get([OID("1.3.6.1.2.1.1.3.0")]) }) != nil { return }
        }
        throw TestSetupError("snmpsim did not answer: \(process?.log ?? "")")
    }

    /// Rewrites one value in a served dump; snmpsim re-reads a file whose mtime moved to a new
    /// second (the next request stalls while it re-indexes).
    func set(_ community: String, oid: String, type: Int, value: String) async throws {
        let path = work.path("data/\(community).snmprec")
        var lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let i = lines.firstIndex(where: { $0.hasPrefix(oid + "|") }) else { throw TestSetupError("\(oid) not in \(community)") }
        lines[i] = "\(oid)|\(type)|\(value)"
        try await Task.sleep(for: .milliseconds(1100))
        try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
    }

    static func randomHex(_ bytes: Int) -> String {
        (0..<bytes).map { _ in
            let s = String(UInt8.random(in: 0...255), radix: 16)
            return s.count == 1 ? "0" + s : s
        }.joined()
    }

    deinit {
        stop()
        work.remove()
    }
}

extension SNMPSwitchDriver {
    func pollValues(at second: Double = 0) async throws -> [String: ReadingValue] {
        Dictionary(uniqueKeysWithValues: try await poll(at: Timestamp(secondsSinceEpoch: second)).map { ($0.name.rawValue, $0.value) })
    }
}
