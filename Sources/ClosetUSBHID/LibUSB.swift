import CUSB
import ClosetModel

/// One USB device as enumeration sees it.
public struct USBDeviceInfo: Sendable, Hashable {
    public var vendor: UInt16
    public var product: UInt16
    /// `bus-port.port...` (`1-1.2`): stable while the cable stays in the same socket.
    public var busPath: String
    public var manufacturer: String?
    public var productName: String?
    public var serial: String?
    /// The first HID interface (class 3), nil when the device has none.
    public var hidInterface: Int?
    /// Why the strings are missing (`LIBUSB_ERROR_ACCESS`), when they are.
    public var openError: String?

    public var id: String { hex4(vendor) + ":" + hex4(product) }
    public var vendorName: String? { UPSVendors.known[vendor] }
    public var looksLikeUPS: Bool { vendorName != nil && hidInterface != nil }

    public var label: String {
        var s = "\(id) at \(busPath)"
        let words = [manufacturer, productName].compactMap { $0 }.joined(separator: " ")
        if !words.isEmpty { s += " " + words }
        if let serial { s += " serial \(serial)" }
        return s
    }
}

func hex4(_ v: UInt16) -> String {
    let s = String(v, radix: 16)
    return String(repeating: "0", count: 4 - s.count) + s
}

/// libusb, wrapped: a context per use, devices listed, one opened as a `HIDTransport`.
public enum LibUSB {
    static func name(_ code: Int32) -> String { String(cString: libusb_error_name(code)) }

    static func kind(_ code: Int32) -> USBError.Kind {
        switch code {
        case LIBUSB_ERROR_NO_DEVICE.rawValue, LIBUSB_ERROR_NOT_FOUND.rawValue: .noDevice
        case LIBUSB_ERROR_ACCESS.rawValue: .access
        case LIBUSB_ERROR_BUSY.rawValue: .busy
        case LIBUSB_ERROR_TIMEOUT.rawValue: .timeout
        case LIBUSB_ERROR_IO.rawValue, LIBUSB_ERROR_PIPE.rawValue, LIBUSB_ERROR_OVERFLOW.rawValue: .io
        default: .other
        }
    }

    /// The hint shown with an access error: the udev rule that gives the agent the device.
    public static let permissionHint =
        "no permission: install firmware-config/udev/60-closet.rules in /etc/udev/rules.d, run "
        + "'udevadm control --reload' and replug the UPS; the agent's user must be in group plugdev"

    /// Every USB device, with strings where the device can be opened.
    public static func devices() throws(USBError) -> [USBDeviceInfo] {
        var context: OpaquePointer?
        let rc = libusb_init(&context)
        guard rc == 0 else { throw USBError(kind(rc), "libusb_init: \(name(rc)) (no USB on this machine?)") }
        defer { libusb_exit(context) }
        var list: UnsafeMutablePointer<OpaquePointer?>?
        let count = libusb_get_device_list(context, &list)
        guard count >= 0, let list else { throw USBError(kind(Int32(count)), "listing USB devices: \(name(Int32(count)))") }
        defer { libusb_free_device_list(list, 1) }
        var out: [USBDeviceInfo] = []
        for i in 0..<count {
            guard let device = list[i] else { continue }
            out.append(info(device))
        }
        return out
    }

    static func info(_ device: OpaquePointer) -> USBDeviceInfo {
        var d = libusb_device_descriptor()
        _ = libusb_get_device_descriptor(device, &d)
        var ports = [UInt8](repeating: 0, count: 8)
        let n = libusb_get_port_numbers(device, &ports, Int32(ports.count))
        let path = "\(libusb_get_bus_number(device))-" + (n > 0 ? ports[0..<Int(n)].map(String.init).joined(separator: ".") : "0")
        var info = USBDeviceInfo(vendor: d.idVendor, product: d.idProduct, busPath: path, hidInterface: hidInterface(device))
        var handle: OpaquePointer?
        let rc = libusb_open(device, &handle)
        if rc == 0, let handle {
            defer { libusb_close(handle) }
            func string(_ index: UInt8) -> String? {
                guard index != 0 else { return nil }
                var buffer = [UInt8](repeating: 0, count: 256)
                let got = libusb_get_string_descriptor_ascii(handle, index, &buffer, Int32(buffer.count))
                guard got > 0 else { return nil }
                let s = String(decoding: buffer[0..<Int(got)], as: UTF8.self).trimmingSpaces
                return s.isEmpty ? nil : s
            }
            info.manufacturer = string(d.iManufacturer)
            info.productName = string(d.iProduct)
            info.serial = string(d.iSerialNumber)
        } else {
            info.openError = name(rc)
        }
        return info
    }

