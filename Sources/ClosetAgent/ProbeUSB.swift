import ClosetConfig
import ClosetModel
import ClosetUSBHID

extension Probe {
    /// `probe usb`: every USB device libusb sees, the UPSes marked; with `device` (VID:PID or
    /// a bus path) that UPS's report descriptor in hex, its usage paths and what they read.
    /// Throws when libusb cannot start or the device cannot be read.
    public static func usb(device: String?) throws(USBError) -> String {
        let devices = try LibUSB.devices()
        guard let device else {
            guard !devices.isEmpty else { return "no USB devices on this machine (libusb sees none)\n" }
            var out = ""
            for d in devices.sorted(by: { $0.busPath < $1.busPath }) {
                var line = d.label
                if d.looksLikeUPS { line += "  <- UPS (\(d.vendorName!), HID interface \(d.hidInterface!))" }
                if let e = d.openError { line += "  [strings unreadable: \(e)\(e == "LIBUSB_ERROR_ACCESS" ? "; " + LibUSB.permissionHint : "")]" }
                out += line + "\n"
            }
            let ups = devices.filter(\.looksLikeUPS)
            out += ups.isEmpty
                ? "no UPS among \(devices.count) USB devices (known UPS vendors: \(UPSVendors.known.values.sorted().joined(separator: ", ")))\n"
                : "dump one with: closet-agent probe usb --device \(ups[0].id)\n"
            return out
        }
        let matches: (USBDeviceInfo) -> Bool = { d in d.id == device.lowercased() || d.busPath == device }
        let transport = try LibUSB.open(matches, describe: device)
        defer { transport.close() }
        return try dump(transport)
    }

    /// The descriptor as hex (16 bytes a line, to save as NAME.rdesc.hex), the usage paths
    /// with where each sits, the values read from the feature reports, and the mapping.
    public static func dump(_ transport: some HIDTransport) throws(USBError) -> String {
        let bytes = try transport.reportDescriptor()
        var out = "\(transport.name)\nreport descriptor, \(bytes.count) bytes:\n"
        for start in stride(from: 0, to: bytes.count, by: 16) {
            out += bytes[start..<min(start + 16, bytes.count)].map { hex([$0]) }.joined(separator: " ") + "\n"
        }
        var reader: HIDReader
        do {
            reader = try HIDReader(descriptor: bytes)
        } catch {
            return out + "the descriptor does not parse: \(error)\n"
        }
        var reports: [UInt8: [UInt8]] = [:]
        for id in Set(reader.fields.filter { $0.kind == .feature }.map(\.reportID)).sorted() {
            let length = reader.fields.filter { $0.reportID == id && $0.kind == .feature }.map { ($0.bitOffset + $0.bitSize + 7) / 8 }.max()! + 1
            reports[id] = try? transport.featureReport(id, length: length)
        }
        out += "usage paths (kind, report id, bit offset+size, logical range, unit/exponent, value now):\n"
        for f in reader.fields {
            let value = reports[f.reportID].flatMap { f.value(in: $0) }.map(String.init) ?? "-"
            out += "  \(f.kind.rawValue) 0x\(hex([f.reportID])) \(f.bitOffset)+\(f.bitSize) [\(f.logicalMinimum)..\(f.logicalMaximum)] "
                + "\(f.unit == 0 ? "-" : "0x" + String(f.unit, radix: 16))/\(f.unitExponent) \(f.path) = \(value)\n"
        }
        let readings = try reader.poll(transport, at: Timestamp(nanosecondsSinceEpoch: 0), drain: .milliseconds(100))
        out += "mapped readings:\n"
        for r in readings.sorted(by: { $0.name < $1.name }) {
            out += "  \(r.name) \(r.value)\(r.unit.map { " " + $0.rawValue } ?? "")\n"
        }
        return out
    }
}
