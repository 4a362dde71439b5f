import Foundation

/// PostgreSQL for the store's tests: a real server on a loopback port. tools/test starts a
/// throwaway cluster and names it in `CLOSET_TEST_POSTGRES`; a test run without it (a
/// `swift test --filter` by hand) starts its own with tools/pg-cluster and stops it at exit.
public enum TestPostgres {
    /// The cluster's admin URL (`postgres://postgres@127.0.0.1:PORT/postgres`).
    static let server: Result<String, TestSetupError> = {
        if let url = ProcessInfo.processInfo.environment["CLOSET_TEST_POSTGRES"], !url.isEmpty { return .success(url) }
        let dir = NSTemporaryDirectory() + "closet-pg-\(getpid())"
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
            let r = try spawnAndWait(repositoryRoot + "/tools/pg-cluster", ["start", dir + "/cluster", String(freeLoopbackPort())], output: dir + "/start.log")
            guard r.status == 0 else { return .failure(TestSetupError("tools/pg-cluster start: \(r.out)")) }
            ownCluster = dir
            atexit {
                guard let dir = TestPostgres.ownCluster else { return }
                _ = try? spawnAndWait(repositoryRoot + "/tools/pg-cluster", ["stop", dir + "/cluster"], output: dir + "/stop.log")
                try? FileManager.default.removeItem(atPath: dir)
            }
            guard let url = r.out.split(separator: "\n").last(where: { $0.hasPrefix("postgres://") }) else {
                return .failure(TestSetupError("tools/pg-cluster start printed no URL: \(r.out)"))
            }
            return .success(String(url))
        } catch {
            return .failure(TestSetupError("starting PostgreSQL: \(error)"))
        }
    }()

    nonisolated(unsafe) static var ownCluster: String?

    /// A cluster of the test's own (`options`: tools/pg-cluster's, such as `tls=CERTDIR`) in
    /// `directory` (its parents open to the postgres user); its admin URL. Stop it with
    /// `stopCluster`.
    public static func startCluster(in directory: String, port: Int, options: [String] = []) throws -> String {
        let r = try spawnAndWait(repositoryRoot + "/tools/pg-cluster", ["start", directory, String(port)] + options, output: directory + ".log")
        guard r.status == 0, let url = r.out.split(separator: "\n").last(where: { $0.hasPrefix("postgres://") }) else {
            throw TestSetupError("tools/pg-cluster start: \(r.out)")
        }
        return String(url)
    }

    public static func stopCluster(in directory: String) {
        _ = try? spawnAndWait(repositoryRoot + "/tools/pg-cluster", ["stop", directory], output: directory + ".stop.log")
    }

    /// A new, empty database on the test cluster; its URL.
    public static func freshDatabase() throws -> String {
        let admin = try server.get()
        let name = "closet_test_\(UInt64.random(in: 0...UInt64.max))"
        let r = try runProgram("/usr/bin/psql", [admin, "-qAtc", "CREATE DATABASE \(name)"])
        guard r.status == 0 else { throw TestSetupError("CREATE DATABASE on \(admin): \(r.err)") }
        guard let slash = admin.lastIndex(of: "/") else { throw TestSetupError("\(admin): no database in the URL") }
        return admin[...slash] + name
    }
}

/// Runs a program to its end with its output in a file, without Foundation's Process: a
/// server it starts (PostgreSQL) keeps inherited pipes open, and Process's exit watch does
/// not return inside a static initialiser on Linux.
func spawnAndWait(_ executable: String, _ arguments: [String], output: String) throws -> (status: Int32, out: String) {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    let argv = ([executable] + arguments).map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, executable, &actions, nil, argv, environ)
    guard rc == 0 else { throw TestSetupError("\(executable): posix_spawn failed (\(rc))") }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    let out = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
    return ((status >> 8) & 0xFF, out)
}
