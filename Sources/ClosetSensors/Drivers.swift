import ClosetConfig

/// The drivers this module provides, for the agent's registry.
public enum SensorDrivers {
    public static let factories: [DriverFactory] = [HwmonDriver.factory, NetifDriver.factory, OneWireDriver.factory]
}
