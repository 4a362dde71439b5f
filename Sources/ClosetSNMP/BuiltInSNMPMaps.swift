import ClosetConfig

/// SNMP maps shipped with the agent, in the TOML a user writes for another device.
public enum BuiltInSNMPMaps {
    /// RFC 1628 UPS-MIB (1.3.6.1.2.1.33): most UPS network cards (Eaton, Socomec, Riello,
    /// Vertiv, many Chinese cards) answer it. Input and output values are line 1's.
    public static let upsMIB = """
        name = "ups-mib"
        description = "RFC 1628 UPS-MIB"

        [[status]]
        ## upsOutputSource: other(1) none(2) normal(3) bypass(4) battery(5) booster(6) reducer(7)
        oid = "1.3.6.1.2.1.33.1.4.1.0"
        values = { 3 = "OL", 4 = "OL BYPASS", 5 = "OB", 6 = "OL BOOST", 7 = "OL TRIM" }

        [[status]]
        ## upsBatteryStatus: unknown(1) batteryNormal(2) batteryLow(3) batteryDepleted(4)
        oid = "1.3.6.1.2.1.33.1.2.1.0"
        values = { 3 = "LB", 4 = "LB" }

        [[value]]
        variable = "battery.runtime"
        ## upsEstimatedMinutesRemaining
        oid = "1.3.6.1.2.1.33.1.2.3.0"
        scale = 60
        unit = "s"

        [[value]]
        variable = "battery.charge"
        oid = "1.3.6.1.2.1.33.1.2.4.0"
        unit = "%"

        [[value]]
        variable = "battery.voltage"
        ## 0.1 V
        oid = "1.3.6.1.2.1.33.1.2.5.0"
        scale = 0.1
        unit = "V"

        [[value]]
        variable = "battery.temperature"
        oid = "1.3.6.1.2.1.33.1.2.7.0"
        unit = "degC"

        [[value]]
        variable = "input.frequency"
        ## 0.1 Hz
        oid = "1.3.6.1.2.1.33.1.3.3.1.2.1"
        scale = 0.1
        unit = "Hz"

        [[value]]
        variable = "input.voltage"
        oid = "1.3.6.1.2.1.33.1.3.3.1.3.1"
        unit = "V"

        [[value]]
        variable = "output.voltage"
        oid = "1.3.6.1.2.1.33.1.4.4.1.2.1"
        unit = "V"

        [[value]]
        variable = "output.frequency"
        oid = "1.3.6.1.2.1.33.1.4.2.0"
        scale = 0.1
        unit = "Hz"

        [[value]]
        variable = "ups.load"
        ## upsOutputPercentLoad
        oid = "1.3.6.1.2.1.33.1.4.4.1.5.1"
        unit = "%"
        """

    /// APC PowerNet-MIB basics (1.3.6.1.4.1.318.1.1.1), for APC Network Management Cards.
    public static let apcPowerNet = """
        name = "apc-powernet"
        description = "APC PowerNet-MIB (AP9630/AP9640 cards)"

        [[status]]
        ## upsBasicOutputStatus: onLine(2) onBattery(3) onSmartBoost(4) softwareBypass(6)
        ## switchedBypass(9) hardwareFailureBypass(10) onSmartTrim(12)
        oid = "1.3.6.1.4.1.318.1.1.1.4.1.1.0"
        values = { 2 = "OL", 3 = "OB", 4 = "OL BOOST", 6 = "OL BYPASS", 9 = "OL BYPASS", 10 = "OL BYPASS", 12 = "OL TRIM" }

        [[status]]
        ## upsBasicBatteryStatus: batteryLow(3)
        oid = "1.3.6.1.4.1.318.1.1.1.2.1.1.0"
        values = { 3 = "LB" }

        [[status]]
        ## upsAdvBatteryReplaceIndicator: batteryNeedsReplacing(2)
        oid = "1.3.6.1.4.1.318.1.1.1.2.2.4.0"
        values = { 2 = "RB" }

        [[value]]
        variable = "battery.charge"
        oid = "1.3.6.1.4.1.318.1.1.1.2.2.1.0"
        unit = "%"

        [[value]]
        variable = "battery.temperature"
        oid = "1.3.6.1.4.1.318.1.1.1.2.2.2.0"
        unit = "degC"

        [[value]]
        variable = "battery.runtime"
        ## upsAdvBatteryRunTimeRemaining, TimeTicks (1/100 s)
        oid = "1.3.6.1.4.1.318.1.1.1.2.2.3.0"
        scale = 0.01
        unit = "s"

        [[value]]
        variable = "input.voltage"
        oid = "1.3.6.1.4.1.318.1.1.1.3.2.1.0"
        unit = "V"

        [[value]]
        variable = "input.frequency"
        oid = "1.3.6.1.4.1.318.1.1.1.3.2.4.0"
        unit = "Hz"

        [[value]]
        variable = "output.voltage"
        oid = "1.3.6.1.4.1.318.1.1.1.4.2.1.0"
        unit = "V"

        [[value]]
        variable = "ups.load"
        oid = "1.3.6.1.4.1.318.1.1.1.4.2.3.0"
        unit = "%"
        """

    /// Geist / Vertiv Watchdog climate monitors (GEIST-V4-MIB): the internal sensor's
    /// temperature (0.1 degC) and humidity.
    public static let geistWatchdog = """
        name = "geist-watchdog"
        description = "Geist Watchdog climate monitor, internal sensor"

        [[value]]
        variable = "ambient.temperature"
        oid = "1.3.6.1.4.1.21239.5.1.2.1.5.1"
        scale = 0.1
        unit = "degC"

        [[value]]
        variable = "ambient.humidity"
        oid = "1.3.6.1.4.1.21239.5.1.2.1.6.1"
        unit = "%RH"
        """

    public static let all: [(name: String, text: String)] = [
        ("ups-mib", upsMIB), ("apc-powernet", apcPowerNet), ("geist-watchdog", geistWatchdog),
    ]

    /// The built-in maps, parsed.
    public static var maps: [SNMPMap] {
        all.compactMap { SNMPMapReader.parse($0.text, file: "built-in map \($0.name)", into: ConfigDiagnostics(file: $0.name)) }
    }
}
