import ClosetConfig
import ClosetModel
import Dispatch
import Synchronization

/// A managed switch over SNMP: IF-MIB port states, speeds, error and traffic rates, flap
/// counts, and who is to blame when it stops answering.
public final class SNMPSwitchDriver: DeviceDriver {
    public struct Configuration: DriverConfiguration, Hashable {
        public var target: SNMPTarget
        public var maxRepetitions: Int
        public var flapWindow: Duration
        /// A port changing state more than this many times in the window is flapping.
        public var flapCount: Int
        /// TCP ports tried when SNMP does not answer, to tell a dead switch from a deaf agent.
        public var reachabilityPorts: [Int]

        public init(
            target: SNMPTarget, maxRepetitions: Int = 25, flapWindow: Duration = .seconds(600), flapCount: Int = 3,
            reachabilityPorts: [Int] = [22, 23, 80, 443]
        ) {
            self.target = target
            self.maxRepetitions = maxRepetitions
            self.flapWindow = flapWindow
            self.flapCount = flapCount
            self.reachabilityPorts = reachabilityPorts
        }

        public var summary: [(key: String, value: String)] {
            var out: [(String, String)] = [("target", target.description), ("timeout", "\(target.timeout.compactDescription) x \(target.retries + 1)")]
            switch target.security {
            case .community: out.append(("community", "****"))
            case .user(let name, _, let auth, _, let priv, _): out += [("user", name), ("auth", auth.rawValue), ("privacy", priv.rawValue), ("passwords", "****")]
            }
            out += [("max_repetitions", String(maxRepetitions)), ("flap", "> \(flapCount) changes in \(flapWindow.compactDescription)")]
            return out
        }

        public var defaultRules: [BoundRule] {
            [
                BoundRule(VariablePattern("port.*.flaps"), .limits(.init(warnHigh: Double(flapCount + 1), hysteresis: 1))),
                BoundRule(VariablePattern("port.*.errors"), .limits(.init(warnHigh: 1, hysteresis: 0.5))),
            ]
        }

        public func makeDriver(_ runtime: DriverRuntime) throws -> any DeviceDriver {
            let client = runtime.shared("snmp:\(target.host):\(target.port):\(target.security)") { SNMPClient(target: target) }
            return SNMPSwitchDriver(configuration: self, client: client)
        }
    }

    public let configuration: Configuration
    public let client: SNMPClient
    private let state: Mutex<(counters: IFMIB.Counters?, flaps: FlapTracker)>

    public init(configuration: Configuration, client: SNMPClient) {
        self.configuration = configuration
        self.client = client
        self.state = Mutex((nil, FlapTracker(window: configuration.flapWindow)))
    }

    public func poll(at time: Timestamp) async throws -> [Reading] {
        let maxRepetitions = configuration.maxRepetitions
        let walked: (columns: [OID: [[UInt]: SNMPValue]], scalars: [OID: SNMPValue])
        do {
            walked = try await client.perform { snmp in
                try snmp.walk(
                    columns: IFMIB.columns, scalars: [IFMIB.sysDescr, IFMIB.sysUpTime, IFMIB.sysName],
                    maxRepetitions: maxRepetitions)
            }
        } catch let error as SNMPError where error.kind == .timeout {
            let host = configuration.target.host
            let ports = configuration.reachabilityPorts
            let verdict = await withCheckedContinuation { c in
                DispatchQueue.global().async { c.resume(returning: TCPProbe.verdict(host: host, TCPProbe.check(host: host, ports: ports, timeout: .milliseconds(700)))) }
            }
            throw SNMPError(kind: .timeout, description: "\(error.description); \(verdict)")
        }
        guard !walked.columns.isEmpty else {
            throw SNMPError(kind: .protocolError, description: "\(configuration.target): answers, but has no IF-MIB interface table")
        }
        var uptime: UInt64?
        if case .unsigned(let ticks, _) = walked.scalars[IFMIB.sysUpTime] { uptime = ticks }
        var readings = state.withLock { s -> [Reading] in
            let (readings, counters) = IFMIB.decode(columns: walked.columns, uptime: uptime, previous: s.counters, at: time)
            s.counters = counters
            var states: [Int: String] = [:]
            for r in readings { if let (i, f) = r.name.portComponents, f == .oper { states[i] = r.value.description } }
            let flaps = s.flaps.record(states, at: time)
            return readings + flaps.map { Reading(.port($0.key, .flaps), .number(Double($0.value)), unit: .count, time: time) }
        }
        if let uptime { readings.append(Reading("device.uptime", .number(Double(uptime / 100)), unit: .second, time: time)) }
        if let name = walked.scalars[IFMIB.sysName]?.text, !name.isEmpty { readings.append(Reading("device.name", .text(name), time: time)) }
        if let descr = walked.scalars[IFMIB.sysDescr]?.text, !descr.isEmpty {
            readings.append(Reading("device.description", .text(String(descr.prefix(120))), time: time))
        }
        return readings
    }

