/// Reads one device. Every protocol driver (sysfs, Modbus, Megatec, SNMP, NUT, USB HID)
/// conforms, so the poll loop, health and everything downstream are written once.
public protocol DeviceDriver: Sendable {
    /// Reads the device once and returns every variable it has now, stamped `time`.
    ///
    /// Throw to mark the device stale; the error's description is the reason shown to the
    /// technician, so it names the device path or address and what failed. Must honour task
    /// cancellation where it can: the poll loop cancels a poll that overruns its timeout.
    func poll(at time: Timestamp) async throws -> [Reading]
}
