#if canImport(Glibc)
import Glibc
#endif
private import CNetSNMP
import ClosetModel
import Synchronization

/// An SNMP object identifier, numeric (Debian ships no MIB files; names are never resolved).
public struct OID: Sendable, Hashable, Comparable, CustomStringConvertible, ExpressibleByStringLiteral {
    public var parts: [UInt]
    public init(_ parts: [UInt]) { self.parts = parts }
    public init(stringLiteral text: String) { self = OID(parsing: text)! }
    public init?(parsing text: String) {
        let body = text.hasPrefix(".") ? text.dropFirst() : Substring(text)
        var parts: [UInt] = []
        for piece in body.split(separator: ".", omittingEmptySubsequences: false) {
            guard let v = UInt(piece) else { return nil }
            parts.append(v)
        }
        guard parts.count >= 2 else { return nil }
        self.parts = parts
    }
    public var description: String { parts.map(String.init).joined(separator: ".") }
    public func appending(_ more: UInt...) -> OID { OID(parts + more) }
    public func isPrefix(of other: OID) -> Bool { other.parts.count > parts.count && Array(other.parts.prefix(parts.count)) == parts }
    public static func < (a: OID, b: OID) -> Bool { a.parts.lexicographicallyPrecedes(b.parts) }
}

/// One value from a varbind.
public enum SNMPValue: Sendable, Hashable {
    case integer(Int64)
    /// Counter32, Gauge32, TimeTicks (hundredths of a second), Unsigned32.
    case unsigned(UInt64, kind: UnsignedKind)
    case counter64(UInt64)
    case octets([UInt8])
    case oid(OID)
    case ipAddress([UInt8])
    case null
    case noSuchObject
    case noSuchInstance
    case endOfMibView

    public enum UnsignedKind: Sendable, Hashable { case counter32, gauge32, timeTicks }

    /// A number, for integer and counter types.
    public var number: Double? {
        switch self {
        case .integer(let v): Double(v)
        case .unsigned(let v, _): Double(v)
        case .counter64(let v): Double(v)
        default: nil
        }
    }

    /// The text of an OCTET STRING, printable characters only (NUL padding and garbage dropped).
    public var text: String? {
        guard case .octets(let bytes) = self else { return nil }
        let kept = bytes.prefix { $0 != 0 }.filter { $0 >= 0x20 && $0 < 0x7F }
        return String(decoding: kept, as: UTF8.self)
    }

    public var isException: Bool { self == .noSuchObject || self == .noSuchInstance || self == .endOfMibView }
}

/// How to reach and authenticate with an agent.
public struct SNMPTarget: Sendable, Hashable, CustomStringConvertible {
    public enum Security: Sendable, Hashable {
        case community(String)
        case user(name: String, level: Level, auth: AuthProtocol, authPassword: String, privacy: PrivacyProtocol, privPassword: String)
    }
    public enum Level: String, Sendable, Hashable { case noAuthNoPriv, authNoPriv, authPriv }
    public enum AuthProtocol: String, Sendable, Hashable, CaseIterable { case md5 = "MD5", sha = "SHA", sha256 = "SHA-256" }
    public enum PrivacyProtocol: String, Sendable, Hashable, CaseIterable { case des = "DES", aes = "AES" }

    public var host: String
    public var port: Int
    public var security: Security
    public var timeout: Duration
    public var retries: Int
    /// SNMP v3 context name (some agents, and snmpsim, select the device by it).
    public var context: String?

    public init(host: String, port: Int = 161, security: Security, timeout: Duration = .seconds(1), retries: Int = 1, context: String? = nil) {
        self.host = host
        self.port = port
        self.security = security
        self.timeout = timeout
        self.retries = retries
        self.context = context
    }

    public var description: String {
        switch security {
        case .community: "snmp v2c \(host):\(port)"
        case .user(let name, let level, _, _, _, _): "snmp v3 \(host):\(port) user \(name) (\(level.rawValue))"
        }
    }
}

