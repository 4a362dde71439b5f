import ClosetModel

/// A USB failure, named as libusb names it, with the device and what was being done.
public struct USBError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable { case noDevice, access, busy, timeout, io, other }
    public var kind: Kind
    public var description: String

    public init(_ kind: Kind, _ description: String) {
        self.kind = kind
        self.description = description
    }
}

/// How the HID driver talks to a UPS: its report descriptor, feature reports by id
/// (GET_REPORT), and input reports from the interrupt endpoint. libusb on a board; a replay
/// of recorded answers in tests. Blocking; confined to one queue by its owner.
public protocol HIDTransport: AnyObject {
    /// Who this is, for errors and the log (`051d:0002 APC Back-UPS BK650M2-CH at 1-1.2`).
    var name: String { get }
    /// The device's USB vendor and product ids, for per-model quirks.
    var usbIDs: (vendor: UInt16, product: UInt16) { get }
    func reportDescriptor() throws(USBError) -> [UInt8]
    /// The bytes the device returns for feature report `id` (id first when ids are used).
    func featureReport(_ id: UInt8, length: Int) throws(USBError) -> [UInt8]
    /// The next input report sent on the interrupt endpoint within `timeout`; nil if none.
    func inputReport(timeout: Duration) throws(USBError) -> [UInt8]?
    func close()
}

/// USB vendors whose HID Power Devices the driver and `probe usb` recognise without a config.
public enum UPSVendors {
    public static let known: [UInt16: String] = [
        0x051D: "APC", 0x0764: "CyberPower", 0x0463: "Eaton/MGE", 0x09AE: "Tripp Lite", 0x0D9F: "Powercom",
        0x06DA: "Liebert/Phoenixtec",
    ]
}

/// Reads a UPS over any transport: parses its descriptor once, then each poll fetches the
/// feature reports that hold mapped values, takes the input reports that have arrived, and
/// maps them (`HIDMapping`). The same code for libusb and for the replay.
public struct HIDReader {
    public let fields: [HIDField]
    /// Feature report ids holding a mapped value or status bit, with their lengths in bytes.
    public let wanted: [(id: UInt8, length: Int)]
    /// The latest input report per id (the interrupt endpoint's quick status changes).
    public private(set) var inputs: [UInt8: [UInt8]] = [:]

    public init(descriptor: [UInt8]) throws(HIDDescriptorError) {
        fields = try HIDDescriptorParser.parse(descriptor)
        let mapped = Set(HIDMapping.values.map(\.path))
        let status = HIDMapping.statusBits.map(\.0) + ["ACPresent"]
        var lengths: [UInt8: Int] = [:]
        for f in fields {
            let path = f.path
            guard mapped.contains(path) || status.contains(where: { path.hasSuffix("PresentStatus." + $0) }) else { continue }
            // Every field of a report counts for its length, not only the mapped ones.
            lengths[f.reportID] = 0
        }
        for f in fields where f.kind == .feature && lengths[f.reportID] != nil {
            lengths[f.reportID] = max(lengths[f.reportID]!, (f.bitOffset + f.bitSize + 7) / 8 + (f.reportID == 0 ? 0 : 1))
        }
        wanted = lengths.filter { $0.value > 0 }.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    /// One poll: the mapped readings. A report the device refuses (some firmware answers
    /// a few ids with a STALL) is left out; a vanished device is an error.
    public mutating func poll(_ transport: some HIDTransport, at time: Timestamp, drain: Duration = .milliseconds(20)) throws(USBError) -> [Reading] {
        var reports: [UInt8: [UInt8]] = [:]
        for (id, length) in wanted {
            do throws(USBError) {
                reports[id] = try transport.featureReport(id, length: length)
            } catch where error.kind == .noDevice || error.kind == .access {
                throw error
            } catch {
                continue
            }
        }
        while let input = try transport.inputReport(timeout: drain), let id = input.first {
            inputs[id] = input
        }
        // Input reports fill in ids the features lack (HIDMapping prefers Feature fields).
        for (id, bytes) in inputs where reports[id] == nil { reports[id] = bytes }
        guard !reports.isEmpty else { throw USBError(.io, "\(transport.name): no report answered") }
        let ids = transport.usbIDs
        return HIDMapping.readings(fields: fields, reports: reports, at: time).map { HIDMapping.applyQuirks($0, vendor: ids.vendor, product: ids.product) }
    }
}
