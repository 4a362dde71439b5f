#if canImport(Glibc)
import Glibc
#endif

/// Tells "SNMP misconfigured" from "switch dead": a host that answers a TCP connection, even
/// with a refusal, is alive. ICMP would need a raw socket (root or CAP_NET_RAW), which the
/// agent does not run with.
public enum TCPProbe {
    public enum Outcome: Sendable, Hashable {
        case open, refused, noAnswer
    }

    /// Connects to every port at once; waits at most `timeout` in all. Blocking.
    public static func check(host: String, ports: [Int], timeout: Duration) -> [Int: Outcome] {
        var address = in_addr()
        guard inet_pton(AF_INET, host, &address) == 1 else {
            return Dictionary(uniqueKeysWithValues: ports.map { ($0, .noAnswer) })
        }
        var sockets: [(port: Int, fd: Int32)] = []
        var outcome: [Int: Outcome] = [:]
        for port in ports {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { outcome[port] = .noAnswer; continue }
            var sa = sockaddr_in()
            sa.sin_family = sa_family_t(AF_INET)
            sa.sin_port = in_port_t(UInt16(port).bigEndian)
            sa.sin_addr = address
            let r = withUnsafePointer(to: &sa) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            if r == 0 {
                outcome[port] = .open
                close(fd)
            } else if errno == EINPROGRESS {
                sockets.append((port, fd))
            } else {
                outcome[port] = errno == ECONNREFUSED ? .refused : .noAnswer
                close(fd)
            }
        }
        let deadline = ContinuousClock.now + timeout
        while !sockets.isEmpty {
            let remaining = ContinuousClock.now.duration(to: deadline)
            guard remaining > .zero else { break }
            var fds = sockets.map { pollfd(fd: $0.fd, events: Int16(POLLOUT), revents: 0) }
            let n = poll(&fds, nfds_t(fds.count), Int32(max(1, remaining.nanoseconds / 1_000_000)))
            if n <= 0 { if n < 0 && errno == EINTR { continue }; break }
            var still: [(port: Int, fd: Int32)] = []
            for (i, entry) in sockets.enumerated() {
                guard fds[i].revents != 0 else { still.append(entry); continue }
                var error: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                getsockopt(entry.fd, SOL_SOCKET, SO_ERROR, &error, &length)
                outcome[entry.port] = error == 0 ? .open : error == ECONNREFUSED ? .refused : .noAnswer
                close(entry.fd)
            }
            sockets = still
        }
        for entry in sockets {
            outcome[entry.port] = .noAnswer
            close(entry.fd)
        }
        return outcome
    }

    /// A sentence for the stale reason.
    public static func verdict(host: String, _ outcomes: [Int: Outcome]) -> String {
        let alive = outcomes.filter { $0.value != .noAnswer }.sorted { $0.key < $1.key }
        if alive.isEmpty {
            let ports = outcomes.keys.sorted().map(String.init).joined(separator: ", ")
            return "\(host) does not answer on TCP \(ports) either: switch down or unreachable"
        }
        let list = alive.map { "\($0.key) (\($0.value == .open ? "open" : "refused"))" }.joined(separator: ", ")
        return "\(host) is alive (TCP \(list)): SNMP agent off, or wrong community / credentials / ACL"
    }
}
