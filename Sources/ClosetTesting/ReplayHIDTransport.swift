import ClosetModel
import ClosetUSBHID

/// A USB UPS that answers from a recording: its real report descriptor and the bytes it
/// returned to each GET_REPORT (NUT's debug log, `../shared/fixtures/usb-hid/`). The HID
/// driver's own code runs on top; the test can unplug it or send interrupt reports.
public final class ReplayHIDTransport: HIDTransport, @unchecked Sendable {
    public let name: String
    public var usbIDs: (vendor: UInt16, product: UInt16)
    let descriptor: [UInt8]
    /// What GET_REPORT answers, by report id.
    public var features: [UInt8: [UInt8]]
    public var inputs: [[UInt8]] = []
    public var unplugged = false
    public private(set) var requests = 0
    public private(set) var closed = false

    /// `descriptorHex`: hex bytes separated by spaces or lines. `reports`: lines
    /// `REPORT get|err|buf <hex bytes> -> PATH ...`; the first get/err line of each id is
    /// what the device answered.
    public init(name: String, descriptorHex: String, reports: String, usbIDs: (vendor: UInt16, product: UInt16) = (0x051D, 0x0002)) {
        self.name = name
        self.usbIDs = usbIDs
        descriptor = descriptorHex.split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { UInt8($0, radix: 16) }
        var features: [UInt8: [UInt8]] = [:]
        for line in reports.split(separator: "\n") where line.hasPrefix("REPORT get ") || line.hasPrefix("REPORT err ") {
            guard let arrow = line.range(of: " -> ") else { continue }
            let bytes = line[line.index(line.startIndex, offsetBy: 11)..<arrow.lowerBound].split(separator: " ").compactMap { UInt8($0, radix: 16) }
            if let id = bytes.first, features[id] == nil { features[id] = bytes }
        }
        self.features = features
    }

    public func reportDescriptor() throws(USBError) -> [UInt8] {
        guard !unplugged else { throw USBError(.noDevice, "\(name): LIBUSB_ERROR_NO_DEVICE") }
        return descriptor
    }

    public func featureReport(_ id: UInt8, length: Int) throws(USBError) -> [UInt8] {
        requests += 1
        guard !unplugged else { throw USBError(.noDevice, "\(name): GET_REPORT 0x\(String(id, radix: 16)): LIBUSB_ERROR_NO_DEVICE") }
        guard let bytes = features[id] else { throw USBError(.io, "\(name): GET_REPORT 0x\(String(id, radix: 16)): LIBUSB_ERROR_PIPE") }
        return Array(bytes.prefix(length))
    }

    public func inputReport(timeout: Duration) throws(USBError) -> [UInt8]? {
        guard !unplugged else { throw USBError(.noDevice, "\(name): interrupt endpoint: LIBUSB_ERROR_NO_DEVICE") }
        return inputs.isEmpty ? nil : inputs.removeFirst()
    }

    public func close() { closed = true }
}
