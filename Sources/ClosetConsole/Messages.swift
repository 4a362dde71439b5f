/// The console's words in English and Vietnamese, and Vietnamese without diacritics for
/// terminals that cannot show them.
public enum ConsoleLanguage: String, Sendable, CaseIterable {
    case en
    case vi
    /// Vietnamese without diacritics ("Trang thai" for "Trạng thái").
    case viASCII = "vi-ascii"
}

enum Message: String, CaseIterable {
    case site, health, ups, environment, switches, backup, uplink, events, noEvents, stale, never, up, down
    case adminDown, ports, noDevices, notConfigured, unknownCommand, help, goodbye, watchHint, selftest
    case language, lastSuccess, polling, status, value, device

    var english: String {
        switch self {
        case .site: "Site"
        case .health: "Health"
        case .ups: "UPS"
        case .environment: "Environment"
        case .switches: "Switches"
        case .backup: "Backup"
        case .uplink: "Uplink"
        case .events: "Last events"
        case .noEvents: "no events yet"
        case .stale: "STALE"
        case .never: "never read"
        case .up: "up"
        case .down: "down"
        case .adminDown: "admin down"
        case .ports: "ports"
        case .noDevices: "none configured"
        case .notConfigured: "not configured (no [uplink] in the config)"
        case .unknownCommand: "unknown command"
        case .help: "Commands"
        case .goodbye: "bye"
        case .watchHint: "press any key to stop"
        case .selftest: "Polling every device now"
        case .language: "language"
        case .lastSuccess: "last read"
        case .polling: "polling"
        case .status: "status"
        case .value: "value"
        case .device: "device"
        }
    }

    var vietnamese: String {
        switch self {
        case .site: "Trạm"
        case .health: "Tình trạng"
        case .ups: "UPS"
        case .environment: "Môi trường"
        case .switches: "Switch"
        case .backup: "Sao lưu"
        case .uplink: "Đường truyền"
        case .events: "Sự kiện gần đây"
        case .noEvents: "chưa có sự kiện"
        case .stale: "MẤT TÍN HIỆU"
        case .never: "chưa đọc được"
        case .up: "hoạt động"
        case .down: "mất kết nối"
        case .adminDown: "tắt bởi quản trị"
        case .ports: "cổng"
        case .noDevices: "chưa cấu hình"
        case .notConfigured: "chưa cấu hình (không có [uplink] trong cấu hình)"
        case .unknownCommand: "lệnh không hợp lệ"
        case .help: "Các lệnh"
        case .goodbye: "tạm biệt"
        case .watchHint: "nhấn phím bất kỳ để dừng"
        case .selftest: "Đang đọc tất cả thiết bị"
        case .language: "ngôn ngữ"
        case .lastSuccess: "lần đọc cuối"
        case .polling: "đang đọc"
        case .status: "trạng thái"
        case .value: "giá trị"
        case .device: "thiết bị"
        }
    }

    func text(_ language: ConsoleLanguage) -> String {
        switch language {
        case .en: english
        case .vi: vietnamese
        case .viASCII: vietnamese.withoutDiacritics
        }
    }
}

extension String {
    /// Vietnamese letters to their base ASCII letter: "Trạng thái" -> "Trang thai".
    var withoutDiacritics: String {
        var out = ""
        for c in self {
            if c.isASCII { out.append(c); continue }
            let lower = Character(c.lowercased())
            let base = vietnameseBase[lower] ?? "?"
            out.append(c.isUppercase ? Character(base.uppercased()) : base)
        }
        return out
    }
}

private let vietnameseBase: [Character: Character] = {
    var table: [Character: Character] = ["đ": "d"]
    let groups: [(Character, String)] = [
        ("a", "àáạảãâầấậẩẫăằắặẳẵ"), ("e", "èéẹẻẽêềếệểễ"), ("i", "ìíịỉĩ"), ("o", "òóọỏõôồốộổỗơờớợởỡ"),
        ("u", "ùúụủũưừứựửữ"), ("y", "ỳýỵỷỹ"),
    ]
    for (base, letters) in groups { for l in letters { table[l] = base } }
    return table
}()
