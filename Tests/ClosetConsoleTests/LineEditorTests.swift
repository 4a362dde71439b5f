import Testing

@testable import ClosetConsole

@Suite struct LineEditorTests {
    func run(_ editor: inout LineEditor, _ text: [UInt8]) -> [LineEditor.Action] { editor.feed(text) }

    func lines(_ actions: [LineEditor.Action]) -> [String] {
        actions.compactMap { if case .line(let l) = $0 { l } else { nil } }
    }

    func echoed(_ actions: [LineEditor.Action]) -> [UInt8] {
        actions.flatMap { action -> [UInt8] in
            if case .echo(let b) = action { return b }
            return []
        }
    }

    @Test func typingEchoesAndEnterSubmitsWithCRLFOrEither() {
        var e = LineEditor()
        let a = run(&e, Array("status\r\nups\rswitch core1\n".utf8))
        #expect(lines(a) == ["status", "ups", "switch core1"])
        #expect(echoed(Array(a.prefix(7))) == Array("status\r\n".utf8))
    }

    @Test func backspaceAndDeleteEraseOnScreen() {
        var e = LineEditor()
        let a = run(&e, Array("statx".utf8) + [0x7F, 0x08] + Array("tus\r".utf8))
        #expect(lines(a) == ["status"])
        #expect(echoed(a).contains(0x08))
        var empty = LineEditor()
        #expect(run(&empty, [0x7F]) == [.echo([0x07])], "nothing to erase: bell")
    }

    @Test func ctrlCCancelsCtrlUClearsCtrlDEndsOnAnEmptyLine() {
        var e = LineEditor()
        #expect(run(&e, Array("reboot".utf8) + [0x03]).last == .cancelled)
        #expect(e.buffer.isEmpty)
        _ = run(&e, Array("abc".utf8))
        #expect(run(&e, [0x04]).isEmpty, "Ctrl-D with text typed does nothing")
        _ = run(&e, [0x15])
        #expect(e.buffer.isEmpty)
        #expect(run(&e, [0x04]) == [.endOfSession])
    }

    @Test func upAndDownArrowsWalkTheHistory() {
        var e = LineEditor()
        _ = run(&e, Array("status\rswitch core1\r".utf8))
        _ = run(&e, [0x1B, 0x5B, 0x41])
        #expect(String(decoding: e.buffer, as: UTF8.self) == "switch core1")
        _ = run(&e, [0x1B, 0x4F, 0x41])  // ESC O A, as some terminals send
        #expect(String(decoding: e.buffer, as: UTF8.self) == "status")
        _ = run(&e, [0x1B, 0x5B, 0x42])
        #expect(String(decoding: e.buffer, as: UTF8.self) == "switch core1")
        _ = run(&e, [0x1B, 0x5B, 0x42])
        #expect(e.buffer.isEmpty)
        #expect(lines(run(&e, [0x1B, 0x5B, 0x41, 0x0D])) == ["switch core1"])
    }

    @Test func overlongLinesAreCappedWithABell() {
        var e = LineEditor(maxLength: 10)
        let a = run(&e, Array(repeating: UInt8(ascii: "x"), count: 15))
        #expect(e.buffer.count == 10)
        #expect(a.suffix(5).allSatisfy { $0 == .echo([0x07]) })
    }

    @Test func garbageBreaksAndWrongBaudBytesAreIgnored() {
        var e = LineEditor()
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            _ = e.feed(UInt8.random(in: 0...255, using: &rng))
        }
        _ = e.feed(Array("\u{15}".utf8))  // Ctrl-U: whatever the noise left
        let a = e.feed([0x00, 0x00, 0xFF, 0xFE, 0x80] + Array("help\r".utf8))
        #expect(lines(a) == ["help"], "the editor still works after noise")
        var fresh = LineEditor()
        #expect(lines(fresh.feed([0xE2, 0x80, 0x9C, 0x00] + Array("ups\r".utf8))) == ["ups"])
    }
}
