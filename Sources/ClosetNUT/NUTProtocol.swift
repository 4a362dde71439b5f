/// The line format of NUT's network protocol (upsd, port 3493; NUT's
/// docs/net-protocol.txt): a line is words separated by spaces; a word in double quotes may
/// hold spaces, with `\"` and `\\` escaped. Pure: lines in, words out.
public enum NUTLine {
    /// The longest line either side accepts; upsd's own limit is similar.
    public static let maxLength = 512

    /// The words of a line, or nil when a quote is not closed or an escape is cut off.
    public static func split(_ line: some StringProtocol) -> [String]? {
        // Most lines (GET VAR ups battery.charge) have no quotes or escapes: split the bytes.
        if !line.utf8.contains(where: { $0 == 0x22 || $0 == 0x5C }) {
            return line.utf8.split(whereSeparator: { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D || $0 == 0x0A }).map { String(decoding: $0, as: UTF8.self) }
        }
        var words: [String] = []
        var word = ""
        var inWord = false
        var quoted = false
        var escaped = false
        for c in line {
            if escaped {
                word.append(c)
                escaped = false
            } else if c == "\\" {
                escaped = true
                inWord = true
            } else if c == "\"" {
                if quoted {
                    quoted = false
                } else {
                    quoted = true
                    inWord = true
                }
            } else if (c == " " || c == "\t") && !quoted {
                if inWord { words.append(word) }
                word = ""
                inWord = false
            } else if c == "\r" || c == "\n" {
                continue
            } else {
                word.append(c)
                inWord = true
            }
        }
        guard !quoted, !escaped else { return nil }
        if inWord { words.append(word) }
        return words
    }

    /// A value in double quotes with `"` and `\` escaped, as upsd sends it.
    public static func quote(_ value: some StringProtocol) -> String {
        var out = "\""
        for c in value {
            if c == "\"" || c == "\\" { out.append("\\") }
            if c == "\n" || c == "\r" { continue }
            out.append(c)
        }
        out.append("\"")
        return out
    }

    /// A word that needs no quotes (a UPS or variable name the client sent).
    public static func isPlainWord(_ word: String) -> Bool {
        !word.isEmpty && word.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != 0x22 && $0 != 0x5C }
    }
}

/// An `ERR NAME` answer from upsd, or a reply the client could not make sense of.
public struct NUTError: Error, Sendable, Hashable, CustomStringConvertible {
    /// `UNKNOWN-UPS`, `DATA-STALE`, `ACCESS-DENIED`, ...; `protocol` for a malformed reply,
    /// `connection` for a socket failure.
    public var code: String
    public var detail: String

    public init(_ code: String, _ detail: String = "") {
        self.code = code
        self.detail = detail
    }

    public var description: String { detail.isEmpty ? code : "\(code): \(detail)" }
}

/// Pure parsing of upsd's answers, for the client.
public enum NUTReply {
    /// `ERR CODE [detail]` as an error; nil for any other line.
    public static func error(in words: [String]) -> NUTError? {
        guard words.first == "ERR" else { return nil }
        return NUTError(words.count > 1 ? words[1] : "UNKNOWN", words.dropFirst(2).joined(separator: " "))
    }

    /// The variables of a `LIST VAR` answer (every line between BEGIN and END), in order.
    /// Lines are the raw text lines; the first must be `BEGIN LIST VAR ups`.
    public static func variables(ups: String, lines: [String]) throws(NUTError) -> [(name: String, value: String)] {
        guard let first = lines.first, let begin = NUTLine.split(first) else { throw NUTError("protocol", "empty answer to LIST VAR") }
        if let error = error(in: begin) { throw error }
        guard begin == ["BEGIN", "LIST", "VAR", ups] else { throw NUTError("protocol", "expected BEGIN LIST VAR \(ups), got \(first.prefix(80))") }
        var out: [(name: String, value: String)] = []
        for line in lines.dropFirst() {
            guard let words = NUTLine.split(line) else { throw NUTError("protocol", "unbalanced quotes in \(line.prefix(80))") }
            if words == ["END", "LIST", "VAR", ups] { return out }
            guard words.count == 4, words[0] == "VAR", words[1] == ups else {
                throw NUTError("protocol", "expected VAR \(ups) NAME \"VALUE\", got \(line.prefix(80))")
            }
            out.append((words[2], words[3]))
        }
        throw NUTError("protocol", "LIST VAR \(ups) not ended")
    }

    /// The UPS names of a `LIST UPS` answer, with their descriptions.
    public static func upsList(lines: [String]) throws(NUTError) -> [(name: String, description: String)] {
        guard let first = lines.first, let begin = NUTLine.split(first) else { throw NUTError("protocol", "empty answer to LIST UPS") }
        if let error = error(in: begin) { throw error }
        guard begin == ["BEGIN", "LIST", "UPS"] else { throw NUTError("protocol", "expected BEGIN LIST UPS, got \(first.prefix(80))") }
        var out: [(name: String, description: String)] = []
        for line in lines.dropFirst() {
            guard let words = NUTLine.split(line) else { throw NUTError("protocol", "unbalanced quotes in \(line.prefix(80))") }
            if words == ["END", "LIST", "UPS"] { return out }
            guard words.count == 3, words[0] == "UPS" else { throw NUTError("protocol", "expected UPS NAME \"DESC\", got \(line.prefix(80))") }
            out.append((words[1], words[2]))
        }
        throw NUTError("protocol", "LIST UPS not ended")
    }
}
