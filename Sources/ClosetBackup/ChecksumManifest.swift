import ClosetModel

/// A checksum list in `sha256sum` format (`<64 hex>  name`, `<64 hex> *name` for binary mode,
/// a leading `\` when the name has escapes) or its `--tag` form (`SHA256 (name) = <hex>`).
/// Pure: the verifier reads the file, this parses it.
public struct ChecksumManifest: Sendable, Hashable {
    public struct Entry: Sendable, Hashable {
        public var name: String
        /// 32 bytes.
        public var digest: [UInt8]
        public var line: Int
    }

    public var entries: [Entry]

    public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        public var line: Int
        public var message: String
        public var description: String { "line \(line): \(message)" }
    }

    public static func parse(_ text: String) throws(ParseError) -> ChecksumManifest {
        var entries: [Entry] = []
        var number = 0
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            number += 1
            var line = Substring(raw)
            if line.hasSuffix("\r") { line = line.dropLast() }
            if line.allSatisfy({ $0 == " " || $0 == "\t" }) || line.hasPrefix("#") { continue }
            if line.hasPrefix("SHA256 (") {
                // The digest is the last 64 characters; the name may itself hold ") = ".
                let utf8 = Array(line.utf8)
                guard utf8.count >= 8 + 4 + 64, String(decoding: utf8[(utf8.count - 68)..<(utf8.count - 64)], as: UTF8.self) == ") = " else {
                    throw ParseError(line: number, message: "expected SHA256 (name) = <64 hex digits>")
                }
                let name = String(decoding: utf8[8..<(utf8.count - 68)], as: UTF8.self)
                guard let digest = hexDigest(Substring(String(decoding: utf8[(utf8.count - 64)...], as: UTF8.self))) else {
                    throw ParseError(line: number, message: "not a SHA-256 digest (64 hex digits)")
                }
                entries.append(Entry(name: String(name), digest: digest, line: number))
                continue
            }
            var escaped = false
            if line.hasPrefix("\\") {
                escaped = true
                line = line.dropFirst()
            }
            let utf8 = Array(line.utf8)
            guard utf8.count > 66, let digest = hexDigest(line.prefix(64)), utf8[64] == UInt8(ascii: " "),
                utf8[65] == UInt8(ascii: " ") || utf8[65] == UInt8(ascii: "*")
            else {
                throw ParseError(line: number, message: "not a sha256sum line (<64 hex digits>, two spaces, file name)")
            }
            var name = String(decoding: utf8[66...], as: UTF8.self)
            if escaped { name = unescape(name) }
            entries.append(Entry(name: name, digest: digest, line: number))
        }
        return ChecksumManifest(entries: entries)
    }

    static func hexDigest(_ text: Substring) -> [UInt8]? {
        guard text.utf8.count == 64 else { return nil }
        return unhex(String(text))
    }

    private static func unescape(_ s: String) -> String {
        var out = ""
        var it = s.makeIterator()
        while let c = it.next() {
            guard c == "\\" else { out.append(c); continue }
            switch it.next() {
            case "n": out.append("\n")
            case "r": out.append("\r")
            case "\\": out.append("\\")
            case let other?: out.append("\\"); out.append(other)
            case nil: out.append("\\")
            }
        }
        return out
    }
}
