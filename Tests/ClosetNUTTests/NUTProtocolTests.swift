import ClosetModel
import Testing

@testable import ClosetNUT

@Suite struct NUTLineTests {
    @Test func wordsQuotesAndEscapes() {
        #expect(NUTLine.split("GET VAR ups battery.charge") == ["GET", "VAR", "ups", "battery.charge"])
        #expect(NUTLine.split(#"VAR ups ups.mfr "American Power Conversion""#) == ["VAR", "ups", "ups.mfr", "American Power Conversion"])
        #expect(NUTLine.split(#"VAR ups x "say \"hi\" \\ ok""#) == ["VAR", "ups", "x", #"say "hi" \ ok"#])
        #expect(NUTLine.split(#"VAR ups x """#) == ["VAR", "ups", "x", ""], "an empty value is a word")
        #expect(NUTLine.split("  LIST   UPS \r") == ["LIST", "UPS"])
        #expect(NUTLine.split(#"VAR ups x "unterminated"#) == nil)
        #expect(NUTLine.split(#"VAR ups x \"#) == nil)
    }

    @Test func quotingRoundTrips() {
        for value in ["", "plain", "two words", #"q"uote"#, #"back\slash"#, "Smart-UPS 2200 RM"] {
            #expect(NUTLine.split("VAR u v " + NUTLine.quote(value)) == ["VAR", "u", "v", value])
        }
        #expect(NUTLine.quote("a\nb") == "\"ab\"", "no line breaks reach the wire")
    }

    @Test func listVarAnswersAndErrors() throws {
        let lines = ["BEGIN LIST VAR ups", #"VAR ups battery.charge "100""#, #"VAR ups ups.status "OL""#, "END LIST VAR ups"]
        let vars = try NUTReply.variables(ups: "ups", lines: lines)
        #expect(vars.map(\.name) == ["battery.charge", "ups.status"])
        #expect(vars.map(\.value) == ["100", "OL"])
        #expect(throws: NUTError("DATA-STALE", "")) { try NUTReply.variables(ups: "ups", lines: ["ERR DATA-STALE"]) }
        #expect(throws: NUTError.self) { try NUTReply.variables(ups: "ups", lines: ["BEGIN LIST VAR ups", #"VAR other x "1""#]) }
        #expect(throws: NUTError.self) { try NUTReply.variables(ups: "ups", lines: ["BEGIN LIST VAR ups"]) }
        #expect(throws: NUTError.self) { try NUTReply.variables(ups: "ups", lines: ["garbage \u{1}\u{2}"]) }
    }
}
