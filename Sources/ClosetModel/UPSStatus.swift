/// The `ups.status` flag set, with NUT's tokens (docs/new-drivers.txt, "Status data").
///
/// A UPS can be on line and charging and trimming at once, so this is a set, not a string.
/// Tokens the agent does not model (NUT's `CAL`, `OFF`, `HB`, `ALARM`, `WAIT`, ...) are kept in
/// `ignoredTokens` by the parser so callers can still show them.
public struct UPSStatus: OptionSet, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// On line (mains present).
    public static let onLine = UPSStatus(rawValue: 1 << 0)
    /// On battery.
    public static let onBattery = UPSStatus(rawValue: 1 << 1)
    /// Low battery.
    public static let lowBattery = UPSStatus(rawValue: 1 << 2)
    /// Replace battery.
    public static let replaceBattery = UPSStatus(rawValue: 1 << 3)
    /// Charging.
    public static let charging = UPSStatus(rawValue: 1 << 4)
    /// Discharging.
    public static let discharging = UPSStatus(rawValue: 1 << 5)
    /// On bypass.
    public static let bypass = UPSStatus(rawValue: 1 << 6)
    /// Overloaded.
    public static let overload = UPSStatus(rawValue: 1 << 7)
    /// Trimming (reducing high input voltage).
    public static let trim = UPSStatus(rawValue: 1 << 8)
    /// Boosting (raising low input voltage).
    public static let boost = UPSStatus(rawValue: 1 << 9)
    /// Forced shutdown: clients must shut down now.
    public static let forcedShutdown = UPSStatus(rawValue: 1 << 10)

    /// Every flag with its NUT token, in NUT's customary print order.
    public static let tokens: [(UPSStatus, String)] = [
        (.onLine, "OL"), (.onBattery, "OB"), (.lowBattery, "LB"), (.replaceBattery, "RB"),
        (.charging, "CHRG"), (.discharging, "DISCHRG"), (.bypass, "BYPASS"), (.overload, "OVER"),
        (.trim, "TRIM"), (.boost, "BOOST"), (.forcedShutdown, "FSD"),
    ]

    /// Parses a NUT status string such as `"OL CHRG"`. Unknown tokens are returned separately.
    public static func parse(_ text: some StringProtocol) -> (status: UPSStatus, ignoredTokens: [String]) {
        var status = UPSStatus()
        var ignored: [String] = []
        for token in text.split(whereSeparator: { $0 == " " || $0 == "\t" }) {
            if let flag = tokens.first(where: { $0.1 == token })?.0 {
                status.insert(flag)
            } else {
                ignored.append(String(token))
            }
        }
        return (status, ignored)
    }

    /// The flag for one token, or nil when the token is not one the model knows.
    public static func flag(forToken token: String) -> UPSStatus? {
        tokens.first(where: { $0.1 == token })?.0
    }

    /// NUT tokens separated by spaces, e.g. `OB DISCHRG LB`.
    public var description: String {
        UPSStatus.tokens.filter { contains($0.0) }.map(\.1).joined(separator: " ")
    }

    /// The individual flags in print order.
    public var flags: [UPSStatus] { UPSStatus.tokens.map(\.0).filter { contains($0) } }
}
