#if canImport(Glibc)
import Glibc
#endif
import CLinux
import ClosetConfig
import ClosetModel

/// The blocking filesystem side of one backup set: is the share mounted and readable, what
/// backups are on it, how much room is left. Every call here may hang on a dead NAS: call it
/// only through a `BlockingWorker`.
struct BackupShare: Sendable {
    /// The backup set's folder on the share.
    var path: String
    /// `sql-*.bak` (files) or `daily/*/` (folders; the trailing slash says so). Segments
    /// before the last are plain subfolders.
    var pattern: String
    /// The share's mount point; when set it must be a mount, not a folder on the SD card.
    var mountPoint: String?

    struct Report: Sendable {
        /// `yes`, or `no: ...` / `error: ...` with the reason.
        var mounted: String
        var fileSystem: String?
        var items: [BackupItem] = []
        var space: Space?
        /// The newest complete item's checksum list, if it has one.
        var manifest: ManifestRef?
        /// `yes`, `none`, or `error: ...` for the newest complete item.
        var manifestState: String = "none"
    }

    struct Space: Sendable, Hashable {
        var freeBytes: Int64
        var totalBytes: Int64
        var freeInodesPercent: Double?
    }

    /// Where an item's checksums are and which entries belong to it.
    struct ManifestRef: Sendable, Hashable {
        var path: String
        /// The folder the entry names are relative to.
        var base: String
        /// Only entries with these names (a shared SHA256SUMS lists older backups too); nil: all.
        var only: Set<String>?
    }

    var itemFolder: String {
        let parts = pattern.split(separator: "/", omittingEmptySubsequences: true)
        return ([path] + parts.dropLast().map(String.init)).joined(separator: "/")
    }

    var itemGlob: String { pattern.split(separator: "/", omittingEmptySubsequences: true).last.map(String.init) ?? "*" }
    var itemsAreFolders: Bool { pattern.hasSuffix("/") }

    func inspect(now: Int64, expectations: BackupExpectations) -> Report {
        if let mountPoint {
            var st = stat()
            var parent = stat()
            guard stat(mountPoint, &st) == 0 else {
                return Report(mounted: "no: \(mountPoint): \(errnoText(errno))")
            }
            if mountPoint != "/", stat(mountPoint + "/..", &parent) == 0, parent.st_dev == st.st_dev {
                return Report(mounted: "no: \(mountPoint) is a plain folder on the board's own disk, the share is not mounted")
            }
        }
        var report = Report(mounted: "yes")
        var fs = statfs()
        if statfs(path, &fs) == 0 { report.fileSystem = Self.fileSystemName(Int64(fs.f_type)) }
        var vfs = statvfs()
        if statvfs(path, &vfs) == 0 {
            let unit = Int64(vfs.f_frsize)
            report.space = Space(
                freeBytes: Int64(vfs.f_bavail) * unit, totalBytes: Int64(vfs.f_blocks) * unit,
                freeInodesPercent: vfs.f_files > 0 ? Double(vfs.f_favail) / Double(vfs.f_files) * 100 : nil)
        }
        guard let names = Self.list(itemFolder) else {
            report.mounted = "error: \(itemFolder): \(errnoText(errno))"
            return report
        }
        let prefix = String(itemFolder.dropFirst(path.count)).drop { $0 == "/" }
        for name in names.sorted() where globMatch(itemGlob, name) {
            let full = itemFolder + "/" + name
            var st = stat()
            guard stat(full, &st) == 0 else { continue }
            let isDir = (st.st_mode & S_IFMT) == S_IFDIR
            let relative = prefix.isEmpty ? name : "\(prefix)/\(name)"
            if itemsAreFolders, isDir {
                var total = Summary(size: 0, modified: Int64(st.st_mtim.tv_sec))
                Self.walk(full, into: &total, budget: 100_000)
                report.items.append(BackupItem(name: relative + "/", size: total.size, modified: total.modified, isDirectory: true))
            } else if !itemsAreFolders, (st.st_mode & S_IFMT) == S_IFREG {
                report.items.append(BackupItem(name: relative, size: Int64(st.st_size), modified: Int64(st.st_mtim.tv_sec)))
            }
        }
        let findings = BackupFindings.analyse(report.items, now: now, expectations: expectations)
        if let newest = findings.newest {
            switch findManifest(for: newest) {
            case .success(let ref?):
                report.manifest = ref
                report.manifestState = "yes"
            case .success(nil): report.manifestState = "none"
            case .failure(let problem): report.manifestState = "error: \(problem.message)"
            }
        }
        return report
    }

