import ClosetModel
import ClosetStore
import ClosetTesting
import ClosetUplink
import ClosetWire
import Foundation
import Testing

/// The pages and APIs on a store that holds the reference closet's records (pushed through
/// the real ingest), read back over HTTP.
@Suite(.serialized) struct DashboardTests {
    func get(_ store: StoreFixture, _ path: String) async throws -> (status: Int, type: String, body: String) {
        let endpoint = HTTPEndpoint("http://127.0.0.1:\(store.port)\(path)")!
        let reply = try await blocking { try HTTPClient(timeout: .seconds(30)).send("GET", endpoint, headers: [], body: []) }
        return (reply.status, reply.headers["content-type"] ?? "", String(decoding: reply.body, as: UTF8.self))
    }

    func filledStore(_ engine: StoreEngine = .sqlite) async throws -> StoreFixture {
        let store = try await StoreFixture(engine: engine)
        let t0 = Timestamp(secondsSinceEpoch: Double(store.clock.now() - 3600))
        var e = RecordEncoder(site: "", boot: 1, nextSeq: 1)
        var (state, events) = ReferenceCloset.state(at: t0)
        var records = e.records(state: state, events: events, at: t0)
        // An hour of the closet every 5 minutes: the probes warm up, core1's port 24 goes down.
        for i in 1...12 {
            let t = t0.advanced(by: .seconds(Int64(i * 300)))
            var ev: [Event] = []
            for p in ReferenceCloset.polls(at: t, downPorts: i >= 6 ? ["core1:24"] : [], temperature: 24 + Double(i) * 0.5) {
                ev += state.apply(.readings(p.readings), device: p.name, at: t)
            }
            records += e.records(state: state, events: ev, at: t)
            events = []
        }
        guard case .stored = try await store.push(records) else { throw TestSetupError("the reference records were not stored") }
        return store
    }

    @Test(arguments: StoreEngine.allCases) func theOverviewAndTheSitePageShowTheClosetWithItsPortsAndCharts(_ engine: StoreEngine) async throws {
        let store = try await filledStore(engine)
        defer { store.stop() }
        let overview = try await get(store, "/")
        #expect(overview.status == 200 && overview.type.hasPrefix("text/html"))
        #expect(overview.body.contains("<a href=\"/sites/so-tttt-hanoi\">so-tttt-hanoi</a>"))
        #expect(overview.body.contains("<span class=\"badge\">WARN</span>"), "core1's port 24 is down")
        let page = try await get(store, "/sites/so-tttt-hanoi?range=24h")
        #expect(page.status == 200)
        // 2 x 24 + 3 x 52 switch ports plus the board NIC, each a square.
        #expect(page.body.components(separatedBy: "<span class=\"port ").count - 1 == 205)
        #expect(page.body.contains("<span class=\"port down\" title=\"Gi1/0/24: down\">"))
        #expect(page.body.contains("<figcaption>Temperatures</figcaption>") && page.body.contains("<polyline"))
        #expect(page.body.contains("<figcaption>Port changes</figcaption><svg"))
        #expect(page.body.contains("ambient.temperature"))
        #expect(page.body.contains("port.24.oper"), "the event timeline")
        #expect(!page.body.contains("<script"), "no JavaScript")
        #expect(try await get(store, "/sites/nosuch").status == 404)
    }

    @Test(arguments: StoreEngine.allCases) func theJSONAPIGivesSitesStateEventsAndHistory(_ engine: StoreEngine) async throws {
        let store = try await filledStore(engine)
        defer { store.stop() }
        let sites = try await get(store, "/v1/sites")
        #expect(sites.type == "application/json")
        #expect(sites.body.hasPrefix("{\"sites\":[{\"name\":\"so-tttt-hanoi\",\"health\":\"WARN\",\"silent\":false,"))
        let site = try await get(store, "/v1/sites/so-tttt-hanoi")
        #expect(site.body.contains("{\"variable\":\"ambient.temperature\",\"value\":30,\"unit\":\"degC\"}"))
        #expect(site.body.contains("{\"index\":24,\"name\":\"Gi1/0/24\",\"state\":\"down\"}"))
        let events = try await get(store, "/v1/sites/so-tttt-hanoi/events?limit=5")
        #expect(events.body.hasPrefix("{\"events\":[{\"time\":"))
        let history = try await get(store, "/v1/sites/so-tttt-hanoi/history?device=probe-rack1&variable=ambient.temperature&range=24h&buckets=24")
        #expect(history.body.contains("\"points\":[{\"time\":"))
        #expect(history.body.contains("\"max\":30}"))
        #expect(try await get(store, "/v1/sites/so-tttt-hanoi/history").status == 400)
        #expect(try await get(store, "/v1/sites/nosuch").status == 404)
    }

    @Test(arguments: StoreEngine.allCases) func prometheusGetsEachSitesLatestValues(_ engine: StoreEngine) async throws {
        let store = try await filledStore(engine)
        defer { store.stop() }
        let metrics = try await get(store, "/metrics")
        #expect(metrics.type.hasPrefix("text/plain; version=0.0.4"))
        #expect(metrics.body.contains("# TYPE closet_ambient_temperature gauge\n"))
        #expect(metrics.body.contains("closet_ambient_temperature{site=\"so-tttt-hanoi\",device=\"probe-rack1\"} 30\n"))
        #expect(metrics.body.contains("closet_port_down{site=\"so-tttt-hanoi\",device=\"core1\",port=\"24\",name=\"Gi1/0/24\"} 1\n"))
        #expect(metrics.body.contains("closet_ports{site=\"so-tttt-hanoi\",device=\"core1\",state=\"up\"} 23\n"))
        #expect(!metrics.body.contains("closet_port_down{site=\"so-tttt-hanoi\",device=\"core2\""), "up ports have no series")
        #expect(metrics.body.contains("closet_site_health{site=\"so-tttt-hanoi\"} 2\n"))
        // Every sample line is NAME{labels} VALUE.
        for line in metrics.body.split(separator: "\n") where !line.hasPrefix("#") {
            #expect(line.range(of: #"^closet_[a-zA-Z0-9_]+\{[^}]*\} -?[0-9.e+-]+$"#, options: .regularExpression) != nil, "\(line)")
        }
    }
}

