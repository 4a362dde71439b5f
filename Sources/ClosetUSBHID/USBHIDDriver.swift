import ClosetConfig
import ClosetModel
import Dispatch

/// A USB HID Power Device UPS (APC, CyberPower, Eaton, ...) over libusb. Unplugged, the
/// poll fails and the next one looks for the device again, so a replug recovers by itself.
public struct USBHIDDriver: DeviceDriver {
    public struct Configuration: DriverConfiguration, Hashable {
        /// USB ids; nil: any known UPS vendor (`UPSVendors`).
        public var vendor: UInt16?
        public var product: UInt16?
        /// Pins one UPS when there are two: its serial number, or its socket (`1-1.2`).
        public var serial: String?
        public var busPath: String?

        public init(vendor: UInt16? = nil, product: UInt16? = nil, serial: String? = nil, busPath: String? = nil) {
            self.vendor = vendor
            self.product = product
            self.serial = serial
            self.busPath = busPath
        }

        public var summary: [(key: String, value: String)] {
            [
                ("vendor", vendor.map(hex4) ?? "(any UPS vendor)"), ("product", product.map(hex4) ?? "(any)"),
                ("serial", serial ?? "(any)"), ("bus_path", busPath ?? "(any)"),
            ]
        }

        public func matches(_ d: USBDeviceInfo) -> Bool {
            (vendor.map { $0 == d.vendor } ?? d.looksLikeUPS) && product.map { $0 == d.product } ?? true
                && serial.map { $0 == d.serial } ?? true && busPath.map { $0 == d.busPath } ?? true && d.hidInterface != nil
        }

        public var matchDescription: String {
            var parts = [vendor.map { "vendor \(hex4($0))" } ?? "a known UPS vendor"]
            if let product { parts.append("product \(hex4(product))") }
            if let serial { parts.append("serial \(serial)") }
            if let busPath { parts.append("bus path \(busPath)") }
            return parts.joined(separator: ", ")
        }

        public func makeDriver(_ runtime: DriverRuntime) throws -> any DeviceDriver {
            USBHIDDriver(configuration: self) { [self] () throws(USBError) in try LibUSB.open(matches, describe: matchDescription) }
        }
    }

    /// `[[ups]]` with `driver = "usbhid"`.
    public static let factory = DriverFactory(name: "usbhid", kinds: [.ups]) { r, _ in
        func id(_ key: String) -> UInt16?? {
            guard let text = r.string(key) else { return .some(nil) }
            guard let v = UInt16(text.hasPrefix("0x") ? String(text.dropFirst(2)) : text, radix: 16) else {
                r.report(key, "a USB id is 4 hex digits such as \"051d\", got \"\(text)\"")
                return nil
            }
            return v
        }
        guard let vendor = id("vendor"), let product = id("product") else { return nil }
        return Configuration(vendor: vendor, product: product, serial: r.string("serial"), busPath: r.string("bus_path"))
    }

    public let configuration: Configuration
    private let line: Line

    /// `open` finds and claims the device (libusb on a board; a replay in tests).
    public init(configuration: Configuration, open: @escaping @Sendable () throws(USBError) -> any HIDTransport) {
        self.configuration = configuration
        self.line = Line(open: open, label: configuration.matchDescription)
    }

    public func poll(at time: Timestamp) async throws -> [Reading] {
        try await line.poll(at: time)
    }

    /// The open device and its parsed descriptor, confined to one queue (USB calls block).
    final class Line: @unchecked Sendable {
        let open: @Sendable () throws(USBError) -> any HIDTransport
        let queue: DispatchQueue
        var transport: (any HIDTransport)?
        var reader: HIDReader?

        init(open: @escaping @Sendable () throws(USBError) -> any HIDTransport, label: String) {
            self.open = open
            self.queue = DispatchQueue(label: "closet.usbhid.\(label)")
        }

        func poll(at time: Timestamp) async throws -> [Reading] {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<[Reading], any Error>) in
                queue.async { [self] in c.resume(with: Result { try self.pollNow(at: time) }) }
            }
        }

        func pollNow(at time: Timestamp) throws -> [Reading] {
            do {
                let t = try transport ?? open()
                transport = t
                if reader == nil {
                    let bytes = try t.reportDescriptor()
                    do {
                        reader = try HIDReader(descriptor: bytes)
                    } catch {
                        throw USBError(.other, "\(t.name): report descriptor (\(bytes.count) bytes): \(error)")
                    }
                }
                return try reader!.poll(t, at: time)
            } catch {
                // Unplugged, replugged, or confused: start again next poll.
                transport?.close()
                transport = nil
                reader = nil
                throw error
            }
        }
    }
}
