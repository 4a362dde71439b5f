import ClosetConfig

/// Register maps shipped with the agent, in the same TOML a user writes for a new device.
public enum BuiltInMaps {
    /// APC Smart-UPS with Modbus (SMT, SMX, SRT; Modbus enabled in the UPS menu), from APC's
    /// published register map (MPAO-98KJ7F): all holding registers, fixed-point with the given
    /// binary point (charge /2^9, battery voltage /2^5, temperature /2^7, load /2^8,
    /// voltages /2^6, frequency /2^7). Status: UPSStatus_BF (0-1), SimpleSignalingStatus_BF
    /// (18, ShutdownImminent), BatterySystemError_BF (19, NeedsReplacement), InputStatus_BF
    /// (150, boost/trim). The UPS answers reads across the gaps of 0..26 and 128..159.
    public static let apcSMT = """
        name = "apc-smt"
        description = "APC Smart-UPS SMT/SMX/SRT, Modbus register map MPAO-98KJ7F"
        max_gap = 16

        [[flags]]
        address = 0
        type = "u32"
        bits = { 1 = "OL", 2 = "OB", 3 = "BYPASS", 21 = "OVER" }

        [[flags]]
        address = 18
        bits = { 1 = "LB" }

        [[flags]]
        address = 19
        bits = { 2 = "RB" }

        [[flags]]
        address = 150
        bits = { 5 = "BOOST", 6 = "TRIM" }

        [[register]]
        variable = "battery.runtime"
        address = 128
        type = "u32"
        unit = "s"

        [[register]]
        variable = "battery.charge"
        address = 130
        scale = 0.001953125
        unit = "%"

        [[register]]
        variable = "battery.voltage"
        address = 131
        type = "s16"
        scale = 0.03125
        unit = "V"

        [[register]]
        variable = "battery.temperature"
        address = 135
        type = "s16"
        scale = 0.0078125
        unit = "degC"

        [[register]]
        variable = "ups.load"
        address = 136
        scale = 0.00390625
        unit = "%"

        [[register]]
        variable = "output.current"
        address = 140
        scale = 0.03125
        unit = "A"

        [[register]]
        variable = "output.voltage"
        address = 142
        scale = 0.015625
        unit = "V"

        [[register]]
        variable = "output.frequency"
        address = 144
        scale = 0.0078125
        unit = "Hz"

        [[register]]
        variable = "input.voltage"
        address = 151
        scale = 0.015625
        unit = "V"
        invalid = [65535]
        """

    /// The common RS-485 temperature/humidity probe (SHT20/SHT30 boards sold as XY-MD02 and
    /// alike): input register 1 = temperature x10 degC (signed), 2 = humidity x10 %RH.
    public static let genericTHProbe = """
        name = "generic-th-probe"
        description = "RS-485 temperature/humidity probe: input registers 1 (degC x10), 2 (%RH x10)"

        [[register]]
        variable = "ambient.temperature"
        function = "input"
        address = 1
        type = "s16"
        scale = 0.1
        unit = "degC"

        [[register]]
        variable = "ambient.humidity"
        function = "input"
        address = 2
        scale = 0.1
        unit = "%RH"
        """

    public static let all: [(name: String, text: String)] = [("apc-smt", apcSMT), ("generic-th-probe", genericTHProbe)]
}
