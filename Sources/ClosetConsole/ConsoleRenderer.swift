import ClosetModel

/// Everything a console screen shows, taken from the agent in one go.
public struct ConsoleView: Sendable {
    public var state: SiteState
    public var events: [Event]
    /// Per device, its settings as shown by `config` (secrets already masked).
    public var configuration: [(device: String, settings: [(key: String, value: String)])]
    public var now: Timestamp
    public var version: String
    /// The uplink in a line (records waiting, the last push); nil when there is none.
    public var uplink: String?

    public init(
        state: SiteState, events: [Event], configuration: [(device: String, settings: [(key: String, value: String)])],
        now: Timestamp, version: String, uplink: String? = nil
    ) {
        self.uplink = uplink
        self.state = state
        self.events = events
        self.configuration = configuration
        self.now = now
        self.version = version
    }
}

/// Pure text screens for the technician: 80 columns, plain ASCII unless the port allows
/// more, in the session's language.
public struct ConsoleRenderer: Sendable {
    public var language: ConsoleLanguage
    public var width = 80

    public init(language: ConsoleLanguage) { self.language = language }

    func t(_ m: Message) -> String { m.text(language) }

    /// One 80x24 screen: site health, UPS, temperatures, switches, links, backup, uplink,
    /// stale devices, the last events.
    public func status(_ v: ConsoleView) -> [String] {
        var lines: [String] = []
        let time = String(v.now.rfc3339.prefix(19)).replacing("T", with: " ")
        lines.append(fit("CLOSET \(v.version)   \(t(.site)) \(v.state.site)   \(t(.health)) \(v.state.health)", right: "\(time) UTC"))
        lines.append(String(repeating: "-", count: width))
        let ups = v.state.devices.filter { $0.kind == .ups }
        if ups.isEmpty { lines.append(row(t(.ups), t(.noDevices))) }
        for d in ups {
            var parts = ["\(d.name):"]
            if let s = d.readings[.upsStatus] { parts.append(s.value.description) }
            if let c = d.readings[.batteryCharge]?.value.number { parts.append("\(c.compactDescription)%") }
            if let r = d.readings[.batteryRuntime]?.value.number { parts.append("\(Int(r / 60))m") }
            if let l = d.readings[.upsLoad]?.value.number { parts.append("load \(l.compactDescription)%") }
            if let i = d.readings[.inputVoltage]?.value.number { parts.append("in \(i.compactDescription)V") }
            lines.append(row(t(.ups), parts.joined(separator: " ") + mark(d)))
        }
        var env: [String] = []
        for d in v.state.devices where d.kind == .sensor {
            if let temp = (d.readings[.ambientTemperature] ?? d.readings[.boardTemperature])?.value.number {
                var s = "\(d.name) \(temp.compactDescription)C"
                if let h = d.readings[.ambientHumidity]?.value.number { s += "/\(h.compactDescription)%" }
                env.append(s + mark(d))
            } else {
                env.append("\(d.name) -" + mark(d))
            }
        }
        lines += wrap(t(.environment), env.isEmpty ? [t(.noDevices)] : env)
        let switches = v.state.devices.filter { $0.kind == .switch || $0.kind == .link }
        lines += wrap(t(.switches), switches.isEmpty ? [t(.noDevices)] : switches.map { d in
            let (up, down, admin, total) = portCounts(d)
            var s = "\(d.name) \(up)/\(total) \(t(.up))"
            if down > 0 { s += " \(down) \(t(.down))" }
            if admin > 0 { s += " \(admin) adm" }
            return s + mark(d)
        })
        let backups = v.state.devices.filter { $0.kind == .backup }
        lines.append(row(t(.backup), backups.isEmpty ? t(.noDevices) : backups.map { "\($0.name)\(mark($0))" }.joined(separator: " ")))
        lines.append(row(t(.uplink), v.uplink ?? t(.notConfigured)))
        for d in v.state.devices {
            if case .stale(let reason, let since) = d.freshness {
                lines.append(row(t(.stale), "\(d.name) since \(since.rfc3339.dropFirst(11).prefix(8)): \(reason)"))
            }
        }
        lines.append(String(repeating: "-", count: width))
        let room = max(1, 23 - lines.count)
        lines.append(t(.events) + ":")
        let recent = v.events.suffix(room - 1)
        if recent.isEmpty { lines.append("  " + t(.noEvents)) }
        for e in recent { lines.append(eventLine(e)) }
        return lines.map(clip)
    }

