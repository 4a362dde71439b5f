import ClosetConfig
import ClosetModel
import ClosetUSBHID

#if canImport(Glibc)
import Glibc
#endif

/// `closet-agent probe` with no arguments: looks at what the board has (USB devices that
/// look like UPSes, serial adapters, 1-Wire probes, hwmon sensors, network interfaces, the
/// default gateway) and writes a starter config that `check-config` accepts.
public enum Discovery {
    public struct Roots: Sendable {
        public var sys = "/sys"
        public var dev = "/dev"
        public var proc = "/proc"
        public var boards = "/usr/share/closet/boards"
        public init() {}
    }

    public static func starterConfig(_ roots: Roots) -> String {
        var out = "## Starter config written by 'closet-agent probe' from what this board has.\n"
        out += "## Check it with: closet-agent check-config FILE\n\n[agent]\nsite = \"change-me\"\n"
        if roots.sys != "/sys" { out += "sysfs_root = \"\(roots.sys)\"\n" }
        if let board = guessBoard(roots) {
            out += "board = \"\(board)\"\n"
            if roots.boards != "/usr/share/closet/boards" { out += "boards_dir = \"\(roots.boards)\"\n" }
        }
        // Board temperatures and fans.
        let hwmon = listDirectory(roots.sys + "/class/hwmon") ?? []
        let chips = hwmon.compactMap { (try? readTextFile(roots.sys + "/class/hwmon/\($0)/name"))?.trimmingSpaces }
        if !chips.isEmpty || !(listDirectory(roots.sys + "/class/thermal") ?? []).filter({ $0.hasPrefix("thermal_zone") }).isEmpty {
            out += "\n## hwmon chips found: \(chips.isEmpty ? "none (thermal zones only)" : chips.joined(separator: ", "))\n"
            out += "[[sensor]]\nname = \"board\"\ndriver = \"hwmon\"\ninterval = \"30s\"\n"
        }
        // 1-Wire thermometers.
        let w1 = (listDirectory(roots.sys + "/bus/w1/devices") ?? []).filter { n in ["28-", "10-", "22-", "3b-"].contains { n.hasPrefix($0) } }.sorted()
        for (i, id) in w1.enumerated() {
            out += "\n## 1-Wire thermometer \(id)\n[[sensor]]\nname = \"probe-w1-\(i + 1)\"\ndriver = \"onewire\"\nid = \"\(id)\"\n"
        }
        // Network interfaces with a device behind them (not lo, bridges, tunnels).
        let nics = (listDirectory(roots.sys + "/class/net") ?? []).filter { isDirectory(roots.sys + "/class/net/\($0)/device") }.sorted()
        if !nics.isEmpty {
            out += "\n## The board's network interfaces\n[[link]]\nname = \"board-nics\"\ndriver = \"netif\"\n"
            out += "interfaces = [\(nics.map { "\"\($0)\"" }.joined(separator: ", "))]\n"
        }
        // USB UPSes: the HID Power Device driver, pinned to the socket when there are several.
        var upsCount = 0
        let usb = (listDirectory(roots.sys + "/bus/usb/devices") ?? []).sorted()
        for dev in usb {
            guard let vendor = (try? readTextFile(roots.sys + "/bus/usb/devices/\(dev)/idVendor"))?.trimmingSpaces.lowercased(),
                let id = UInt16(vendor, radix: 16), let maker = UPSVendors.known[id]
            else { continue }
            let product = (try? readTextFile(roots.sys + "/bus/usb/devices/\(dev)/product"))?.trimmingSpaces ?? "?"
            let productID = (try? readTextFile(roots.sys + "/bus/usb/devices/\(dev)/idProduct"))?.trimmingSpaces.lowercased() ?? ""
            upsCount += 1
            out += "\n## USB device \(dev): \(maker) \"\(product)\" (\(vendor):\(productID)): a USB HID UPS\n"
            out += "[[ups]]\nname = \"\(upsCount == 1 ? "ups" : "ups\(upsCount)")\"\ndriver = \"usbhid\"\nvendor = \"\(vendor)\"\n"
            if UInt16(productID, radix: 16) != nil { out += "product = \"\(productID)\"\n" }
            out += "bus_path = \"\(dev)\"   # the USB socket; move the cable and change this (or use serial = ...)\n"
        }
        // Serial adapters: RS-485 for Modbus probes and UPSes, or a Megatec UPS cable.
        for adapter in (listDirectory(roots.dev + "/serial/by-id") ?? []).sorted() {
            out += "\n## Serial adapter \(roots.dev)/serial/by-id/\(adapter): find what answers with\n"
            out += "##   closet-agent probe modbus --device \(roots.dev)/serial/by-id/\(adapter)\n"
            out += "##   closet-agent probe megatec --device \(roots.dev)/serial/by-id/\(adapter)\n"
            out += "# [[ups]]\n# name = \"ups\"\n# driver = \"modbus\"\n# device = \"\(roots.dev)/serial/by-id/\(adapter)\"\n# unit = 1\n# map = \"apc-smt\"\n"
        }
        if let gateway = defaultGateway(roots.proc) {
            out += "\n## Default gateway \(gateway): usually the core switch or the firewall. If it speaks SNMP:\n"
            out += "##   closet-agent probe snmp --host \(gateway) --community ...\n"
            out += "# [[switch]]\n# name = \"core1\"\n# driver = \"snmp\"\n# host = \"\(gateway)\"\n# community = \"...\"\n# stale_level = \"crit\"\n"
        }
        return out
    }

    /// The board profile whose description matches the device-tree model, or generic-x86-64
    /// on a PC; nil if the profile is not installed.
    static func guessBoard(_ roots: Roots) -> String? {
        let model = ((try? readTextFile(roots.proc + "/device-tree/model")) ?? (try? readTextFile(roots.sys + "/firmware/devicetree/base/model")) ?? "")
            .replacing("\0", with: "").trimmingSpaces.lowercased()
        var name: String?
        if model.contains("raspberry pi 4") { name = "raspberry-pi-4" }
        else if model.contains("raspberry pi zero 2") { name = "raspberry-pi-zero-2w" }
        else if model.contains("orange pi zero3") || model.contains("orangepi zero3") { name = "orange-pi-zero3" }
        else if model.isEmpty {
            var u = utsname()
            uname(&u)
            let machine = withUnsafePointer(to: u.machine) { $0.withMemoryRebound(to: CChar.self, capacity: 65) { String(cString: $0) } }
            if machine == "x86_64" { name = "generic-x86-64" }
        }
        guard let name, (try? readTextFile(roots.boards + "/\(name).toml")) != nil else { return nil }
        return name
    }

    /// The default route's gateway from /proc/net/route (little-endian hex).
    static func defaultGateway(_ proc: String) -> String? {
        guard let text = try? readTextFile(proc + "/net/route") else { return nil }
        for line in text.split(separator: "\n").dropFirst() {
            let f = line.split(whereSeparator: { $0 == "\t" || $0 == " " })
            guard f.count > 2, f[1] == "00000000", let g = UInt32(f[2], radix: 16), g != 0 else { continue }
            return "\(g & 0xFF).\(g >> 8 & 0xFF).\(g >> 16 & 0xFF).\(g >> 24)"
        }
        return nil
    }
}