    static func hidInterface(_ device: OpaquePointer) -> Int? {
        var config: UnsafeMutablePointer<libusb_config_descriptor>?
        guard libusb_get_active_config_descriptor(device, &config) == 0 || libusb_get_config_descriptor(device, 0, &config) == 0, let config
        else { return nil }
        defer { libusb_free_config_descriptor(config) }
        for i in 0..<Int(config.pointee.bNumInterfaces) {
            let interface = config.pointee.interface[i]
            for a in 0..<Int(interface.num_altsetting) where interface.altsetting[a].bInterfaceClass == UInt8(LIBUSB_CLASS_HID.rawValue) {
                return Int(interface.altsetting[a].bInterfaceNumber)
            }
        }
        return nil
    }

    /// Opens the device `matches` picks among the UPS-looking ones, takes its HID interface
    /// from the kernel's usbhid driver, and returns it as a transport.
    public static func open(_ matches: (USBDeviceInfo) -> Bool, describe: String) throws(USBError) -> LibUSBTransport {
        var context: OpaquePointer?
        let rc = libusb_init(&context)
        guard rc == 0 else { throw USBError(kind(rc), "libusb_init: \(name(rc)) (no USB on this machine?)") }
        var list: UnsafeMutablePointer<OpaquePointer?>?
        let count = libusb_get_device_list(context, &list)
        guard count >= 0, let list else {
            libusb_exit(context)
            throw USBError(kind(Int32(count)), "listing USB devices: \(name(Int32(count)))")
        }
        defer { libusb_free_device_list(list, 1) }
        var found: [(OpaquePointer, USBDeviceInfo)] = []
        for i in 0..<count {
            guard let device = list[i] else { continue }
            let info = info(device)
            if matches(info) { found.append((device, info)) }
        }
        guard found.count == 1 else {
            libusb_exit(context)
            if found.isEmpty { throw USBError(.noDevice, "no USB UPS matching \(describe) (\(count) USB devices seen)") }
            throw USBError(.other, "\(found.count) USB UPSes match \(describe): \(found.map(\.1.label).joined(separator: "; ")); set serial or bus_path")
        }
        let (device, info) = found[0]
        guard let interface = info.hidInterface else {
            libusb_exit(context)
            throw USBError(.noDevice, "\(info.label) has no HID interface")
        }
        var handle: OpaquePointer?
        let opened = libusb_open(device, &handle)
        guard opened == 0, let handle else {
            libusb_exit(context)
            throw USBError(kind(opened), "\(info.label): \(name(opened))" + (opened == LIBUSB_ERROR_ACCESS.rawValue ? ": " + permissionHint : ""))
        }
        if libusb_kernel_driver_active(handle, Int32(interface)) == 1 {
            let detached = libusb_detach_kernel_driver(handle, Int32(interface))
            guard detached == 0 else {
                libusb_close(handle)
                libusb_exit(context)
                throw USBError(kind(detached), "\(info.label): taking it from the kernel's usbhid driver: \(name(detached))")
            }
        }
        let claimed = libusb_claim_interface(handle, Int32(interface))
        guard claimed == 0 else {
            libusb_close(handle)
            libusb_exit(context)
            throw USBError(kind(claimed), "\(info.label): claiming interface \(interface): \(name(claimed)) (another program, NUT's usbhid-ups?)")
        }
        return LibUSBTransport(context: context, handle: handle, interface: interface, info: info, endpoint: interruptEndpoint(device, interface))
    }

