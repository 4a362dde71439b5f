import ClosetModel
import Testing

@Suite struct ValueTests {
    @Test func upsStatusParsesNUTTokensAndKeepsUnknownOnes() {
        let (status, ignored) = UPSStatus.parse("OL CHRG CAL")
        #expect(status == [.onLine, .charging])
        #expect(ignored == ["CAL"])
        #expect(status.description == "OL CHRG")
        #expect(UPSStatus.parse("OB DISCHRG LB").status.description == "OB LB DISCHRG")
        #expect(UPSStatus.parse("").status.isEmpty)
    }

    @Test(arguments: [
        ("500ms", 0.5), ("10s", 10), ("5m", 300), ("2h", 7200), ("1m30s", 90), ("1.5s", 1.5), ("1d", 86400),
    ])
    func durationsParse(text: String, seconds: Double) {
        #expect(Duration(parsing: text)?.seconds == seconds)
    }

    @Test(arguments: ["", "10", "s", "10x", "5 m", "-5s", "1.s", "m5"])
    func badDurationsAreRejected(text: String) {
        #expect(Duration(parsing: text) == nil)
    }

    @Test func durationsPrintCompactly() {
        #expect(Duration.seconds(90).compactDescription == "1m30s")
        #expect(Duration.milliseconds(500).compactDescription == "500ms")
        #expect(Duration.seconds(3600).compactDescription == "1h")
    }

    @Test func timestampsPrintAsRFC3339UTC() {
        #expect(Timestamp(nanosecondsSinceEpoch: 0).rfc3339 == "1970-01-01T00:00:00.000Z")
        #expect(Timestamp(nanosecondsSinceEpoch: 1_795_964_303_250_000_000).rfc3339 == "2026-11-29T14:58:23.250Z")
        #expect(Timestamp(secondsSinceEpoch: 951_782_400).rfc3339 == "2000-02-29T00:00:00.000Z")
        #expect(Timestamp(secondsSinceEpoch: -1).rfc3339 == "1969-12-31T23:59:59.000Z")
    }

    @Test func variableNamesSortNaturally() {
        let names: [VariableName] = ["port.10.oper", "port.2.oper", "battery.charge", "port.1.oper"]
        #expect(names.sorted().map(\.rawValue) == ["battery.charge", "port.1.oper", "port.2.oper", "port.10.oper"])
        #expect(VariableName.port(7, .oper).portComponents?.index == 7)
        #expect(VariableName("port.x.oper").portComponents == nil)
    }

    @Test func patternsMatchWholeSegments() {
        #expect(VariablePattern("port.*.oper").matches("port.3.oper"))
        #expect(!VariablePattern("port.*.oper").matches("port.3.admin"))
        #expect(!VariablePattern("port.*").matches("port.3.oper"))
        #expect(VariablePattern("board.temperature.**").matches("board.temperature.coretemp_core_0"))
        #expect(VariablePattern("board.temperature.core*").matches("board.temperature.coretemp_core_0"))
        #expect(VariablePattern("battery.charge").matches("battery.charge"))
        #expect(!VariablePattern("battery.charge").matches("battery.charge.low"))
        #expect(globMatch("en*", "enp3s0"))
        #expect(globMatch("eth?", "eth0"))
        #expect(!globMatch("eth?", "eth10"))
    }
}
