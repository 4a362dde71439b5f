import ClosetModel

/// The reference closet of the brief (firmware-config/closet-example.toml): 1 Modbus UPS,
/// the board's sensors and NIC, 4 probes, 2 core switches of 24 ports, 3 access switches of
/// 52, 1 backup set, the agent itself, with the variables each real driver produces. For
/// record-size tests, the console benchmark and the store's load generator.
public enum ReferenceCloset {
    public static let switches: [(name: String, ports: Int)] = [
        ("core1", 24), ("core2", 24), ("access1", 52), ("access2", 52), ("access3", 52),
    ]

    /// The devices in config order with the readings of one poll at `time`. `downPorts`
    /// lists (switch, port) pairs that are down; by default every 7th access port is (desks).
    public static func polls(at time: Timestamp, downPorts: Set<String>? = nil, temperature: Double = 24.3)
        -> [(name: String, policy: DevicePolicy, readings: [Reading])]
    {
        func r(_ name: VariableName, _ v: Double, _ unit: Unit? = nil) -> Reading { Reading(name, .number(v), unit: unit, time: time) }
        func t(_ name: VariableName, _ v: String) -> Reading { Reading(name, .text(v), time: time) }
        var out: [(String, DevicePolicy, [Reading])] = []
        out.append((
            "ups", DevicePolicy(kind: .ups, driver: "modbus", rules: DevicePolicy.defaultRules(for: .ups)),
            [
                Reading(.upsStatus, .status([.onLine]), time: time), t("ups.alarm", "none"),
                r(.batteryCharge, 100, .percent), r(.batteryRuntime, 3480, .second), r(.batteryVoltage, 54.6, .volt),
                r("battery.temperature", 27.5, .celsius), r(.upsLoad, 38, .percent), r("output.current", 4.2, .ampere),
                r(.outputVoltage, 230, .volt), r("output.frequency", 50, .hertz), r(.inputVoltage, 228, .volt),
            ]
        ))
        out.append(("board", DevicePolicy(kind: .sensor, driver: "hwmon"), [r(.boardTemperature, 51.1, .celsius), r("board.temperature.cpu_thermal", 51.1, .celsius)]))
        for (i, name) in ["probe-rack1", "probe-rack2", "probe-door", "probe-ceiling"].enumerated() {
            out.append((
                name, DevicePolicy(kind: .sensor, driver: "modbus"),
                [r(.ambientTemperature, temperature + Double(i) * 0.7, .celsius), r(.ambientHumidity, 48 + Double(i), .relativeHumidity)]
            ))
        }
        for (name, count) in switches {
            var readings = [r("device.uptime", 8_640_000, .second), t("device.name", name)]
            var up = 0
            for p in 1...count {
                let down = downPorts.map { $0.contains("\(name):\(p)") } ?? (count == 52 && p % 7 == 0)
                if !down { up += 1 }
                readings += [
                    t(.port(p, .name), "Gi1/0/\(p)"), t(.port(p, .admin), "up"), t(.port(p, .oper), down ? "down" : "up"),
                    r(.port(p, .speed), down ? 0 : 1000, .megabitPerSecond), r(.port(p, .lastChange), 86_400, .second),
                    r(.port(p, .errors), 0), r(.port(p, .discards), 0), r(.port(p, .inBps), down ? 0 : 1_200_000),
                    r(.port(p, .outBps), down ? 0 : 800_000), r(.port(p, .flaps), 0, .count),
                ]
            }
            readings += [r("ports.up", Double(up), .count), r("ports.down", Double(count - up), .count), r("ports.admin_down", 0, .count)]
            out.append((name, DevicePolicy(kind: .switch, driver: "snmp", rules: DevicePolicy.defaultRules(for: .switch)), readings))
        }
        out.append((
            "board-nics", DevicePolicy(kind: .link, driver: "netif", rules: DevicePolicy.defaultRules(for: .link)),
            [t(.port(2, .name), "eth0"), t(.port(2, .oper), "up"), t(.port(2, .admin), "up"), r(.port(2, .carrier), 1), r(.port(2, .speed), 1000, .megabitPerSecond)]
        ))
        out.append((
            "openfiler", DevicePolicy(kind: .backup, driver: "share"),
            [
                t("storage.mounted", "yes"), t("storage.fstype", "nfs"), t("backup.last.name", "sql-2026-11-28.bak"),
                t("backup.last.time", "2026-11-28 02:40"), r("backup.last.age", 32_400, .second), r("backup.last.size", 4_200_000_000, .byte),
                r("backup.count", 7, .count), r("backup.missed", 0, .count), r("backup.empty", 0, .count), r("backup.growing", 0, .count),
                r("backup.shrink", 0.4, .percent), t("backup.verified", "ok"), r("storage.free", 1_450_000_000_000, .byte),
                r("storage.free.percent", 36.2, .percent), r("storage.inodes.free.percent", 99.1, .percent), r("storage.days_to_full", 345),
                t("nas.port.446", "open"), t("nas.port.2049", "open"),
            ]
        ))
        out.append((
            "agent", DevicePolicy(kind: .agent, driver: "self"),
            [
                r("agent.uptime", 86_400, .second), r("agent.rss", 14_800_000, .byte), r("agent.cpu", 312, .second),
                r("agent.threads", 6, .count), r("disk.free", 21_000_000_000, .byte), r("disk.free.percent", 71.3, .percent),
                t("clock.synced", "yes"),
            ]
        ))
        return out.map { (name: $0.0, policy: $0.1, readings: $0.2) }
    }

    /// The site state after one poll of every device, and the events it caused.
    public static func state(at time: Timestamp, site: String = "so-tttt-hanoi", downPorts: Set<String>? = nil) -> (SiteState, [Event]) {
        var s = SiteState(site: site)
        var events: [Event] = []
        let polls = polls(at: time, downPorts: downPorts)
        for p in polls { s.register(p.name, policy: p.policy) }
        for p in polls { events += s.apply(.readings(p.readings), device: p.name, at: time) }
        return (s, events)
    }
}
