import ClosetModel
import ClosetWire
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// One push of the outbox to the store: the batch, deflated, signed, and what the store
/// said. Blocking (the HTTP client is); the uplink service runs it on a queue.
public struct StorePush: Sendable {
    public var endpoint: HTTPEndpoint
    public var site: String
    public var key: [UInt8]
    public var client: HTTPClient
    public var bandwidth: Int?

    public init(endpoint: HTTPEndpoint, site: String, key: [UInt8], client: HTTPClient, bandwidth: Int?) {
        self.endpoint = endpoint
        self.site = site
        self.key = key
        self.client = client
        self.bandwidth = bandwidth
    }

    public enum Outcome: Sendable {
        /// The store has everything up to `storedThrough` of this batch.
        case stored(storedThrough: UInt64, bytes: Int, resync: Bool)
        /// Try again after the delay the store asked for (429, 503 with Retry-After).
        case later(Duration?, reason: String)
        /// The store refused the batch: configuration, not the network (401, 403, 400).
        case refused(status: Int, reason: String)
        case failed(String)
    }

    public func push(records: [[UInt8]], thinned: UInt64, refused: UInt64, now: Int64) -> Outcome {
        let body = Deflate.compress(encodeBatch(site: site, records: records, thinned: thinned, refused: refused))
        let nonce = hex(randomBytes(12))
        let signature = RequestSigning.signature(key: key, method: "POST", path: endpoint.path, timestamp: now, nonce: nonce, body: body)
        let headers = [
            ("Content-Type", "application/x-protobuf"), ("Content-Encoding", "deflate"),
            (RequestSigning.siteHeader, site), (RequestSigning.timestampHeader, String(now)),
            (RequestSigning.nonceHeader, nonce), (RequestSigning.signatureHeader, signature),
        ]
        let response: HTTPReply
        do {
            response = try client.send("POST", endpoint, headers: headers, body: body, pace: bandwidth)
        } catch {
            return .failed(error.description)
        }
        let text = String(decoding: response.body.prefix(300), as: UTF8.self)
        switch response.status {
        case 200:
            guard let through = Self.storedThrough(text) else { return .failed("\(endpoint): 200 without stored_through: \(text)") }
            return .stored(storedThrough: through, bytes: body.count, resync: text.contains("\"resync\": true"))
        case 429, 503:
            let retry = response.headers["retry-after"].flatMap { Int($0) }.map { Duration.seconds($0) }
            return .later(retry, reason: "\(endpoint): \(response.status) \(text)")
        case 400..<500:
            return .refused(status: response.status, reason: "\(endpoint): \(response.status) \(text)")
        default:
            return .failed("\(endpoint): \(response.status) \(text)")
        }
    }

    /// `{"stored_through": 1234, ...}` without a JSON library.
    static func storedThrough(_ text: String) -> UInt64? {
        guard let r = text.firstRange(of: "\"stored_through\"") else { return nil }
        let rest = text[r.upperBound...].drop { $0 == " " || $0 == ":" }
        return UInt64(rest.prefix { $0.isNumber })
    }
}