    public func ups(_ v: ConsoleView) -> [String] { deviceDetails(v, kinds: [.ups]) }
    public func env(_ v: ConsoleView) -> [String] { deviceDetails(v, kinds: [.sensor]) }
    public func backup(_ v: ConsoleView) -> [String] {
        let lines = deviceDetails(v, kinds: [.backup])
        return lines.isEmpty ? ["\(t(.backup)): \(t(.noDevices))"] : lines
    }
    public func uplink(_ v: ConsoleView) -> [String] { ["\(t(.uplink)): \(v.uplink ?? t(.notConfigured))"] }

    /// Every reading of the devices of some kinds, with problems marked.
    func deviceDetails(_ v: ConsoleView, kinds: [DeviceKind]) -> [String] {
        var lines: [String] = []
        let devices = v.state.devices.filter { kinds.contains($0.kind) }
        if devices.isEmpty { return ["\(kinds.map(\.rawValue).joined(separator: ", ")): \(t(.noDevices))"] }
        for d in devices {
            lines.append(clip("[\(d.health)] \(d.kind.rawValue) \(d.name) (\(d.policy.driver))\(freshness(d))"))
            for r in d.sortedReadings {
                let problem = d.levels[r.name].flatMap { $0.level == .ok ? nil : "  <- \($0.level) \($0.reason)" } ?? ""
                lines.append(clip("  " + pad(r.name.rawValue, 30) + " " + r.value.description + (r.unit.map { " " + $0.rawValue } ?? "") + problem))
            }
        }
        return lines
    }

    /// The port map of one switch (or every switch and link): a grid of index, state, name.
    public func switchMap(_ v: ConsoleView, name: String?) -> [String] {
        let devices = v.state.devices.filter { ($0.kind == .switch || $0.kind == .link) && (name == nil || $0.name == name) }
        if devices.isEmpty { return [name.map { "\(t(.switches)) '\($0)': \(t(.noDevices))" } ?? "\(t(.switches)): \(t(.noDevices))"] }
        var lines: [String] = []
        for d in devices {
            let (up, down, admin, total) = portCounts(d)
            lines.append(clip("[\(d.health)] \(d.name) (\(d.policy.driver))  \(total) \(t(.ports)): \(up) \(t(.up)), \(down) \(t(.down)), \(admin) adm\(freshness(d))"))
            var cells: [String] = []
            for (index, oper, name, problem) in ports(d) {
                let state = switch oper {
                case "up": "up"
                case "down", "lowerLayerDown": "DOWN"
                case "adm": "adm"
                default: "?"
                }
                cells.append(pad("\(pad(String(index), 4, left: true)) \(pad(state, 4))\(problem ? "!" : " ") \(name)", 26))
            }
            for start in stride(from: 0, to: cells.count, by: 3) {
                var row = clip(cells[start..<min(cells.count, start + 3)].joined())
                while row.last == " " { row.removeLast() }
                lines.append(row)
            }
            lines.append("")
        }
        lines.append("up = " + t(.up) + ", DOWN = " + t(.down) + ", adm = " + t(.adminDown) + ", ! = alarm")
        return lines
    }

    public func events(_ v: ConsoleView, count: Int) -> [String] {
        let recent = v.events.suffix(count)
        return recent.isEmpty ? [t(.noEvents)] : recent.map(eventLine)
    }

    public func configuration(_ v: ConsoleView) -> [String] {
        var lines = ["\(t(.site)) \(v.state.site)"]
        for (device, settings) in v.configuration {
            lines.append("[\(device)]")
            for (key, value) in settings { lines.append(clip("  \(pad(key, 18)) \(value)")) }
        }
        return lines
    }

