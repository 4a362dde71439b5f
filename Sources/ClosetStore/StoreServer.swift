import ClosetModel
import ClosetWire
import HTTPTypes
import Hummingbird
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL

/// The store's HTTP side: verified ingest, the dashboard, the APIs.
public struct StoreServer: Sendable {
    public var backend: StoreBackend
    public var vault: KeyVault
    public var logger: Logger
    /// Seconds since the epoch; injected in tests.
    public var now: @Sendable () -> Int64
    let limiter: RateLimiter

    /// `rate`: pushes a site may make per second, and the burst above that.
    public init(
        backend: StoreBackend, vault: KeyVault, logger: Logger, rate: (perSecond: Double, burst: Double) = (5, 20),
        now: @escaping @Sendable () -> Int64
    ) {
        self.backend = backend
        self.vault = vault
        self.logger = logger
        self.limiter = RateLimiter(perSecond: rate.perSecond, burst: rate.burst)
        self.now = now
    }

    public func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: ReadOnlyLogin(backend: backend, now: now))
        router.post("/v1/ingest") { request, _ -> Response in
            await self.ingest(request)
        }
        router.get("/healthz") { _, _ in "ok\n" }
        router.get("/") { _, _ -> Response in
            let sites = try await self.backend.overview()
            return Self.html(Dashboard.overview(sites, now: self.now()))
        }
        router.get("/sites/:name") { request, context -> Response in
            try await self.sitePage(request, name: context.parameters.require("name"))
        }
        router.get("/v1/sites") { _, _ -> Response in
            Self.json(API.sites(try await self.backend.overview(), now: self.now()))
        }
        router.get("/v1/sites/:name") { _, context -> Response in
            let name = try context.parameters.require("name")
            guard let view = try await self.backend.siteView(name: name) else { return Self.notFound(name) }
            return Self.json(API.site(view))
        }
        router.get("/v1/sites/:name/events") { request, context -> Response in
            let name = try context.parameters.require("name")
            guard try await self.backend.site(named: name) != nil else { return Self.notFound(name) }
            let limit = min(max(Int(request.uri.queryParameters.get("limit") ?? "100") ?? 100, 1), 10_000)
            return Self.json(API.events(try await self.backend.events(site: name, limit: limit)))
        }
        router.get("/v1/sites/:name/history") { request, context -> Response in
            let name = try context.parameters.require("name")
            let q = request.uri.queryParameters
            guard let device = q.get("device"), let variable = q.get("variable") else {
                return Self.json("{\"error\": \"give device and variable\"}\n", status: .badRequest)
            }
            guard try await self.backend.site(named: name) != nil else { return Self.notFound(name) }
            let now = self.now()
            let (from, to) = Self.range(q.get("range"), from: q.get("from"), to: q.get("to"), now: now)
            let buckets = min(max(Int(q.get("buckets") ?? "200") ?? 200, 1), 5000)
            let points = try await self.backend.history(site: name, device: device, variable: variable, from: from, to: to, buckets: buckets)
            return Self.json(API.history(points, site: name, device: device, variable: variable, from: from, to: to))
        }
        router.get("/metrics") { _, _ -> Response in
            var views: [SiteView] = []
            for site in try await self.backend.overview() {
                if let v = try await self.backend.siteView(name: site.name) { views.append(v) }
            }
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: API.metrics(views, now: self.now()))))
        }
        return router
    }

    /// `range=24h|7d|30d`, or `from`/`to` in seconds since the epoch; default the last 24 h.
    static func range(_ range: String?, from: String?, to: String?, now: Int64) -> (Int64, Int64) {
        if let from = from.flatMap({ Int64($0) }) { return (from, to.flatMap { Int64($0) } ?? now) }
        let seconds = Dashboard.ranges.first { $0.label == range }?.seconds ?? 86_400
        return (now - seconds, now)
    }

    func sitePage(_ request: Request, name: String) async throws -> Response {
        guard let view = try await backend.siteView(name: name) else { return Self.notFound(name) }
        let now = self.now()
        let range = Dashboard.ranges.first { $0.label == request.uri.queryParameters.get("range") }?.label ?? "24h"
        let (from, to) = Self.range(range, from: nil, to: nil, now: now)
        var charts = Dashboard.SiteCharts()
        for d in view.devices {
            for r in d.readings where r.variable.hasSuffix("temperature") && !r.variable.hasPrefix("port.") {
                let points = try await backend.history(site: name, device: d.name, variable: r.variable, from: from, to: to, buckets: 96)
                charts.temperature.append(.init(label: "\(d.name) \(r.variable)", points: points))
            }
            if d.kind == "ups" {
                for variable in ["battery.charge", "ups.load"] {
                    let points = try await backend.history(site: name, device: d.name, variable: variable, from: from, to: to, buckets: 96)
                    if !points.isEmpty { charts.ups.append(.init(label: "\(d.name) \(variable)", points: points)) }
                }
            }
        }
        charts.portChanges = try await backend.portChangeCounts(site: name, from: from, to: to, buckets: 96)
        let events = try await backend.events(site: name, limit: 50)
        return Self.html(Dashboard.site(view, events: events, charts: charts, range: range, from: from, to: to, now: now))
    }

    static func json(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func notFound(_ site: String) -> Response {
        json("{\"error\": \(jsonQuoted("no site '\(site)'"))}\n", status: .notFound)
    }

    func reject(_ r: IngestRejection, site: String?) -> Response {
        logger.warning("ingest rejected: \(r.status) \(r.reason)", metadata: ["site": .string(site ?? "?")])
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        if r.status == 429 { headers[.retryAfter] = "2" }
        let text = "{\"error\": \(Dashboard.jsonString(r.reason))}\n"
        return Response(status: .init(code: r.status), headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    func ingest(_ request: Request) async -> Response {
        func header(_ name: String) -> String? { HTTPField.Name(name).flatMap { request.headers[$0] } }
        let site = header(RequestSigning.siteHeader)
        do {
            guard let site, let ts = header(RequestSigning.timestampHeader), let nonce = header(RequestSigning.nonceHeader),
                let signature = header(RequestSigning.signatureHeader)
            else { throw IngestRejection(401, "missing signature headers (\(RequestSigning.siteHeader), timestamp, nonce, signature)") }
            guard let timestamp = Int64(ts) else { throw IngestRejection(401, "timestamp is not a number") }
            let now = self.now()
            guard abs(now - timestamp) <= IngestDecoder.window else {
                throw IngestRejection(401, "timestamp \(timestamp) is \(now - timestamp) s from the store's clock \(now) (allowed ±\(IngestDecoder.window) s): check NTP on the agent")
            }
            guard nonce.utf8.count >= 16, nonce.utf8.count <= 64 else { throw IngestRejection(401, "nonce must be 16-64 characters") }
            guard let record = try await backend.site(named: site), record.revoked == nil else {
                throw IngestRejection(403, "unknown or revoked site '\(site)'")
            }
            guard await limiter.allow(site, at: now) else { throw IngestRejection(429, "too many pushes from '\(site)'") }
            var request = request
            let buffer: ByteBuffer
            do {
                buffer = try await request.collectBody(upTo: IngestDecoder.maxBody)
            } catch {
                throw IngestRejection(413, "body over \(IngestDecoder.maxBody) bytes")
            }
            let body = Array(buffer.readableBytesView)
            guard let key = vault.open(record.sealedKey) else { throw IngestRejection(500, "the site's key cannot be decrypted (wrong master key file?)") }
            let expected = RequestSigning.signature(key: key, method: "POST", path: "/v1/ingest", timestamp: timestamp, nonce: nonce, body: body)
            guard RequestSigning.matches(expected, signature) else { throw IngestRejection(401, "bad signature for site '\(site)' (wrong key?)") }
            let batch = try IngestDecoder.decode(body: body, site: site)
            guard try await backend.useNonce(siteID: record.id, nonce: nonce, time: now) else {
                throw IngestRejection(409, "nonce already used: a replayed request")
            }
            let result = try await backend.ingest(siteID: record.id, batch: batch, now: now)
            logger.debug("ingest", metadata: ["site": .string(site), "stored": .stringConvertible(result.stored), "duplicates": .stringConvertible(result.duplicates)])
            var headers = HTTPFields()
            headers[.contentType] = "application/json"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: result.json + "\n")))
        } catch let r as IngestRejection {
            return reject(r, site: site)
        } catch {
            logger.error("ingest failed: \(error)", metadata: ["site": .string(site ?? "?")])
            return reject(IngestRejection(500, "store error: \(error)"), site: site)
        }
    }

    static func html(_ text: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// Runs the server until shutdown; `tls`: PEM certificate chain and key files.
    public func application(host: String, port: Int, tls: (certificate: String, key: String)?) throws -> some ApplicationProtocol {
        let configuration = ApplicationConfiguration(address: .hostname(host, port: port), serverName: "closet-store")
        if let tls {
            let chain = try NIOSSLCertificate.fromPEMFile(tls.certificate).map { NIOSSLCertificateSource.certificate($0) }
            let key = try NIOSSLPrivateKey(file: tls.key, format: .pem)
            let tlsConfig = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
            return Application(router: router(), server: try .tls(.http1(), tlsConfiguration: tlsConfig), configuration: configuration, logger: logger)
        }
        return Application(router: router(), server: .http1(), configuration: configuration, logger: logger)
    }
}

/// Per-site token buckets (in memory, per instance).
actor RateLimiter {
    let perSecond: Double
    let burst: Double
    var buckets: [String: (tokens: Double, at: Int64)] = [:]

    init(perSecond: Double, burst: Double) {
        self.perSecond = perSecond
        self.burst = burst
    }

    func allow(_ key: String, at now: Int64) -> Bool {
        var b = buckets[key] ?? (burst, now)
        b.tokens = min(burst, b.tokens + Double(now - b.at) * perSecond)
        b.at = now
        guard b.tokens >= 1 else {
            buckets[key] = b
            return false
        }
        b.tokens -= 1
        buckets[key] = b
        return true
    }
}
