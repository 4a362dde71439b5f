import ClosetConfig
import Testing

@Suite struct TOMLParserTests {
    func parse(_ text: String) throws -> ConfigTable { try TOMLParser.parse(text) }

    @Test func valuesOfEveryTypeWithTheirLines() throws {
        let t = try parse(
            """
            # comment
            title = "closet"   # trailing comment
            count = 1_000
            hex = 0xff
            ratio = -2.5e1
            on = true
            when = 2026-11-29T14:48:57Z
            day = 2026-11-29
            lit = 'C:\\path'
            esc = "tab\\there \\u00e9"
            multi = \"\"\"
            line one
            line two\"\"\"
            list = [
              "a",  # first
              "b",
            ]
            inline = { warn_high = 70, crit_high = 85 }
            """)
        #expect(t["title"]?.line == 2)
        guard case .string("closet") = t["title"]?.value else { Issue.record("title"); return }
        guard case .integer(1000) = t["count"]?.value else { Issue.record("count"); return }
        guard case .integer(255) = t["hex"]?.value else { Issue.record("hex"); return }
        guard case .float(-25) = t["ratio"]?.value else { Issue.record("ratio"); return }
        guard case .bool(true) = t["on"]?.value else { Issue.record("on"); return }
        guard case .datetime("2026-11-29T14:48:57Z") = t["when"]?.value else { Issue.record("when"); return }
        guard case .datetime("2026-11-29") = t["day"]?.value else { Issue.record("day"); return }
        guard case .string("C:\\path") = t["lit"]?.value else { Issue.record("lit"); return }
        guard case .string("tab\there é") = t["esc"]?.value else { Issue.record("esc"); return }
        guard case .string("line one\nline two") = t["multi"]?.value else { Issue.record("multi"); return }
        guard case .array(let list) = t["list"]?.value else { Issue.record("list"); return }
        #expect(list.count == 2)
        #expect(list[1].line == 16)
        #expect(t["list"]?.line == 14)
        guard case .table(let inline) = t["inline"]?.value else { Issue.record("inline"); return }
        #expect(inline.keys == ["warn_high", "crit_high"])
        #expect(t["inline"]?.line == 18)
    }

    @Test func tablesArraysOfTablesAndDottedKeys() throws {
        let t = try parse(
            """
            [agent]
            site = "a"

            [[sensor]]
            name = "one"
            [sensor.thresholds]
            "board.temperature" = { warn_high = 70 }

            [[sensor]]
            name = "two"
            a.b.c = 1
            """)
        guard case .array(let sensors) = t["sensor"]?.value, sensors.count == 2,
            case .table(let first) = sensors[0].value, case .table(let second) = sensors[1].value
        else { Issue.record("sensors"); return }
        #expect(sensors[0].line == 4 && sensors[1].line == 9)
        #expect(first["thresholds"]?.line == 6)
        guard case .table(let thresholds) = first["thresholds"]?.value else { Issue.record("thresholds"); return }
        #expect(thresholds.keys == ["board.temperature"])
        #expect(thresholds["board.temperature"]?.line == 7)
        guard case .table(let a) = second["a"]?.value, case .table(let b) = a["b"]?.value,
            case .integer(1) = b["c"]?.value
        else { Issue.record("dotted"); return }
        #expect(second["a"]?.line == 11)
    }

    @Test(arguments: [
        ("a = 1\na = 2", 2, "duplicate key 'a' (first on line 1)"),
        ("[t]\nx = 1\n[t]", 3, "table [t] defined twice (first on line 1)"),
        ("a = \"open", 1, "unterminated string"),
        ("a = [1, 2", 1, "expected ',' or ']' in the array, found the end of the file"),
        ("a = [1,", 1, "unterminated array: expected ']'"),
        ("[agent\nsite = 1", 1, "expected ']' to close the table header"),
        ("a = hello", 1, "invalid value 'hello' (strings need quotes: \"hello\")"),
        ("a = 1 b = 2", 1, "unexpected 'b' after the value (one key = value per line)"),
        ("a = \"\\q\"", 1, "invalid escape sequence '\\'q''"),
        ("= 1", 1, "expected a key, found '='"),
        ("a = 01", 1, "invalid value '01' (strings need quotes: \"01\")"),
        ("x = 1\n[x]", 2, "'x' already holds a value (integer, line 1)"),
        ("a = { b = 1 }\n[a.c]", 2, "'a' is an inline table and cannot be extended"),
    ])
    func syntaxErrorsCarryTheirLine(text: String, line: Int, message: String) {
        do {
            _ = try TOMLParser.parse(text)
            Issue.record("parsed: \(text)")
        } catch {
            #expect(error.line == line)
            #expect(error.message == message)
        }
    }

    @Test func garbageNeverCrashes() {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("[]{}=\"'#.,\n \\abc123-_+:tT\u{00}\u{7f}é")
        for _ in 0..<2000 {
            let length = Int.random(in: 0..<60, using: &generator)
            let text = String((0..<length).map { _ in alphabet.randomElement(using: &generator)! })
            _ = try? TOMLParser.parse(text)
        }
    }
}