    /// `[[switch]]` with `driver = "snmp"`.
    public static let factory = DriverFactory(name: "snmp", kinds: [.switch]) { r, _ in
        guard let target = SNMPTargetReader.read(r) else { return nil }
        let maxRepetitions = r.integer("max_repetitions", in: 1...200).map(Int.init) ?? 25
        let window = r.duration("flap_window", in: .seconds(10)...(.seconds(86_400))) ?? .seconds(600)
        let count = r.integer("flap_count", in: 1...1000).map(Int.init) ?? 3
        let ports = r.ports("reachability_ports") ?? [22, 23, 80, 443]
        return Configuration(target: target, maxRepetitions: maxRepetitions, flapWindow: window, flapCount: count, reachabilityPorts: ports)
    }
}

/// Reads an SNMP agent's address and credentials from a device table.
public enum SNMPTargetReader {
    public static func read(_ r: ConfigReader) -> SNMPTarget? {
        let before = r.diagnostics.issues.count
        guard let host = r.requiredString("host") else { return nil }
        let port = r.integer("port", in: 1...65535).map(Int.init) ?? 161
        let timeout = r.duration("timeout", in: .milliseconds(50)...(.seconds(30))) ?? .seconds(1)
        let retries = r.integer("retries", in: 0...5).map(Int.init) ?? 1
        let version = r.choice("version", ["2c", "3"]) ?? (r.table["user"] != nil ? "3" : "2c")
        var security: SNMPTarget.Security?
        if version == "2c" {
            if let community = r.secret("community") {
                security = .community(community)
            } else {
                r.reportTable("missing 'community' (SNMP v2c), or set version = \"3\" with a user")
            }
            for key in ["user", "auth", "auth_password", "privacy", "priv_password"] where r.table[key] != nil {
                r.report(key, "only for SNMP v3 (version = \"3\")")
            }
            r.allow("user", "auth", "auth_password", "privacy", "priv_password")
        } else {
            if r.table["community"] != nil { r.report("community", "SNMP v3 uses user and passwords, not a community") }
            r.allow("community")
            let user = r.requiredString("user")
            let auth = r.choice("auth", SNMPTarget.AuthProtocol.allCases.map(\.rawValue)).flatMap(SNMPTarget.AuthProtocol.init) ?? .sha
            let privacy = r.choice("privacy", SNMPTarget.PrivacyProtocol.allCases.map(\.rawValue)).flatMap(SNMPTarget.PrivacyProtocol.init) ?? .aes
            let authPassword = r.secret("auth_password")
            let privPassword = r.secret("priv_password")
            for (key, value) in [("auth_password", authPassword), ("priv_password", privPassword)] {
                if let value, value.count < 8 { r.report(key, "must be at least 8 characters (RFC 3414)") }
            }
            if privPassword != nil, authPassword == nil { r.report("priv_password", "privacy needs auth_password too") }
            let level: SNMPTarget.Level = authPassword == nil ? .noAuthNoPriv : privPassword == nil ? .authNoPriv : .authPriv
            if let user {
                security = .user(
                    name: user, level: level, auth: auth, authPassword: authPassword ?? "", privacy: privacy,
                    privPassword: privPassword ?? "")
            }
        }
        let context = r.string("context")
        guard r.diagnostics.issues.count == before, let security else { return nil }
        return SNMPTarget(host: host, port: port, security: security, timeout: timeout, retries: retries, context: context)
    }
}