    public func help() -> [String] {
        let english = [
            "  status            one screen: health, UPS, temperatures, switches, events",
            "  ups | env         every UPS / sensor reading",
            "  switch [NAME]     port map of the switches (or one)",
            "  backup | uplink   backup checks / link to the provincial centre",
            "  events [N]        the last N events (20)",
            "  watch [COMMAND]   redraw COMMAND (status) every 2 s until a key is pressed",
            "  config            the configuration in force (secrets masked)",
            "  selftest          poll every device now and show each result",
            "  lang en|vi|vi-ascii   language of this console",
            "  help | exit       this list / end the session (also Ctrl-D)",
        ]
        let vietnamese = [
            "  status            một màn hình: tình trạng, UPS, nhiệt độ, switch, sự kiện",
            "  ups | env         mọi số đo của UPS / cảm biến",
            "  switch [TÊN]      sơ đồ cổng của các switch (hoặc một switch)",
            "  backup | uplink   kiểm tra sao lưu / đường truyền về trung tâm tỉnh",
            "  events [N]        N sự kiện gần nhất (20)",
            "  watch [LỆNH]      vẽ lại LỆNH (status) mỗi 2 giây đến khi nhấn phím",
            "  config            cấu hình đang dùng (mật khẩu được che)",
            "  selftest          đọc ngay mọi thiết bị và in kết quả",
            "  lang en|vi|vi-ascii   ngôn ngữ của màn hình này",
            "  help | exit       danh sách này / kết thúc (hoặc Ctrl-D)",
        ]
        let lines = switch language {
        case .en: english
        case .vi: vietnamese
        case .viASCII: vietnamese.map(\.withoutDiacritics)
        }
        return ["\(t(.help)):"] + lines
    }

    // MARK: - Pieces

    func portCounts(_ d: DeviceState) -> (up: Int, down: Int, admin: Int, total: Int) {
        let all = ports(d)
        return (all.filter { $0.1 == "up" }.count, all.filter { $0.1 != "up" && $0.1 != "adm" }.count, all.filter { $0.1 == "adm" }.count, all.count)
    }

    /// (index, oper or "adm", name, alarm) per port, in index order.
    func ports(_ d: DeviceState) -> [(Int, String, String, Bool)] {
        var indexes = Set<Int>()
        for name in d.readings.keys { if let (i, f) = name.portComponents, f == .oper { indexes.insert(i) } }
        return indexes.sorted().map { i in
            let oper = d.readings[.port(i, .oper)]?.value.description ?? "?"
            let admin = d.readings[.port(i, .admin)]?.value.description
            let name = d.readings[.port(i, .name)]?.value.description ?? ""
            let alarm = (d.levels[.port(i, .oper)]?.level ?? .ok) > .ok
            return (i, admin == "down" ? "adm" : oper, name, alarm)
        }
    }

    func freshness(_ d: DeviceState) -> String {
        switch d.freshness {
        case .fresh: ""
        case .neverRead: "  (\(t(.never)))"
        case .stale(_, let since): "  \(t(.stale)) since \(since.rfc3339.dropFirst(11).prefix(8))"
        }
    }

    func mark(_ d: DeviceState) -> String {
        if case .stale = d.freshness { return " [\(t(.stale))]" }
        return d.health == .ok ? "" : " [\(d.health)]"
    }

    func eventLine(_ e: Event) -> String {
        let time = e.time.rfc3339.dropFirst(11).prefix(8)
        let subject = (e.device ?? "site") + (e.variable.map { " \($0)" } ?? "")
        return clip("  \(time) \(pad(e.level.rawValue, 4)) \(subject): \(e.old) -> \(e.new) (\(e.reason))")
    }

    func row(_ label: String, _ text: String) -> String { clip(pad(label, 12) + text) }

    /// A labelled list wrapped over as many 80-column lines as it needs.
    func wrap(_ label: String, _ items: [String]) -> [String] {
        var lines: [String] = []
        var current = pad(label, 12)
        for item in items {
            if current.count + item.count + 2 > width, current.count > 12 {
                lines.append(current)
                current = String(repeating: " ", count: 12)
            }
            current += (current.count > 12 ? "  " : "") + item
        }
        lines.append(current)
        return lines.map(clip)
    }

    func fit(_ left: String, right: String) -> String {
        let space = width - left.count - right.count
        return space >= 1 ? left + String(repeating: " ", count: space) + right : clip(left)
    }

    func clip(_ s: String) -> String { s.count <= width ? s : String(s.prefix(width - 3)) + "..." }
}

func pad(_ s: String, _ n: Int, left: Bool = false) -> String {
    guard s.count < n else { return s }
    let fill = String(repeating: " ", count: n - s.count)
    return left ? fill + s : s + fill
}
