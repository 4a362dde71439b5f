/// Line editing for dumb terminals (PuTTY, minicom, screen), byte by byte, without IO.
///
/// Echo, backspace and DEL, Ctrl-C cancels the line, Ctrl-U clears it, Ctrl-D on an empty
/// line ends the session, up/down arrows walk the history (ESC [ A / ESC [ B, and the
/// ESC O A form some terminals send). Anything else that is not printable ASCII (a wrong
/// baud rate, a break, line noise) is dropped, so garbage can neither crash nor wedge it.
public struct LineEditor: Sendable {
    public enum Action: Sendable, Equatable {
        /// Bytes to send back to the terminal.
        case echo([UInt8])
        /// A complete line (without the terminator).
        case line(String)
        /// Ctrl-C: the line was thrown away.
        case cancelled
        /// Ctrl-D on an empty line: the user is done.
        case endOfSession
    }

    public let maxLength: Int
    public let historySize: Int
    public private(set) var buffer: [UInt8] = []
    public private(set) var history: [String] = []
    private var historyIndex: Int?
    private var escape: [UInt8] = []
    private var lastWasCR = false

    public init(maxLength: Int = 160, historySize: Int = 20) {
        self.maxLength = maxLength
        self.historySize = historySize
    }

    public mutating func feed(_ bytes: some Sequence<UInt8>) -> [Action] {
        var actions: [Action] = []
        for byte in bytes { actions += feed(byte) }
        return actions
    }

    public mutating func feed(_ byte: UInt8) -> [Action] {
        defer { if byte != 0x0D { lastWasCR = false } }
        if !escape.isEmpty { return continueEscape(byte) }
        switch byte {
        case 0x1B:
            escape = [byte]
            return []
        case 0x0D, 0x0A:
            if byte == 0x0A && lastWasCR { return [] }
            lastWasCR = byte == 0x0D
            let line = String(decoding: buffer, as: UTF8.self)
            buffer = []
            historyIndex = nil
            if !line.allSatisfy({ $0 == " " }), history.last != line {
                history.append(line)
                if history.count > historySize { history.removeFirst() }
            }
            return [.echo([0x0D, 0x0A]), .line(line)]
        case 0x08, 0x7F:
            guard !buffer.isEmpty else { return [.echo([0x07])] }
            buffer.removeLast()
            return [.echo([0x08, 0x20, 0x08])]
        case 0x03:
            buffer = []
            historyIndex = nil
            return [.echo(Array("^C\r\n".utf8)), .cancelled]
        case 0x04:
            return buffer.isEmpty ? [.endOfSession] : []
        case 0x15:
            return [.echo(replaceLine(with: []))]
        case 0x20...0x7E:
            guard buffer.count < maxLength else { return [.echo([0x07])] }
            buffer.append(byte)
            return [.echo([byte])]
        default:
            return []
        }
    }

    private mutating func continueEscape(_ byte: UInt8) -> [Action] {
        escape.append(byte)
        if escape.count == 2 {
            if byte == UInt8(ascii: "[") || byte == UInt8(ascii: "O") { return [] }
            escape = []
            return []
        }
        // CSI ends with a byte in 0x40...0x7E; give up on runaway sequences.
        guard (0x40...0x7E).contains(byte) || escape.count > 8 else { return [] }
        defer { escape = [] }
        switch byte {
        case UInt8(ascii: "A"):
            guard !history.isEmpty else { return [.echo([0x07])] }
            let index = max(0, (historyIndex ?? history.count) - 1)
            historyIndex = index
            return [.echo(replaceLine(with: Array(history[index].utf8)))]
        case UInt8(ascii: "B"):
            guard let index = historyIndex else { return [] }
            if index + 1 < history.count {
                historyIndex = index + 1
                return [.echo(replaceLine(with: Array(history[index + 1].utf8)))]
            }
            historyIndex = nil
            return [.echo(replaceLine(with: []))]
        default:
            return []
        }
    }

    /// Erases the shown line with backspaces (works on any terminal) and shows `text`.
    private mutating func replaceLine(with text: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        for _ in buffer { out += [0x08, 0x20, 0x08] }
        buffer = Array(text.prefix(maxLength))
        return out + buffer
    }
}
