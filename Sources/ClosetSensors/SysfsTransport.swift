#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ClosetConfig
import ClosetModel

/// The only file in this module that touches the filesystem: small reads from sysfs.
///
/// sysfs attributes are tiny and answer from kernel memory, so reading them inline in the
/// poll is cheaper than any hand-off; a read that fails returns the errno so the caller can
/// tell "absent" (ENOENT), "not applicable now" (EINVAL: `carrier` of a down link) and
/// "forbidden" (EACCES) apart.
struct SysfsTransport: Sendable {
    var root: String

    enum ReadResult: Equatable {
        case text(String)
        case failed(errno: Int32)
    }

    func path(_ relative: String) -> String {
        relative.hasPrefix("/") ? relative : root + "/" + relative
    }

    /// Reads an attribute, trimmed of its trailing newline.
    func read(_ relative: String) -> ReadResult {
        do {
            var text = try readTextFile(path(relative), limit: 4096)
            while let last = text.last, last == "\n" || last == " " || last == "\0" { text.removeLast() }
            return .text(text)
        } catch {
            return .failed(errno: error.errno)
        }
    }

    func text(_ relative: String) -> String? {
        if case .text(let s) = read(relative) { return s }
        return nil
    }

    /// Entries of a directory in natural order (`hwmon2` before `hwmon10`).
    func list(_ relative: String) -> [String]? {
        listDirectory(path(relative))?.sorted { $0.compareNatural($1) }
    }

    func exists(_ relative: String) -> Bool {
        access(path(relative), F_OK) == 0
    }
}

func errnoDescription(_ code: Int32) -> String {
    String(cString: strerror(code))
}
