import ClosetAgent
import ClosetConfig
import ClosetTesting
import Testing

@Suite struct ShippedConfigTests {
    @Test(arguments: ["demo.toml", "closet-example.toml"])
    func theShippedConfigsLoadWithEveryBuiltInDriver(name: String) throws {
        let loader = ConfigLoader(drivers: DriverRegistry.builtIn, defaultBoardsDirectory: repositoryRoot + "/boards")
        let config = try loader.load(path: repositoryRoot + "/firmware-config/" + name)
        #expect(!config.devices.isEmpty)
    }
}
