import ClosetBackup
import ClosetConfig
import ClosetMegatec
import ClosetModbus
import ClosetSNMP
import ClosetSensors

/// Every driver the agent is built with, for the config loader.
public enum DriverRegistry {
    public static let builtIn: [DriverFactory] = SensorDrivers.factories + [
        ModbusDriver.factory, MegatecDriver.factory, SNMPSwitchDriver.factory, SNMPMappedDriver.factory, BackupDriver.factory,
        SelfDriver.factory(started: WallClock().now),
    ]
}
