import ClosetModel

/// What the agent's NUT server shows for the UPSes it reads, whatever their driver, and when
/// it tells the servers to shut down (FSD). Pure: the site's state in, tables out.
public struct NUTExport: Sendable {
    /// On battery and the charge at or below this (percent): forced shutdown.
    public var chargeFloor: Double?
    /// On battery and the runtime at or below this: forced shutdown.
    public var runtimeFloor: Duration?
    /// UPSes with forced shutdown set, and why. Set stays set until mains power is back.
    public private(set) var forced: [String: String] = [:]

    public init(chargeFloor: Double? = nil, runtimeFloor: Duration? = nil) {
        self.chargeFloor = chargeFloor
        self.runtimeFloor = runtimeFloor
    }

    /// A primary upsmon set FSD.
    public mutating func force(_ ups: String, reason: String) {
        if forced[ups] == nil { forced[ups] = reason }
    }

    /// The tables for the server, and the UPSes whose FSD was set or cleared by this update
    /// (with the reason), for the log.
    public mutating func update(_ state: SiteState) -> (upses: [String: NUTServedUPS], set: [(String, String)], cleared: [String]) {
        var upses: [String: NUTServedUPS] = [:]
        var set: [(String, String)] = []
        var cleared: [String] = []
        for device in state.devices where device.kind == .ups {
            var status = UPSStatus()
            if case .status(let s)? = device.readings[.upsStatus]?.value { status = s }
            if status.contains(.onBattery) {
                if forced[device.name] == nil, let reason = critical(device, status) {
                    forced[device.name] = reason
                    set.append((device.name, reason))
                }
            } else if status.contains(.onLine), forced.removeValue(forKey: device.name) != nil {
                cleared.append(device.name)
            }
            if forced[device.name] != nil { status.insert(.forcedShutdown) }
            var variables: [String: String] = ["device.type": "ups"]
            for reading in device.readings.values { variables[reading.name.rawValue] = NUTVariables.text(reading.value) }
            if device.readings[.upsStatus] != nil || forced[device.name] != nil {
                variables[VariableName.upsStatus.rawValue] = Self.statusText(status)
            }
            upses[device.name] = NUTServedUPS(
                name: device.name, description: "\(device.policy.driver) UPS read by closet-agent", variables: variables,
                stale: device.freshness != .fresh)
        }
        return (upses, set, cleared)
    }

    /// NUT's order: FSD first, then the rest as the model prints them.
    static func statusText(_ status: UPSStatus) -> String {
        var rest = status
        rest.remove(.forcedShutdown)
        let text = rest.description
        return status.contains(.forcedShutdown) ? (text.isEmpty ? "FSD" : "FSD " + text) : text
    }

    private func critical(_ device: DeviceState, _ status: UPSStatus) -> String? {
        if status.contains(.lowBattery) { return "on battery and the UPS reports low battery" }
        if let floor = chargeFloor, case .number(let charge)? = device.readings[.batteryCharge]?.value, charge <= floor {
            return "on battery, charge \(NUTVariables.text(.number(charge))) % <= \(NUTVariables.text(.number(floor))) %"
        }
        if let floor = runtimeFloor, case .number(let runtime)? = device.readings[.batteryRuntime]?.value, runtime <= floor.seconds {
            return "on battery, runtime \(NUTVariables.text(.number(runtime))) s <= \(floor.compactDescription)"
        }
        return nil
    }
}
