import CCrypto
import ClosetModel

#if canImport(Glibc)
import Glibc
#endif

/// The ingest request signature, computed the same way by the agent and the store:
/// HMAC-SHA256 with the site's key over `METHOD \n PATH \n TIMESTAMP \n NONCE \n hex(SHA-256(body))`,
/// where the body is the bytes as sent (deflated).
public enum RequestSigning {
    public static let siteHeader = "x-closet-site"
    public static let timestampHeader = "x-closet-timestamp"
    public static let nonceHeader = "x-closet-nonce"
    public static let signatureHeader = "x-closet-signature"

    public static func canonical(method: String, path: String, timestamp: Int64, nonce: String, body: [UInt8]) -> [UInt8] {
        Array("\(method)\n\(path)\n\(timestamp)\n\(nonce)\n\(hex(sha256(body)))".utf8)
    }

    public static func signature(key: [UInt8], method: String, path: String, timestamp: Int64, nonce: String, body: [UInt8]) -> String {
        hex(hmacSHA256(key: key, canonical(method: method, path: path, timestamp: timestamp, nonce: nonce, body: body)))
    }

    /// Constant-time comparison of two signatures.
    public static func matches(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var diff: UInt8 = 0
        for i in 0..<x.count { diff |= x[i] ^ y[i] }
        return diff == 0
    }
}

public func sha256(_ bytes: [UInt8]) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: 32)
    bytes.withUnsafeBufferPointer { b in _ = SHA256(b.baseAddress, b.count, &out) }
    return out
}

public func hmacSHA256(key: [UInt8], _ message: [UInt8]) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: 32)
    var length: UInt32 = 32
    key.withUnsafeBufferPointer { k in
        message.withUnsafeBufferPointer { m in
            _ = HMAC(EVP_sha256(), k.baseAddress, Int32(k.count), m.baseAddress, m.count, &out, &length)
        }
    }
    return out
}

/// Bytes from OpenSSL's CSPRNG (seeded by the kernel).
public func randomBytes(_ count: Int) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: count)
    let ok = out.withUnsafeMutableBufferPointer { RAND_bytes($0.baseAddress, Int32(count)) }
    precondition(ok == 1, "the system's random source failed")
    return out
}
