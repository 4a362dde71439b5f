import ClosetModel
import ClosetTesting

#if canImport(Glibc)
import Glibc
#endif

/// `closet-bench nut-getvar`: CLIENTS connections open at once to a NUT server, each asking
/// `GET VAR UPS VAR` REQUESTS times in a row (the next as soon as the answer arrives), all
/// driven by one poll(2) loop; prints the answer, median and p99 latency, and requests/s.
enum NUTLoad {
    static func run(port: Int, ups: String, variable: String, clients: Int, requests: Int) throws {
        struct Connection {
            var fd: Int32
            var sentAt: ContinuousClock.Instant
            var done = 0
            var buffer: [UInt8] = []
        }
        let request = Array("GET VAR \(ups) \(variable)\n".utf8)
        var connections: [Connection] = []
        for _ in 0..<clients {
            let fd = try connectLoopback(port)
            connections.append(Connection(fd: fd, sentAt: .now))
        }
        defer { for c in connections { close(c.fd) } }
        var latencies: [Duration] = []
        latencies.reserveCapacity(clients * requests)
        var answers: [String: Int] = [:]
        let start = ContinuousClock.now
        for i in connections.indices {
            connections[i].sentAt = .now
            _ = request.withUnsafeBytes { send(connections[i].fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        }
        var open = clients
        while open > 0 {
            var fds = connections.map { pollfd(fd: $0.done < requests ? $0.fd : -1, events: Int16(POLLIN), revents: 0) }
            guard poll(&fds, nfds_t(fds.count), 10_000) > 0 else { throw TestSetupError("no answer within 10 s (\(open) clients waiting)") }
            for i in connections.indices where fds[i].revents != 0 {
                var chunk = [UInt8](repeating: 0, count: 1024)
                let n = chunk.withUnsafeMutableBytes { recv(connections[i].fd, $0.baseAddress, $0.count, 0) }
                guard n > 0 else { throw TestSetupError("client \(i): connection closed after \(connections[i].done) answers") }
                connections[i].buffer += chunk[..<n]
                while let newline = connections[i].buffer.firstIndex(of: 0x0A) {
                    let line = String(decoding: connections[i].buffer[..<newline], as: UTF8.self)
                    connections[i].buffer.removeSubrange(...newline)
                    latencies.append(connections[i].sentAt.duration(to: .now))
                    answers[line, default: 0] += 1
                    connections[i].done += 1
                    if connections[i].done < requests {
                        connections[i].sentAt = .now
                        _ = request.withUnsafeBytes { send(connections[i].fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                    } else {
                        open -= 1
                    }
                }
            }
        }
        let elapsed = start.duration(to: .now)
        latencies.sort()
        func ms(_ d: Duration) -> String { ClosetBench.format3(d.seconds * 1000) }
        let p50 = latencies[latencies.count / 2]
        let p99 = latencies[min(latencies.count - 1, latencies.count * 99 / 100)]
        let answer = answers.count == 1 ? answers.keys.first! : "\(answers.count) different answers: \(answers)"
        print(
            "\(clients) clients x \(requests) GET VAR on 127.0.0.1:\(port): \(latencies.count) answers \"\(answer)\"; "
                + "median \(ms(p50)) ms, p99 \(ms(p99)) ms, \(Int(Double(latencies.count) / elapsed.seconds)) requests/s")
        if answers.count != 1 { exit(1) }
    }
}