/// The pages in a real browser: Debian's Chromium, headless. The DOM it builds is checked
/// and screenshots are kept in .build/artifacts/ for a person to look at.
@Suite(.serialized, .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium"), "needs Debian's chromium (tools/setup)"))
struct DashboardInChromiumTests {
    func chromium(_ arguments: [String]) throws -> (out: String, err: String) {
        let r = try runProgram("/usr/bin/chromium", ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--enable-logging=stderr", "--v=0"] + arguments)
        return (r.out, r.err)
    }

    @Test func theOverviewAndASitePageRenderInChromium() async throws {
        let store = try await DashboardTests().filledStore()
        defer { store.stop() }
        let artifacts = repositoryRoot + "/.build/artifacts"
        try FileManager.default.createDirectory(atPath: artifacts, withIntermediateDirectories: true)
        let base = "http://127.0.0.1:\(store.port)"
        let overview = try await blocking { try self.chromium(["--dump-dom", base + "/"]) }
        #expect(overview.out.contains(">so-tttt-hanoi</a>"), "the site is listed")
        let site = try await blocking { try self.chromium(["--dump-dom", base + "/sites/so-tttt-hanoi"]) }
        #expect(site.out.components(separatedBy: "class=\"port ").count - 1 == 205, "every port square in the DOM")
        #expect(site.out.contains("<svg"), "the charts")
        for page in [overview, site] {
            #expect(!page.err.contains("Failed to load resource") && !page.err.contains("Uncaught"), "\(page.err.suffix(500))")
        }
        for (name, path, height) in [("dashboard-overview", "/", 400), ("dashboard-site", "/sites/so-tttt-hanoi", 2200)] {
            let file = "\(artifacts)/\(name).png"
            try? FileManager.default.removeItem(atPath: file)
            _ = try await blocking { try self.chromium(["--screenshot=\(file)", "--window-size=1280,\(height)", base + path]) }
            let size = (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0
            #expect(size > 10_000, "\(file) written (\(size) bytes)")
        }
    }
}

@Suite(.serialized) struct LoginTests {
    func get(_ store: StoreFixture, _ path: String, user: String? = nil) async throws -> Int {
        let endpoint = HTTPEndpoint("http://127.0.0.1:\(store.port)\(path)")!
        let headers = user.map { [("Authorization", "Basic " + base64(Array($0.utf8)))] } ?? []
        return try await blocking { try HTTPClient(timeout: .seconds(30)).send("GET", endpoint, headers: headers, body: []) }.status
    }

    func base64(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        var out = ""
        for chunk in stride(from: 0, to: bytes.count, by: 3) {
            let b = Array(bytes[chunk..<min(chunk + 3, bytes.count)]) + [0, 0]
            let n = UInt32(b[0]) << 16 | UInt32(b[1]) << 8 | UInt32(b[2])
            let count = min(3, bytes.count - chunk)
            for i in 0..<4 { out.append(i <= count ? alphabet[Int(n >> UInt32(18 - 6 * i)) & 63] : "=") }
        }
        return out
    }

    @Test(arguments: StoreEngine.allCases) func withAUserEverythingButIngestAndHealthNeedsTheLogin(_ engine: StoreEngine) async throws {
        let store = try await StoreFixture(engine: engine)
        defer { store.stop() }
        #expect(try await get(store, "/") == 200, "no user defined: open")
        try await store.backend.addUser(name: "centre", password: "s3cret-pass", now: 0)
        store.clock.offset += 11  // past the store's 10 s memory of "no users"
        for path in ["/", "/sites/so-tttt-hanoi", "/v1/sites", "/metrics"] {
            #expect(try await get(store, path) == 401, "\(path) without a login")
            #expect(try await get(store, path, user: "centre:wrong") == 401, "\(path) with a wrong password")
        }
        #expect(try await get(store, "/", user: "centre:s3cret-pass") == 200)
        #expect(try await get(store, "/metrics", user: "centre:s3cret-pass") == 200)
        #expect(try await get(store, "/healthz") == 200)
        // The agents still push with their keys.
        var e = RecordEncoder(site: "", boot: 1, nextSeq: 1)
        let t = Timestamp(secondsSinceEpoch: Double(store.clock.now()))
        let (state, events) = ReferenceCloset.state(at: t)
        guard case .stored = try await store.push(e.records(state: state, events: events, at: t)) else {
            Issue.record("ingest needs no login")
            return
        }
    }

    @Test func basicHeadersAndPasswordsParse() {
        #expect(Passwords.basic("Basic Y2VudHJlOnMzY3JldDpwYXNz")! == ("centre", "s3cret:pass"))
        #expect(Passwords.basic("Bearer abc") == nil)
        #expect(Passwords.basic("Basic !!!") == nil)
        let salt: [UInt8] = Array(repeating: 1, count: 16)
        #expect(Passwords.hash("pw", salt: salt, iterations: 1000) == Passwords.hash("pw", salt: salt, iterations: 1000))
        #expect(Passwords.hash("pw", salt: salt, iterations: 1000) != Passwords.hash("pw2", salt: salt, iterations: 1000))
    }
}
