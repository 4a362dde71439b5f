import ClosetAgent
import ClosetConfig
import ClosetModbus
import ClosetTesting
import Foundation
import Testing

@Suite struct ShippedConfigTests {
    @Test(arguments: ["demo.toml", "closet-example.toml"])
    func theShippedConfigsLoadWithEveryBuiltInDriver(name: String) throws {
        let loader = ConfigLoader(drivers: DriverRegistry.builtIn, defaultBoardsDirectory: repositoryRoot + "/boards")
        let config = try loader.load(path: repositoryRoot + "/firmware-config/" + name)
        #expect(!config.devices.isEmpty)
    }
}

@Suite struct ShippedMapTests {
    @Test func everyMapUnderFirmwareConfigLoads() throws {
        let dir = repositoryRoot + "/firmware-config/modbus-maps"
        let names = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".toml") }
        #expect(!names.isEmpty)
        for name in names {
            let d = ConfigDiagnostics(file: name)
            let map = RegisterMapReader.parse(try readTextFile(dir + "/" + name), file: name, defaultName: name, into: d)
            #expect(d.issues.isEmpty, "\(d.issues)")
            #expect(map?.entries.isEmpty == false)
        }
    }
}
