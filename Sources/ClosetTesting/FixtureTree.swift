#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A temporary folder tree for filesystem tests: files, symlinks and unreadable files,
/// removed by `remove()`.
public final class FixtureTree: @unchecked Sendable {
    public let root: String

    public init(prefix: String = "closet-test") {
        var template = Array("/tmp/\(prefix)-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "mkdtemp failed: \(errno)")
        root = String(cString: template.withUnsafeBufferPointer { $0.baseAddress! })
    }

    public func path(_ relative: String) -> String { root + "/" + relative }

    /// Writes `contents` at `relative`, creating parent folders.
    @discardableResult
    public func file(_ relative: String, _ contents: String, mode: mode_t = 0o644) -> String {
        let full = path(relative)
        makeParents(of: full)
        let fd = open(full, O_WRONLY | O_CREAT | O_TRUNC, mode)
        precondition(fd >= 0, "cannot create \(full): \(errno)")
        let bytes = Array(contents.utf8)
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        chmod(full, mode)
        return full
    }

    /// Removes one file or folder (and what it holds).
    public func delete(_ relative: String) {
        FixtureTree.removeTree(path(relative))
    }

    public func directory(_ relative: String) {
        makeParents(of: path(relative) + "/x")
    }

    public func symlink(_ relative: String, to target: String) {
        let full = path(relative)
        makeParents(of: full)
        _ = Glibc.symlink(target, full)
    }

    private func makeParents(of full: String) {
        var current = ""
        for part in full.split(separator: "/").dropLast() {
            current += "/" + part
            mkdir(current, 0o755)
        }
    }

    public func remove() {
        // Restore permissions first so unreadable fixtures can be deleted.
        FixtureTree.removeTree(root)
    }

    private static func removeTree(_ path: String) {
        var st = stat()
        guard lstat(path, &st) == 0 else { return }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            chmod(path, 0o755)
            if let dir = opendir(path) {
                var names: [String] = []
                while let entry = readdir(dir) {
                    let name = withUnsafePointer(to: entry.pointee.d_name) {
                        $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
                    }
                    if name != ".", name != ".." { names.append(name) }
                }
                closedir(dir)
                for name in names { removeTree(path + "/" + name) }
            }
            rmdir(path)
        } else {
            unlink(path)
        }
    }
}