    /// `name.sha256` beside a file, or a `SHA256SUMS` that lists it; inside a folder item, its
    /// `SHA256SUMS` or a `*.sha256`. Reads the list to be sure it names the item.
    func findManifest(for item: BackupItem) -> Result<ManifestRef?, ManifestProblem> {
        if item.isDirectory {
            let folder = path + "/" + String(item.name.dropLast())
            let names = (Self.list(folder) ?? []).sorted()
            if names.contains("SHA256SUMS") { return .success(ManifestRef(path: folder + "/SHA256SUMS", base: folder, only: nil)) }
            if let own = names.first(where: { $0.hasSuffix(".sha256") }) {
                return .success(ManifestRef(path: folder + "/" + own, base: folder, only: nil))
            }
            return .success(nil)
        }
        let full = path + "/" + item.name
        let folder = String(full[..<full.lastIndex(of: "/")!])
        let base = String(full[full.index(after: full.lastIndex(of: "/")!)...])
        var st = stat()
        if stat(full + ".sha256", &st) == 0 {
            return .success(ManifestRef(path: full + ".sha256", base: folder, only: [base, "./" + base]))
        }
        let sums = folder + "/SHA256SUMS"
        guard stat(sums, &st) == 0 else { return .success(nil) }
        // Reading the list is what blocks on a hung share (or a FIFO standing in for one).
        let text: String
        do {
            text = try readTextFile(sums)
        } catch {
            return .failure(ManifestProblem(message: error.description))
        }
        guard let manifest = try? ChecksumManifest.parse(text) else { return .failure(ManifestProblem(message: "\(sums) is not in sha256sum format")) }
        guard manifest.entries.contains(where: { $0.name == base || $0.name == "./" + base }) else { return .success(nil) }
        return .success(ManifestRef(path: sums, base: folder, only: [base, "./" + base]))
    }

    struct Summary {
        var size: Int64
        var modified: Int64
    }

    /// Adds up a folder item's files; stops after `budget` entries (a runaway tree).
    static func walk(_ folder: String, into total: inout Summary, budget: Int) {
        var remaining = budget
        var stack = [folder]
        while let dir = stack.popLast(), remaining > 0 {
            for name in list(dir) ?? [] {
                remaining -= 1
                if remaining <= 0 { return }
                var st = stat()
                let full = dir + "/" + name
                guard lstat(full, &st) == 0 else { continue }
                total.modified = max(total.modified, Int64(st.st_mtim.tv_sec))
                switch st.st_mode & S_IFMT {
                case S_IFDIR: stack.append(full)
                case S_IFREG: total.size += Int64(st.st_size)
                default: break
                }
            }
        }
    }

    static func list(_ path: String) -> [String]? { listDirectory(path) }

    /// statfs magic numbers of the file systems a closet share can be.
    static func fileSystemName(_ magic: Int64) -> String {
        switch UInt32(truncatingIfNeeded: magic) {
        case 0x6969: "nfs"
        case 0xFF53_4D42: "cifs"
        case 0xFE53_4D42: "smb2"
        case 0x0102_1994: "tmpfs"
        case 0xEF53: "ext4"
        case 0x5846_5342: "xfs"
        case 0x9123_683E: "btrfs"
        case 0x6573_5546: "fuse"
        case 0x4D44: "vfat"
        case 0x5346_544E: "ntfs"
        case 0x794C_7630: "overlay"
        default: "0x" + String(UInt32(truncatingIfNeeded: magic), radix: 16)
        }
    }
}

struct ManifestProblem: Error {
    var message: String
}

func errnoText(_ code: Int32) -> String { String(cString: strerror(code)) }
