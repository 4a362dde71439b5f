import Foundation

/// NUT's own upsd with its dummy-ups driver serving a `upsc` dump as a live UPS, on a
/// loopback port, with a private configuration folder (never /etc/nut); stopped by PID.
public final class NUTDaemons: @unchecked Sendable {
    public static let upsdPath = "/lib/nut/upsd"
    public static let dummyUPSPath = "/lib/nut/dummy-ups"
    public static let upsmonPath = "/lib/nut/upsmon"
    public static var available: Bool { FileManager.default.isExecutableFile(atPath: upsdPath) && FileManager.default.isExecutableFile(atPath: dummyUPSPath) }

    public let tree: FixtureTree
    public let port: Int
    public let ups: String
    public var environment: [String: String] {
        ["NUT_CONFPATH": tree.path("conf"), "NUT_STATEPATH": tree.path("state"), "NUT_ALTPIDPATH": tree.path("state")]
    }
    private var driver: ChildProcess?
    private var upsd: ChildProcess?
    private var dumpTime = Date()

    /// `dump` is the text of a `upsc` dump (nut-ddl `.dev`); comments are stripped.
    public init(dump: String, ups: String = "ups") throws {
        guard Self.available else { throw TestSetupError("\(Self.upsdPath) is missing: run tools/setup (Debian nut-server)") }
        tree = FixtureTree(prefix: "closet-nut")
        port = freeLoopbackPort()
        self.ups = ups
        tree.directory("state")
        chmod(tree.path("state"), 0o700)
        tree.directory("conf")
        try setDump(dump)
        tree.file("conf/ups.conf", "[\(ups)]\n  driver = dummy-ups\n  port = \(tree.path("conf/ups.dev"))\n  desc = \"test UPS\"\n", mode: 0o600)
        tree.file("conf/upsd.conf", "LISTEN 127.0.0.1 \(port)\n", mode: 0o600)
        tree.file("conf/upsd.users", "[reader]\n  password = reader-secret\n  upsmon secondary\n", mode: 0o600)
        tree.file("conf/nut.conf", "MODE=standalone\n", mode: 0o600)
        let user = String(cString: getpwuid(getuid())!.pointee.pw_name)
        driver = try ChildProcess(Self.dummyUPSPath, ["-a", ups, "-u", user, "-F"], logPath: tree.path("dummy-ups.log"), environment: environment)
        // upsd refuses to start until the driver's socket exists.
        let socket = tree.path("state/dummy-ups-\(ups)")
        for _ in 0..<750 where !FileManager.default.fileExists(atPath: socket) { usleep(20_000) }
        try startUpsd()
    }

    /// The dump as dummy-ups reads it: `name: value` lines, no comments (`#BAD:` notes too).
    public static func clean(_ dump: String) -> String {
        dump.split(separator: "\n").compactMap { line -> String? in
            guard !line.hasPrefix("#"), !line.trimmingCharacters(in: .whitespaces).isEmpty else { return nil }
            // A `#` after a space or tab starts a comment.
            var value = Substring(line)
            var previous: Character = "x"
            for i in line.indices {
                if line[i] == "#" && (previous == " " || previous == "\t") {
                    value = line[..<i]
                    break
                }
                previous = line[i]
            }
            return value.trimmingCharacters(in: .whitespaces)
        }.joined(separator: "\n") + "\n"
    }

    /// Replaces the UPS's variables; dummy-ups re-reads the file when its mtime moves to a
    /// new second, so each change is stamped a second later than the one before.
    public func setDump(_ dump: String) throws {
        let path = tree.path("conf/ups.dev")
        try Self.clean(dump).write(toFile: path, atomically: true, encoding: .utf8)
        dumpTime = max(Date(), dumpTime.addingTimeInterval(1.1))
        try FileManager.default.setAttributes([.modificationDate: dumpTime], ofItemAtPath: path)
    }

    /// Changes some variables of the current dump (`["ups.status": "OB DISCHRG"]`).
    public func set(_ changes: [String: String]) throws {
        let current = (try? String(contentsOfFile: tree.path("conf/ups.dev"), encoding: .utf8)) ?? ""
        var lines = current.split(separator: "\n").map(String.init)
        for (name, value) in changes {
            if let i = lines.firstIndex(where: { $0.hasPrefix(name + ":") }) { lines[i] = "\(name): \(value)" } else { lines.append("\(name): \(value)") }
        }
        try setDump(lines.joined(separator: "\n"))
    }

    public func startUpsd() throws {
        upsd = try ChildProcess(Self.upsdPath, ["-u", String(cString: getpwuid(getuid())!.pointee.pw_name), "-F"], logPath: tree.path("upsd.log"), environment: environment)
        for _ in 0..<750 {  // 15 s: a loaded CI machine starts upsd slowly
            if let fd = try? connectLoopback(port) { close(fd); return }
            usleep(20_000)
        }
        throw TestSetupError("upsd did not listen on 127.0.0.1:\(port): \(upsd?.log ?? "")")
    }

    public func stopUpsd() {
        upsd?.stop()
        upsd = nil
    }

    public func stop() {
        upsd?.stop()
        driver?.stop()
        tree.remove()
    }

    public var logs: String { (upsd?.log ?? "") + (driver?.log ?? "") }
}

/// A connected TCP socket to 127.0.0.1:`port`, or an error.
public func connectLoopback(_ port: Int) throws -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    let r = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    guard r == 0 else {
        close(fd)
        throw TestSetupError("connect 127.0.0.1:\(port): errno \(errno)")
    }
    return fd
}
