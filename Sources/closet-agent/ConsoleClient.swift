import ClosetAgent

#if canImport(Glibc)
import Glibc
#endif

/// `closet-agent console`: relays this terminal to the agent's console socket.
enum ConsoleClient {
    static func attach(path: String) -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8.prefix(107)) + [0]
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard fd >= 0, connected == 0 else {
            let reason = String(cString: strerror(errno))
            writeStandardError(
                "console: cannot connect to \(path): \(reason)\n"
                    + (errno == EACCES ? "  (join the agent's group to use its console)\n" : "  (is the agent running with agent.console_socket set?)\n"))
            return 1
        }
        // Raw mode so every key reaches the agent's line editor; restored on the way out.
        var saved = termios()
        let interactive = isatty(0) == 1 && tcgetattr(0, &saved) == 0
        if interactive {
            var raw = saved
            cfmakeraw(&raw)
            raw.c_oflag |= tcflag_t(OPOST | ONLCR)
            tcsetattr(0, TCSANOW, &raw)
        }
        defer { if interactive { tcsetattr(0, TCSANOW, &saved) } }
        var buffer = [UInt8](repeating: 0, count: 1024)
        var stdinOpen = true
        while true {
            var fds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0), pollfd(fd: stdinOpen ? 0 : -1, events: Int16(POLLIN), revents: 0)]
            guard poll(&fds, 2, -1) > 0 else { if errno == EINTR { continue }; break }
            if fds[0].revents != 0 {
                let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n <= 0 { break }
                _ = buffer.withUnsafeBytes { write(1, $0.baseAddress, n) }
            }
            if fds[1].revents != 0 {
                let n = buffer.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
                if n <= 0 {
                    stdinOpen = false
                    shutdown(fd, Int32(SHUT_WR))
                    continue
                }
                _ = buffer.withUnsafeBytes { send(fd, $0.baseAddress, n, Int32(MSG_NOSIGNAL)) }
            }
        }
        close(fd)
        return 0
    }
}
