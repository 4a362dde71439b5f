import ClosetBackup
import ClosetConfig
import ClosetMegatec
import ClosetModbus
import ClosetNUT
import ClosetSNMP
import ClosetSensors
import ClosetUSBHID

/// Every driver the agent is built with, for the config loader.
public enum DriverRegistry {
    public static let builtIn: [DriverFactory] = SensorDrivers.factories + [
        ModbusDriver.factory, MegatecDriver.factory, SNMPSwitchDriver.factory, SNMPMappedDriver.factory, BackupDriver.factory, NUTDriver.factory, USBHIDDriver.factory,
        SelfDriver.factory(started: WallClock().now),
    ]
}