/// An SNMP request failed; the description names the agent and what happened.
public struct SNMPError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable { case timeout, authentication, protocolError, setup }
    public var kind: Kind
    public var description: String
}

/// One net-snmp single session (`snmp_sess_*`, the thread-safe API). Blocking: used only on
/// its owner's queue.
final class SNMPSession: @unchecked Sendable {
    let target: SNMPTarget
    private var handle: UnsafeMutableRawPointer?
    private(set) var requests = 0

    private static let initialized = Mutex(false)

    init(target: SNMPTarget) throws(SNMPError) {
        self.target = target
        SNMPSession.initialized.withLock { done in
            guard !done else { return }
            // No MIB files, no persistent state under /var/lib: numeric OIDs only.
            netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_PERSIST_STATE, 1)
            netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_LOAD, 1)
            netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_SAVE, 1)
            setenv("MIBS", "", 1)
            init_snmp("closet-agent")
            done = true
        }
        var session = netsnmp_session()
        snmp_sess_init(&session)
        let peer = strdup("udp:\(target.host):\(target.port)")
        defer { free(peer) }
        session.peername = peer
        session.timeout = Int(target.timeout.nanoseconds / 1000)
        session.retries = Int32(target.retries)
        switch target.security {
        case .community(let community):
            session.version = closet_snmp_version_2c
            let bytes = Array(community.utf8)
            session.community = bytes.withUnsafeBufferPointer { buf in
                let p = UnsafeMutablePointer<u_char>.allocate(capacity: max(1, buf.count))
                p.initialize(from: buf.baseAddress!, count: buf.count)
                return p
            }
            session.community_len = bytes.count
        case .user(let name, let level, let auth, let authPassword, let privacy, let privPassword):
            let levelValue: Int32 = switch level {
            case .noAuthNoPriv: closet_sec_noauth
            case .authNoPriv: closet_sec_authnopriv
            case .authPriv: closet_sec_authpriv
            }
            let authIndex: Int32 = auth == .md5 ? 0 : auth == .sha ? 1 : 2
            if closet_session_v3(&session, name, levelValue, authIndex, authPassword, privacy == .des ? 0 : 1, privPassword) != 0 {
                throw SNMPError(kind: .setup, description: "\(target): passphrases must be at least 8 characters")
            }
            if let context = target.context {
                session.contextName = strdup(context)
                session.contextNameLen = context.utf8.count
            }
        }
        guard let opened = snmp_sess_open(&session) else {
            var libError: Int32 = 0
            var sysError: Int32 = 0
            var text: UnsafeMutablePointer<CChar>?
            snmp_error(&session, &libError, &sysError, &text)
            let message = text.map { String(cString: $0) } ?? "error \(libError)"
            free(text)
            throw SNMPError(kind: .setup, description: "\(target): cannot open session: \(message)")
        }
        handle = opened
    }

    deinit {
        if let handle { snmp_sess_close(handle) }
    }

    /// GET of specific OIDs.
    func get(_ oids: [OID]) throws(SNMPError) -> [(OID, SNMPValue)] {
        try request(closet_snmp_msg_get, oids, nonRepeaters: 0, maxRepetitions: 0)
    }

    /// One GETBULK.
    func getBulk(_ oids: [OID], nonRepeaters: Int = 0, maxRepetitions: Int) throws(SNMPError) -> [(OID, SNMPValue)] {
        try request(closet_snmp_msg_getbulk, oids, nonRepeaters: nonRepeaters, maxRepetitions: maxRepetitions)
    }

    private func request(_ type: Int32, _ oids: [OID], nonRepeaters: Int, maxRepetitions: Int) throws(SNMPError) -> [(OID, SNMPValue)] {
        guard let handle else { throw SNMPError(kind: .setup, description: "\(target): session closed") }
        guard let pdu = snmp_pdu_create(type) else { throw SNMPError(kind: .setup, description: "\(target): out of memory") }
        if type == closet_snmp_msg_getbulk { closet_set_bulk(pdu, nonRepeaters, maxRepetitions) }
        for name in oids {
            var raw = name.parts.map { CNetSNMP.oid($0) }
            snmp_add_null_var(pdu, &raw, raw.count)
        }
        requests += 1
        var response: UnsafeMutablePointer<netsnmp_pdu>?
        let status = snmp_sess_synch_response(handle, pdu, &response)
        defer { if let response { snmp_free_pdu(response) } }
        guard status == closet_stat_success, let response else {
            if status == closet_stat_timeout {
                let tries = target.retries + 1
                throw SNMPError(
                    kind: .timeout,
                    description: "\(target): no answer within \(target.timeout.compactDescription) x \(tries) tr\(tries == 1 ? "y" : "ies")")
            }
            var libError: Int32 = 0
            var sysError: Int32 = 0
            var text: UnsafeMutablePointer<CChar>?
            snmp_sess_error(handle, &libError, &sysError, &text)
            let message = text.map { String(cString: $0) } ?? "error \(libError)"
            free(text)
            let auth = libError == SNMPERR_AUTHENTICATION_FAILURE || libError == SNMPERR_UNKNOWN_USER_NAME
                || libError == SNMPERR_UNKNOWN_ENG_ID || libError == SNMPERR_DECRYPTION_ERR || libError == SNMPERR_USM_AUTHENTICATIONFAILURE
                || libError == SNMPERR_USM_UNKNOWNSECURITYNAME || libError == SNMPERR_USM_DECRYPTIONERROR
                || ["Authentication failure", "Unknown user", "Decryption error"].contains { message.contains($0) }
            throw SNMPError(kind: auth ? .authentication : .protocolError, description: "\(target): \(message)")
        }
        if response.pointee.errstat != 0 {
            throw SNMPError(
                kind: .protocolError,
                description: "\(target): agent error \(String(cString: snmp_errstring(Int32(response.pointee.errstat)))) at varbind \(response.pointee.errindex)")
        }
        var out: [(OID, SNMPValue)] = []
        var v = response.pointee.variables
        while let variable = v {
            let name = OID((0..<variable.pointee.name_length).map { UInt(variable.pointee.name[$0]) })
            out.append((name, Self.value(variable.pointee)))
            v = variable.pointee.next_variable
        }
        return out
    }

    private static func value(_ v: netsnmp_variable_list) -> SNMPValue {
        switch v.type {
        case closet_asn_integer:
            return .integer(Int64(v.val.integer?.pointee ?? 0))
        case closet_asn_counter:
            return .unsigned(UInt64(UInt32(truncatingIfNeeded: v.val.integer?.pointee ?? 0)), kind: .counter32)
        case closet_asn_gauge:
            return .unsigned(UInt64(UInt32(truncatingIfNeeded: v.val.integer?.pointee ?? 0)), kind: .gauge32)
        case closet_asn_timeticks:
            return .unsigned(UInt64(UInt32(truncatingIfNeeded: v.val.integer?.pointee ?? 0)), kind: .timeTicks)
        case closet_asn_counter64:
            guard let c = v.val.counter64 else { return .null }
            return .counter64(UInt64(c.pointee.high) << 32 | UInt64(c.pointee.low))
        case closet_asn_octet_str:
            guard let p = v.val.string else { return .octets([]) }
            return .octets(Array(UnsafeBufferPointer(start: p, count: v.val_len)))
        case closet_asn_ipaddress:
            guard let p = v.val.string else { return .ipAddress([]) }
            return .ipAddress(Array(UnsafeBufferPointer(start: p, count: min(v.val_len, 4))))
        case closet_asn_oid:
            guard let p = v.val.objid else { return .null }
            let count = v.val_len / MemoryLayout<CNetSNMP.oid>.size
            return .oid(OID((0..<count).map { UInt(p[$0]) }))
        case closet_asn_nosuchobject: return .noSuchObject
        case closet_asn_nosuchinstance: return .noSuchInstance
        case closet_asn_endofmibview: return .endOfMibView
        default: return .null
        }
    }
}
