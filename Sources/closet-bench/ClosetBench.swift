// Measurements for tools/bench: each subcommand drives the agent's real code path and
// prints one line of numbers. Not shipped on the board.
import ClosetBackup
import ClosetConfig
import ClosetConsole
import ClosetTesting
import ClosetUplink
import ClosetWire
import ClosetModbus
import ClosetSNMP
import ClosetModel
import ClosetUSBHID

#if canImport(Glibc)
import Glibc
#endif

@main
enum ClosetBench {
    static func main() async throws {
        let args = Array(CommandLine.arguments.dropFirst())
        func value(_ name: String, _ fallback: String) -> String {
            guard let i = args.firstIndex(of: "--" + name), i + 1 < args.count else { return fallback }
            return args[i + 1]
        }
        func map(_ name: String) -> RegisterMap {
            let text = BuiltInMaps.all.first { $0.name == name }!.text
            return RegisterMapReader.parse(text, file: name, defaultName: name, into: ConfigDiagnostics(file: name))!
        }
        switch args.first {
        case "modbus-tcp-rate":
            // Sequential reads of the probe's two input registers, as the raw C loop does.
            let endpoint = ModbusEndpoint.tcp(host: "127.0.0.1", port: Int(value("port", "1502"))!)
            let count = Int(value("count", "2000"))!
            let bus = ModbusBus(endpoint: endpoint, responseTimeout: .seconds(1), byteTimeout: .milliseconds(500))
            let driver = ModbusDriver(configuration: .init(endpoint: endpoint, unit: 2, map: map("generic-th-probe")), bus: bus)
            _ = try await driver.poll(at: Timestamp(nanosecondsSinceEpoch: 0))
            let start = ContinuousClock.now
            for _ in 0..<count { _ = try await driver.poll(at: Timestamp(nanosecondsSinceEpoch: 0)) }
            let seconds = (ContinuousClock.now - start).seconds
            print("swift-driver \(count) transactions in \(format3(seconds)) s: \(Int(Double(count) / seconds)) per second")
        case "modbus-closet-poll":
            // One full poll of the closet's UPS (unit 1) and four probes (units 2-5) on one bus.
            let endpoint: ModbusEndpoint =
                args.contains("--device")
                ? .rtu(device: value("device", ""), baud: 9600, parity: .none, dataBits: 8, stopBits: 1, rs485: false)
                : .tcp(host: "127.0.0.1", port: Int(value("port", "1502"))!)
            let coalesce = value("coalesce", "on") == "on"
            let bus = ModbusBus(endpoint: endpoint, responseTimeout: .seconds(2), byteTimeout: .milliseconds(500))
            let drivers = [ModbusDriver(configuration: .init(endpoint: endpoint, unit: 1, map: map("apc-smt"), coalesce: coalesce), bus: bus)]
                + (2...5).map { ModbusDriver(configuration: .init(endpoint: endpoint, unit: $0, map: map("generic-th-probe"), coalesce: coalesce), bus: bus) }
            for d in drivers { _ = try? await d.poll(at: Timestamp(nanosecondsSinceEpoch: 0)) }  // warm up the line
            let rounds = Int(value("rounds", "5"))!
            var best = Double.infinity
            var transactions = 0
            for _ in 0..<rounds {
                let before = bus.transactions
                let start = ContinuousClock.now
                // The poll loop polls devices concurrently; the bus serializes them.
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for d in drivers { group.addTask { _ = try await d.poll(at: Timestamp(nanosecondsSinceEpoch: 0)) } }
                    try await group.waitForAll()
                }
                best = min(best, (ContinuousClock.now - start).seconds)
                transactions = bus.transactions - before
            }
            print("closet-poll coalesce=\(coalesce ? "on" : "off") transactions=\(transactions) best-wall=\(format3(best)) s over \(rounds) rounds")
        case "snmp-switches":
            // A full link-state poll of several switches, one after another or concurrently.
            let port = Int(value("port", "16100"))!
            let communities = value("communities", "core1").split(separator: ",").map(String.init)
            let concurrent = value("concurrent", "on") == "on"
            let drivers = communities.map { c -> SNMPSwitchDriver in
                let target = SNMPTarget(host: "127.0.0.1", port: port, security: .community(c), timeout: .seconds(5), retries: 0)
                return SNMPSwitchDriver(configuration: .init(target: target), client: SNMPClient(target: target))
            }
            for d in drivers { _ = try await d.poll(at: Timestamp(nanosecondsSinceEpoch: 0)) }  // warm up
            var best = Double.infinity
            var ports = 0
            for _ in 0..<Int(value("rounds", "3"))! {
                let start = ContinuousClock.now
                if concurrent {
                    ports = try await withThrowingTaskGroup(of: Int.self) { group in
                        for d in drivers { group.addTask { try await d.poll(at: Timestamp(nanosecondsSinceEpoch: 0)).filter { $0.name.portComponents?.field == .oper }.count } }
                        var total = 0
                        for try await n in group { total += n }
                        return total
                    }
                } else {
                    ports = 0
                    for d in drivers { ports += try await d.poll(at: Timestamp(nanosecondsSinceEpoch: 0)).filter { $0.name.portComponents?.field == .oper }.count }
                }
                best = min(best, (ContinuousClock.now - start).seconds)
            }
            let pdus = drivers.map(\.client.requests).reduce(0, +) / (Int(value("rounds", "3"))! + 1)
            print("agent \(concurrent ? "concurrent" : "one by one"): \(drivers.count) switches, \(ports) ports, best \(format3(best)) s, \(pdus) PDUs a poll")
        case "console-status":
            // `status` on a console with the reference closet's data: 1 UPS, 4 probes,
            // 2 core switches of 24 ports, 3 access switches of 52, 100 events.
            let session = ConsoleSession(language: .en, source: ReferenceConsole())
            var times: [Double] = []
            for _ in 0..<Int(value("rounds", "500"))! {
                let start = ContinuousClock.now
                let (output, _) = await session.receive(Array("status\r".utf8))
                times.append((ContinuousClock.now - start).seconds * 1000)
                precondition(output.count > 500)
            }
            times.sort()
            print("console status: median \(format3(times[times.count / 2])) ms, p99 \(format3(times[times.count * 99 / 100])) ms over \(times.count) runs")
        case "encode":
            // The recorder's cost per record on the reference closet (all devices re-polled).
            let t0 = Timestamp(secondsSinceEpoch: 1_795_608_000)
            var e = RecordEncoder(site: "", boot: 1, nextSeq: 1)
            let (state, events) = ReferenceCloset.state(at: t0)
            _ = e.records(state: state, events: events, at: t0)
            let n = Int(value("count", "200"))!
            let start = ContinuousClock.now
            for i in 1...n { _ = e.records(state: state, events: [], at: t0.advanced(by: .seconds(Int64(10 * i)))) }
            print("encode: \(format3((ContinuousClock.now - start).seconds / Double(n) * 1000)) ms a record (reference closet)")
        case "outbox-open":
            // Opening after a crash: an outbox holding a 7-day backlog, reopened.
            let path = "/var/tmp/closet-bench-open-\(getpid()).db"
            defer { for suffix in ["", "-wal", "-shm"] { unlink(path + suffix) } }
            do {
                let o = try Outbox(path: path, maxBytes: 1 << 30)
                var records: [WireRecord] = []
                records.reserveCapacity(60_480)
                for i in 1...60_480 {
                    let body: WireRecord.Body
                    if i % 90 == 1 {
                        let values: [Int64] = (0..<40).map { Int64($0 * 31 + i % 7) }
                        body = .full(WireSnapshot(dictionary: 1, levels: [0, 0, 0, 0, 0, 0, 0], present: [255, 255, 255, 255, 255], values: values, ports: []))
                    } else {
                        body = .delta(WireDelta(base: UInt64(i - 1), changed: [3, 4], values: [Int64(i % 50), 7]))
                    }
                    records.append(WireRecord(boot: 1, seq: UInt64(i), time: Int64(i * 10), body: body))
                }
                o.append(records)
                try o.commit()
            }
            // The file as a power cut leaves it: WAL not checkpointed by a clean close is the
            // worst case SQLite recovers from; here the process just reopens it.
            let start = ContinuousClock.now
            let o = try Outbox(path: path, maxBytes: 1 << 30)
            let stats = try o.stats()
            print("outbox open: \(stats.records) records, \(stats.bytes) bytes, opened and counted in \(format3((ContinuousClock.now - start).seconds * 1000)) ms")
        case "outbox-append":
            try outboxAppend(count: Int(value("count", "2000"))!)
        case "drain":
            try drain(url: value("url", ""), site: value("site", "bench"), key: value("key", ""), records: Int(value("records", "60480"))!,
                      bandwidth: Int(value("bandwidth", "0"))!, work: value("work", "/tmp"))
        case "record-sizes":
            recordSizes()
        case "hid":
            try hid(folder: value("fixtures", "../shared/fixtures/usb-hid"), rounds: Int(value("rounds", "2000"))!)
        case "store-setup":
            try await StoreLoad.setup(db: value("db", "/tmp/store.db"), keyFile: value("key-file", "/tmp/store.db.master-key"), count: Int(value("sites", "1000"))!, keysFile: value("keys", "/tmp/keys.txt"))
        case "store-steady":
            try StoreLoad.steady(
                url: value("url", "http://127.0.0.1:8443/v1/ingest"), keysFile: value("keys", "/tmp/keys.txt"),
                interval: .seconds(Int(value("interval", "10"))!), seconds: Int(value("seconds", "60"))!, workers: Int(value("workers", "32"))!)
        case "store-burst":
            try StoreLoad.burst(
                url: value("url", "http://127.0.0.1:8443/v1/ingest"), keysFile: value("keys", "/tmp/keys.txt"), sites: Int(value("sites", "20"))!,
                backlog: Int(value("backlog", "6048"))!, batch: Int(value("batch", "500"))!, workers: Int(value("workers", "8"))!)
        case "page-time":
            // GET a page N times in a row; the median and worst, with the page's size.
            let endpoint = HTTPEndpoint(value("url", "http://127.0.0.1:8443/"))!
            let client = try HTTPClient(timeout: .seconds(60))
            var times: [Duration] = []
            var size = 0
            for _ in 0..<Int(value("count", "20"))! {
                let start = ContinuousClock.now
                let reply: HTTPReply
                do throws(HTTPFailure) {
                    reply = try client.send("GET", endpoint, headers: [], body: [])
                } catch {
                    print("GET \(endpoint): \(error)")
                    exit(1)
                }
                times.append(start.duration(to: .now))
                size = reply.body.count
                guard reply.status == 200 else { print("GET \(endpoint): \(reply.status)"); exit(1) }
            }
            times.sort()
            print("GET \(endpoint): \(size) bytes; median \(format3(times[times.count / 2].seconds * 1000)) ms, worst \(format3(times.last!.seconds * 1000)) ms over \(times.count)")
        case "nut-getvar":
            try NUTLoad.run(
                port: Int(value("port", "3493"))!, ups: value("ups", "ups"), variable: value("var", "battery.charge"),
                clients: Int(value("clients", "100"))!, requests: Int(value("requests", "100"))!)
        case "verify":
            // The backup verifier on FILE against FILE.sha256, as the agent runs it.
            guard args.count >= 2 else { print("usage: closet-bench verify FILE [--rate BYTES_PER_S]"); exit(64) }
            let file = args[1]
            let slash = file.lastIndex(of: "/")!
            let base = String(file[..<slash])
            let rate = Int64(value("rate", "0"))!
            let start = ContinuousClock.now
            let outcome = ChecksumVerifier(rateLimit: rate > 0 ? rate : nil).verify(manifestPath: file + ".sha256", base: base)
            let seconds = (ContinuousClock.now - start).seconds
            guard case .ok(_, let bytes) = outcome else { print("verify: \(outcome)"); exit(1) }
            let peak = (try? readTextFile("/proc/self/status"))?.split(separator: "\n").first { $0.hasPrefix("VmHWM:") } ?? "VmHWM: ?"
            print("closet verify \(bytes) bytes in \(format3(seconds)) s: \(Int(Double(bytes) / seconds / 1e6)) MB/s, peak \(peak.split(separator: " ", omittingEmptySubsequences: true).dropFirst().joined(separator: " "))")
        default:
            print("usage: closet-bench modbus-tcp-rate --port P [--count N] | modbus-closet-poll (--port P | --device D) [--coalesce on|off]")
            exit(64)
        }
    }

    /// The HID driver's pure work on a real UPS: parsing its report descriptor, and one
    /// poll (GET_REPORT of the mapped reports, decoding, mapping) over the replay transport.
    static func hid(folder: String, rounds: Int) throws {
        let hexText = try readTextFile(folder + "/apc_back-ups_bk650m2-ch_051d-0002.rdesc.hex")
        let reports = try readTextFile(folder + "/apc_back-ups_bk650m2-ch_051d-0002.reports.txt")
        let replay = ReplayHIDTransport(name: "APC Back-UPS BK650M2-CH", descriptorHex: hexText, reports: reports)
        let descriptor = try replay.reportDescriptor()
        var fields = 0
        var start = ContinuousClock.now
        for _ in 0..<rounds { fields = try HIDDescriptorParser.parse(descriptor).count }
        let parse = start.duration(to: .now) / rounds
        var reader = try HIDReader(descriptor: descriptor)
        var readings = 0
        start = .now
        for _ in 0..<rounds { readings = try reader.poll(replay, at: Timestamp(nanosecondsSinceEpoch: 0), drain: .zero).count }
        let poll = start.duration(to: .now) / rounds
        print(
            "APC Back-UPS descriptor (\(descriptor.count) bytes, \(fields) fields): parse \(format3(parse.seconds * 1e6)) µs; "
                + "one poll (\(reader.wanted.count) GET_REPORTs, \(readings) readings) \(format3(poll.seconds * 1e6)) µs of CPU, mean of \(rounds) in a row")
    }

    /// A week of the reference closet at one record per 10 s: a full snapshot every 15 min,
    /// deltas between (probe temperatures and a flapping desk port keep them non-empty).
    static func week(_ count: Int) -> [WireRecord] {
        var e = RecordEncoder(site: "", boot: 1, nextSeq: 1, fullEvery: .seconds(900))
        let t0 = Timestamp(secondsSinceEpoch: 1_795_608_000)
        var (state, events) = ReferenceCloset.state(at: t0)
        var out = e.records(state: state, events: events, at: t0)
        // Only the probes and one access switch change; their polls repeat, so build each once.
        var cache: [Int: [(name: String, policy: DevicePolicy, readings: [Reading])]] = [:]
        var i = 0
        while out.count < count {
            i += 1
            let t = t0.advanced(by: .seconds(Int64(10 * i)))
            let key = (i % 30 < 15 ? 100 : 0) + i % 20
            if cache[key] == nil {
                cache[key] = ReferenceCloset.polls(at: t0, downPorts: i % 30 < 15 ? ["access1:3"] : [], temperature: 24 + Double(i % 20) * 0.3)
                    .filter { $0.name.hasPrefix("probe") || $0.name == "access1" }
            }
            var ev: [Event] = []
            for p in cache[key]! { ev += state.apply(.readings(p.readings), device: p.name, at: t) }
            out += e.records(state: state, events: ev, at: t)
            events = []
        }
        return Array(out.prefix(count))
    }

    /// Durable appends: one commit per record (the slowest honest case) and commits of 60.
    static func outboxAppend(count: Int) throws {
        let records = week(count)
        for batch in [1, 60] {
            let path = "/tmp/closet-bench-outbox-\(getpid()).db"
            defer { for suffix in ["", "-wal", "-shm"] { unlink(path + suffix) } }
            let o = try Outbox(path: path)
            let start = ContinuousClock.now
            var i = 0
            while i < records.count {
                o.append(Array(records[i..<min(i + batch, records.count)]))
                try o.commit()
                i += batch
            }
            let seconds = (ContinuousClock.now - start).seconds
            print("outbox append, commit every \(batch) record(s): \(records.count) records in \(format3(seconds)) s = \(Int(Double(records.count) / seconds)) records/s")
        }
    }

    /// Fills an outbox with `records` records and pushes it to the store as the uplink does.
    static func drain(url: String, site: String, key: String, records count: Int, bandwidth: Int, work: String) throws {
        guard let endpoint = HTTPEndpoint(url), let keyBytes = unhex(key) else { print("drain: --url and --key"); exit(64) }
        let path = work + "/closet-bench-drain-\(getpid()).db"
        defer { for suffix in ["", "-wal", "-shm"] { unlink(path + suffix) } }
        let o = try Outbox(path: path)
        let made = ContinuousClock.now
        o.append(week(count))
        try o.commit()
        let stored = try o.stats()
        print("drain: \(stored.records) records, \(stored.bytes) bytes in the outbox (made in \(format3((ContinuousClock.now - made).seconds)) s)")
        let push = StorePush(endpoint: endpoint, site: site, key: keyBytes, client: try HTTPClient(timeout: .seconds(60)), bandwidth: bandwidth > 0 ? bandwidth : nil)
        let start = ContinuousClock.now
        var sent = 0
        var batches = 0
        while true {
            let batch = try o.pending(sink: 0)
            if batch.isEmpty { break }
            let now = Int64(time(nil))
            switch push.push(records: batch.map(\.body), thinned: 0, refused: 0, now: now) {
            case .stored(let through, let bytes, _):
                try o.acknowledge(sink: 0, seqs: batch.map(\.seq).filter { $0 <= through })
                sent += bytes
                batches += 1
            case let other:
                print("drain: push failed: \(other)")
                exit(1)
            }
        }
        let seconds = (ContinuousClock.now - start).seconds
        let rate = Double(sent) / seconds
        print("drain: \(count) records in \(batches) batches, \(sent) bytes on the wire, \(format3(seconds)) s"
            + (bandwidth > 0 ? ", \(Int(rate)) B/s against a cap of \(bandwidth) B/s (\(Int((rate / Double(bandwidth) - 1) * 1000) / 10)%)" : ", \(Int(Double(count) / seconds)) records/s"))
    }

    /// The reference closet as our records, as JSON and as InfluxDB line protocol, raw and
    /// deflated, in one run.
    static func recordSizes() {
        let t0 = Timestamp(secondsSinceEpoch: 1_795_608_000)
        var e = RecordEncoder(site: "so-tttt-hanoi", boot: 1, nextSeq: 1)
        let (state, events) = ReferenceCloset.state(at: t0)
        let first = e.records(state: state, events: events, at: t0)
        let full = first.last!.encoded()
        var s2 = state
        var ev: [Event] = []
        let t1 = t0.advanced(by: .seconds(10))
        var down = Set(ReferenceCloset.switches.flatMap { s in s.ports == 52 ? stride(from: 7, through: 52, by: 7).map { "\(s.name):\($0)" } : [] })
        down.insert("core1:24")
        for p in ReferenceCloset.polls(at: t1, downPorts: down) { ev += s2.apply(.readings(p.readings), device: p.name, at: t1) }
        let second = e.records(state: s2, events: ev, at: t1)
        let delta = second.last!.encoded()
        let eventRecord = second.first!.encoded()
        let dictionary = first.first!.encoded()

        // The same content as JSON and as line protocol: device levels, numeric values, port states.
        func json(_ st: SiteState) -> String {
            var out = "{\"site\":\"so-tttt-hanoi\",\"time\":1795608000,\"devices\":{"
            out += st.devices.map { d in
                var parts = ["\"level\":\"\(d.health.rawValue)\""]
                let values = d.sortedReadings.filter { $0.name.portComponents == nil && !$0.name.rawValue.hasPrefix("ports.") && $0.value.number != nil }
                if !values.isEmpty { parts.append("\"values\":{" + values.map { "\"\($0.name)\":\($0.value.description)" }.joined(separator: ",") + "}") }
                let ports = d.sortedReadings.filter { $0.name.portComponents?.field == .oper }
                if !ports.isEmpty { parts.append("\"ports_up\":\"" + ports.map { $0.value.description == "up" ? "1" : "0" }.joined() + "\"") }
                return "\"\(d.name)\":{" + parts.joined(separator: ",") + "}"
            }.joined(separator: ",")
            return out + "}}"
        }
        func lines(_ st: SiteState) -> String {
            var out = ""
            for d in st.devices {
                let values = d.sortedReadings.filter { $0.name.portComponents == nil && !$0.name.rawValue.hasPrefix("ports.") && $0.value.number != nil }
                let fields = (["level=\"\(d.health.rawValue)\""] + values.map { "\($0.name)=\($0.value.description)" }).joined(separator: ",")
                out += "closet,site=so-tttt-hanoi,device=\(d.name) \(fields) 1795608000\n"
                for p in d.sortedReadings where p.name.portComponents?.field == .oper {
                    let name = d.readings[.port(p.name.portComponents!.index, .name)]?.value.description ?? ""
                    out += "closet_port,site=so-tttt-hanoi,device=\(d.name),port=\(name.replacingSpaces) up=\(p.value.description == "up" ? 1 : 0)i 1795608000\n"
                }
            }
            return out
        }
        func row(_ name: String, _ bytes: [UInt8]) {
            print("\(name.padding(44)) \(String(bytes.count).leftPadding(7)) B   deflated \(String(Deflate.compress(bytes, level: 9).count).leftPadding(6)) B")
        }
        row("closet full snapshot (protobuf)", full)
        row("closet one-port delta (protobuf)", delta)
        row("closet event record for that change", eventRecord)
        row("closet dictionary (sent when names change)", dictionary)
        row("same full state as JSON", Array(json(state).utf8))
        row("same full state as InfluxDB line protocol", Array(lines(state).utf8))
        row("full state after the change, JSON", Array(json(s2).utf8))
        row("full state after the change, line protocol", Array(lines(s2).utf8))
    }

    static func format3(_ v: Double) -> String {
        let ms = Int((v * 1000).rounded())
        return "\(ms / 1000).\(String(repeating: "0", count: 3 - String(ms % 1000).count))\(ms % 1000)"
    }
}

/// The reference closet's state with 100 events, for the console benchmark.
struct ReferenceConsole: ConsoleDataSource {
    /// Built once: the benchmark measures the console, not the state machine.
    static let cached: ConsoleView = build()

    func view() async -> ConsoleView { Self.cached }

    static func build() -> ConsoleView {
        let t0 = Timestamp(secondsSinceEpoch: 1_800_000_000)
        var (s, events) = ReferenceCloset.state(at: t0, site: "reference")
        var i = 0
        while events.count < 100 {
            i += 1
            let t = t0.advanced(by: .seconds(Int64(10 * i)))
            for p in ReferenceCloset.polls(at: t, downPorts: i % 2 == 0 ? ["core1:3"] : []) { events += s.apply(.readings(p.readings), device: p.name, at: t) }
        }
        return ConsoleView(state: s, events: Array(events.suffix(100)), configuration: [], now: t0, version: "bench")
    }
    func selftest() async -> [String] { [] }
}

extension String {
    func padding(_ n: Int) -> String { count >= n ? self : self + String(repeating: " ", count: n - count) }
    func leftPadding(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
    var replacingSpaces: String { String(map { $0 == " " ? "_" : $0 }) }
}
