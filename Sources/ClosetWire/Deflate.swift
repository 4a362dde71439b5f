import CZlib

/// zlib (RFC 1950 "deflate" as HTTP's Content-Encoding means it) through the system's libz.
public enum Deflate {
    public static func compress(_ input: [UInt8], level: Int32 = 6) -> [UInt8] {
        var size = compressBound(uLong(input.count))
        var out = [UInt8](repeating: 0, count: Int(size))
        let rc = input.withUnsafeBufferPointer { i in
            out.withUnsafeMutableBufferPointer { o in compress2(o.baseAddress, &size, i.baseAddress, uLong(input.count), level) }
        }
        precondition(rc == Z_OK, "compress2 cannot fail with a compressBound buffer")
        out.removeLast(out.count - Int(size))
        return out
    }

    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// Inflates at most `limit` bytes of output: a small body that inflates to gigabytes is
    /// refused, not buffered.
    public static func decompress(_ input: [UInt8], limit: Int) throws(Failure) -> [UInt8] {
        var stream = z_stream()
        guard inflateInit_(&stream, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw Failure(description: "inflateInit failed")
        }
        defer { inflateEnd(&stream) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16_384)
        var input = input
        let result: Int32 = input.withUnsafeMutableBufferPointer { i in
            stream.next_in = i.baseAddress
            stream.avail_in = uInt(i.count)
            while true {
                let rc = chunk.withUnsafeMutableBufferPointer { c -> Int32 in
                    stream.next_out = c.baseAddress
                    stream.avail_out = uInt(c.count)
                    return inflate(&stream, Z_NO_FLUSH)
                }
                let produced = chunk.count - Int(stream.avail_out)
                out.append(contentsOf: chunk[0..<produced])
                if out.count > limit { return -100 }
                if rc == Z_STREAM_END { return Z_OK }
                if rc != Z_OK { return rc }
                if stream.avail_in == 0 && produced == 0 { return Z_BUF_ERROR }
            }
        }
        switch result {
        case Z_OK:
            guard stream.avail_in == 0 else { throw Failure(description: "trailing bytes after the deflate stream") }
            return out
        case -100: throw Failure(description: "inflates to more than \(limit) bytes")
        default: throw Failure(description: "not a valid deflate (zlib) stream (zlib error \(result))")
        }
    }
}
