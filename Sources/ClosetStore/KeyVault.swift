import CCrypto
import ClosetModel
import ClosetWire

#if canImport(Glibc)
import Glibc
#endif

/// Site keys at rest: AES-256-GCM under a master key kept in a file of its own (mode 0600,
/// outside the database), so a copy of the database alone does not give away any site's key.
public struct KeyVault: Sendable {
    let master: [UInt8]

    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    public init(master: [UInt8]) {
        self.master = master
    }

    /// Reads the master key file, creating it (32 random bytes, hex, mode 0600) if absent.
    public static func open(path: String, create: Bool) throws(Failure) -> KeyVault {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        if fd >= 0 {
            defer { close(fd) }
            var buffer = [UInt8](repeating: 0, count: 128)
            let n = read(fd, &buffer, buffer.count)
            let text = String(decoding: buffer.prefix(max(0, n)), as: UTF8.self).trimmingSpaces
            guard let key = unhex(text), key.count == 32 else { throw Failure(description: "\(path): not a master key (64 hex digits)") }
            return KeyVault(master: key)
        }
        guard create, errno == ENOENT else {
            throw Failure(description: "\(path): \(String(cString: strerror(errno)))\(create ? "" : " (run 'closet-store site add' once to create it)")")
        }
        let key = randomBytes(32)
        let out = Glibc.open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard out >= 0 else { throw Failure(description: "\(path): cannot create: \(String(cString: strerror(errno)))") }
        let text = Array((hex(key) + "\n").utf8)
        let written = write(out, text, text.count)
        fsync(out)
        close(out)
        guard written == text.count else { throw Failure(description: "\(path): write failed") }
        return KeyVault(master: key)
    }

    /// nonce (12) || ciphertext || tag (16)
    public func seal(_ plain: [UInt8]) -> [UInt8] {
        let nonce = randomBytes(12)
        var out = [UInt8](repeating: 0, count: plain.count + 16)
        var tag = [UInt8](repeating: 0, count: 16)
        let ctx = EVP_CIPHER_CTX_new()!
        defer { EVP_CIPHER_CTX_free(ctx) }
        var length: Int32 = 0
        EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), nil, master, nonce)
        EVP_EncryptUpdate(ctx, &out, &length, plain, Int32(plain.count))
        var final: Int32 = 0
        out.withUnsafeMutableBufferPointer { p in _ = EVP_EncryptFinal_ex(ctx, p.baseAddress! + Int(length), &final) }
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, &tag)
        return nonce + Array(out.prefix(Int(length + final))) + tag
    }

    public func open(_ sealed: [UInt8]) -> [UInt8]? {
        guard sealed.count >= 28 else { return nil }
        let nonce = Array(sealed.prefix(12))
        var tag = Array(sealed.suffix(16))
        let cipher = Array(sealed[12..<(sealed.count - 16)])
        var out = [UInt8](repeating: 0, count: cipher.count + 16)
        let ctx = EVP_CIPHER_CTX_new()!
        defer { EVP_CIPHER_CTX_free(ctx) }
        var length: Int32 = 0
        EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), nil, master, nonce)
        EVP_DecryptUpdate(ctx, &out, &length, cipher, Int32(cipher.count))
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, &tag)
        var final: Int32 = 0
        let ok = out.withUnsafeMutableBufferPointer { p in EVP_DecryptFinal_ex(ctx, p.baseAddress! + Int(length), &final) }
        return ok == 1 ? Array(out.prefix(Int(length + final))) : nil
    }
}