    static func interruptEndpoint(_ device: OpaquePointer, _ number: Int) -> UInt8? {
        var config: UnsafeMutablePointer<libusb_config_descriptor>?
        guard libusb_get_active_config_descriptor(device, &config) == 0, let config else { return nil }
        defer { libusb_free_config_descriptor(config) }
        for i in 0..<Int(config.pointee.bNumInterfaces) {
            let alt = config.pointee.interface[i].altsetting[0]
            guard Int(alt.bInterfaceNumber) == number else { continue }
            for e in 0..<Int(alt.bNumEndpoints) {
                let ep = alt.endpoint[e]
                if ep.bmAttributes & 0x03 == UInt8(LIBUSB_TRANSFER_TYPE_INTERRUPT.rawValue), ep.bEndpointAddress & 0x80 != 0 {
                    return ep.bEndpointAddress
                }
            }
        }
        return nil
    }
}

/// A claimed HID interface of a USB UPS.
public final class LibUSBTransport: HIDTransport {
    private let context: OpaquePointer?
    private var handle: OpaquePointer?
    private let interface: Int
    private let endpoint: UInt8?
    public let info: USBDeviceInfo
    public var name: String { info.label }
    public var usbIDs: (vendor: UInt16, product: UInt16) { (info.vendor, info.product) }
    let timeout: UInt32 = 2000

    init(context: OpaquePointer?, handle: OpaquePointer, interface: Int, info: USBDeviceInfo, endpoint: UInt8?) {
        self.context = context
        self.handle = handle
        self.interface = interface
        self.info = info
        self.endpoint = endpoint
    }

    deinit { close() }

    private func failure(_ rc: Int32, _ what: String) -> USBError {
        USBError(LibUSB.kind(rc), "\(name): \(what): \(LibUSB.name(rc))")
    }

    public func reportDescriptor() throws(USBError) -> [UInt8] {
        guard let handle else { throw USBError(.noDevice, "\(name): closed") }
        var buffer = [UInt8](repeating: 0, count: 4096)
        // GET_DESCRIPTOR (standard, to the interface), type 0x22 = HID report descriptor.
        let n = libusb_control_transfer(handle, 0x81, 0x06, 0x2200, UInt16(interface), &buffer, UInt16(buffer.count), timeout)
        guard n > 0 else { throw failure(n, "reading the report descriptor") }
        return Array(buffer[0..<Int(n)])
    }

    public func featureReport(_ id: UInt8, length: Int) throws(USBError) -> [UInt8] {
        guard let handle else { throw USBError(.noDevice, "\(name): closed") }
        var buffer = [UInt8](repeating: 0, count: max(length, 2) + 8)
        // HID GET_REPORT (class, to the interface), report type 3 = Feature.
        let n = libusb_control_transfer(handle, 0xA1, 0x01, UInt16(0x0300) | UInt16(id), UInt16(interface), &buffer, UInt16(buffer.count), timeout)
        guard n > 0 else { throw failure(n, "GET_REPORT 0x\(String(id, radix: 16))") }
        return Array(buffer[0..<Int(n)])
    }

    public func inputReport(timeout: Duration) throws(USBError) -> [UInt8]? {
        guard let handle, let endpoint else { return nil }
        var buffer = [UInt8](repeating: 0, count: 64)
        var transferred: Int32 = 0
        let rc = libusb_interrupt_transfer(handle, endpoint, &buffer, Int32(buffer.count), &transferred, UInt32(max(1, timeout.nanoseconds / 1_000_000)))
        if rc == LIBUSB_ERROR_TIMEOUT.rawValue { return nil }
        guard rc == 0 else { throw failure(rc, "interrupt endpoint 0x\(String(endpoint, radix: 16))") }
        return transferred > 0 ? Array(buffer[0..<Int(transferred)]) : nil
    }

    public func close() {
        guard let h = handle else { return }
        libusb_release_interface(h, Int32(interface))
        // Give the UPS back to the kernel (hid-generic), as NUT does when it exits.
        _ = libusb_attach_kernel_driver(h, Int32(interface))
        libusb_close(h)
        handle = nil
        libusb_exit(context)
    }
}
