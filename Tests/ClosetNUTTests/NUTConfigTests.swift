import ClosetConfig
import ClosetModel
import Testing

@testable import ClosetNUT

@Suite struct NUTConfigTests {
    let loader = ConfigLoader(drivers: [NUTDriver.factory])

    func load(_ body: String) -> (AgentConfiguration?, [String]) {
        let d = ConfigDiagnostics(file: "agent.toml")
        let config = loader.parse("[agent]\nsite = \"s1\"\nself_monitoring = false\n\n" + body, diagnostics: d, directory: "/etc/closet")
        return (config, d.sortedIssues.map { "\($0.line): \($0.key): \($0.message)" })
    }

    @Test func aUPSReadThroughUpsdAndTheServerForTheClosetsServers() throws {
        let (config, issues) = load(
            """
            [[ups]]
            name = "ups"
            driver = "nut"
            host = "192.0.2.40"
            ups = "smartups"
            username = "reader"
            password = "s3cret"

            [nut_server]
            listen = ["127.0.0.1", "192.0.2.5"]
            port = 3493
            fsd_charge = 25
            fsd_runtime = "4m"
            [[nut_server.user]]
            name = "upsmon"
            password = "fsd-secret"
            upsmon = "primary"
            [[nut_server.user]]
            name = "winnut"
            password = "w1n"
            """)
        #expect(issues == [])
        let driver = try #require(config?.devices.first?.driver as? NUTDriver.Configuration)
        #expect(driver == NUTDriver.Configuration(host: "192.0.2.40", port: 3493, ups: "smartups", username: "reader", password: "s3cret"))
        #expect(driver.summary.first { $0.key == "password" }?.value == "********")
        let server = try #require(config?.nutServer)
        #expect(server.listen == ["127.0.0.1", "192.0.2.5"])
        #expect(server.fsdCharge == 25 && server.fsdRuntime == .seconds(240))
        #expect(server.users == [.init(name: "upsmon", password: "fsd-secret", primary: true), .init(name: "winnut", password: "w1n", primary: false)])
    }

    @Test func namesEveryMistakeWithItsLineAndKey() {
        let (_, issues) = load(
            """
            [[ups]]
            name = "ups"
            driver = "nut"
            ups = "two words"
            username = "reader"
            port = 70000

            [nut_server]
            listen = []
            fsd_charge = 120
            [[nut_server.user]]
            name = "upsmon"
            password = "has space"
            upsmon = "boss"
            [[nut_server.user]]
            name = "upsmon"
            """)
        #expect(
            issues == [
                #"8: ups[0].ups: a UPS name has no spaces or quotes, got "two words""#,
                "9: ups[0].username: username and password go together",
                "10: ups[0].port: 70000 is out of range 1...65535",
                #"13: nut_server.listen: needs at least one address, such as "127.0.0.1""#,
                "14: nut_server.fsd_charge: 120 is out of range 0...100",
                "17: nut_server.user[0].password: no spaces or quotes: upsmon cannot send them",
                #"18: nut_server.user[0].upsmon: "boss" is not one of "primary", "secondary", "master", "slave""#,
                "19: nut_server.user[1]: missing 'password'",
            ])
    }
}
