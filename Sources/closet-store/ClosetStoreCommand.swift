import ClosetModel
import ClosetStore
import ClosetWire
import Hummingbird
import Logging
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

/// closet-store: serve, migrate, site add|list|revoke.
@main
struct ClosetStoreCommand {
    static let usage = """
        closet-store: the central store for closet agents.

        USAGE:
          closet-store serve   [--db sqlite:PATH|postgres://...] [--listen HOST:PORT] [--tls-cert FILE --tls-key FILE] [--key-file FILE] [--silent-after SECONDS] [--raw-days N]
          closet-store migrate [--db sqlite:PATH|postgres://...]
          closet-store site add NAME [--db ...] [--key-file FILE] [--url URL]
          closet-store site list [--db ...]
          closet-store site revoke NAME [--db ...]
          closet-store user add NAME [--db ...]      (reads the password from standard input)
          closet-store user list | user remove NAME [--db ...]
          closet-store report --from YYYY-MM-DD --to YYYY-MM-DD [--format csv|html] [--db ...]

        --db defaults to sqlite:/var/lib/closet-store/store.db; --key-file (the master key that
        encrypts site keys) defaults to the database path + ".master-key" with SQLite and must
        be given with PostgreSQL (every instance sharing the database needs the same file).
        postgres://USER:PASSWORD@HOST:PORT/DATABASE takes ?sslmode=disable|prefer|require|verify-full,
        sslrootcert=FILE, host=SOCKET-DIRECTORY and pool=N (connections per instance, 16).

        """

    static func main() async {
        var args = Array(CommandLine.arguments.dropFirst())
        var options: [String: String] = [:]
        var positional: [String] = []
        while !args.isEmpty {
            let a = args.removeFirst()
            if a == "-h" || a == "--help" {
                print(usage, terminator: "")
                exit(0)
            }
            if a.hasPrefix("--") {
                guard !args.isEmpty else { fail("\(a) needs a value") }
                options[String(a.dropFirst(2))] = args.removeFirst()
            } else {
                positional.append(a)
            }
        }
        let known: Set<String> = ["db", "listen", "tls-cert", "tls-key", "key-file", "silent-after", "url", "log-level", "from", "to", "format", "raw-days"]
        if let bad = options.keys.first(where: { !known.contains($0) }) { fail("unknown option --\(bad)\n\n\(usage)") }
        let db = options["db"] ?? "sqlite:/var/lib/closet-store/store.db"
        let isPostgres = db.hasPrefix("postgres://") || db.hasPrefix("postgresql://")
        guard db.hasPrefix("sqlite:") || isPostgres else { fail("--db \(db): sqlite:PATH or postgres://USER:PASSWORD@HOST:PORT/DATABASE") }
        guard let keyFile = options["key-file"] ?? (isPostgres ? nil : String(db.dropFirst(7)) + ".master-key") else {
            fail("--key-file: with PostgreSQL, give the master key file (the same one on every instance)")
        }
        let level = Logger.Level(rawValue: options["log-level"] ?? "info") ?? .info
        LoggingSystem.bootstrap { label in
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = level
            return h
        }
        let logger = Logger(label: "closet-store")
        do {
            let backend = try StoreBackend.open(db, logger: logger)
            _ = try await backend.migrate()
            let now: @Sendable () -> Int64 = { Int64(time(nil)) }
            switch positional.first {
            case "migrate":
                print("closet-store: \(backend.database) is at schema version \(try await backend.migrate())")
            case "site":
                switch (positional.dropFirst().first, positional.dropFirst(2).first) {
                case ("add", let name?):
                    guard name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }) else {
                        fail("site name '\(name)' may hold only letters, digits, '-', '_' and '.'")
                    }
                    let vault = try KeyVault.open(path: keyFile, create: true)
                    let key = randomBytes(32)
                    try await backend.addSite(name: name, sealedKey: vault.seal(key), now: now())
                    let url = options["url"] ?? "https://STORE-HOST:8443/v1/ingest"
                    print(
                        """
                        site '\(name)' added. Its key is shown this once; put this in the agent's config
                        (and keep the file chmod 640):

                        [agent]
                        site = "\(name)"

                        [uplink]
                        url = "\(url)"
                        key = "\(hex(key))"
                        # ca_file = "/etc/closet/store-ca.pem"
                        """)
                case ("list", _):
                    for s in try await backend.sites() {
                        print("\(s.name)\tcreated \(s.created)\(s.revoked.map { "\trevoked \($0)" } ?? "")")
                    }
                case ("revoke", let name?):
                    guard try await backend.revoke(name: name, now: now()) else { fail("no active site '\(name)'") }
                    print("site '\(name)' revoked: its pushes are refused from now on")
                default:
                    fail("site: add NAME | list | revoke NAME")
                }
            case "user":
                switch (positional.dropFirst().first, positional.dropFirst(2).first) {
                case ("add", let name?):
                    guard !name.isEmpty, !name.contains(":"), name.allSatisfy({ !$0.isWhitespace }) else { fail("user name '\(name)': no spaces or ':'") }
                    guard let password = readLine(strippingNewline: true), password.count >= 8 else {
                        fail("user add: give the password (8 characters or more) on standard input")
                    }
                    try await backend.addUser(name: name, password: password, now: now())
                    print("user '\(name)' may now read the dashboard, the JSON API and /metrics (HTTP Basic login)")
                case ("list", _):
                    for name in try await backend.users() { print(name) }
                case ("remove", let name?):
                    guard try await backend.removeUser(name: name) else { fail("no user '\(name)'") }
                    print("user '\(name)' removed")
                default:
                    fail("user: add NAME | list | remove NAME")
                }
            case "report":
                guard let from = options["from"].flatMap(day), let to = options["to"].flatMap(day), from < to else {
                    fail("report: give --from and --to as YYYY-MM-DD (UTC, --to not included), --from before --to")
                }
                let report = try await backend.report(from: from, to: to)
                switch options["format"] ?? "csv" {
                case "csv": print(report.csv, terminator: "")
                case "html": print(ReportPage.html(report), terminator: "")
                case let other: fail("report: --format \(other): csv or html")
                }
            case "serve", nil:
                let listen = options["listen"] ?? "127.0.0.1:8443"
                guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]) else {
                    fail("--listen \(listen): expected HOST:PORT")
                }
                let host = String(listen[..<colon])
                var tls: (String, String)?
                switch (options["tls-cert"], options["tls-key"]) {
                case (let c?, let k?): tls = (c, k)
                case (nil, nil): tls = nil
                default: fail("--tls-cert and --tls-key go together")
                }
                let vault = try KeyVault.open(path: keyFile, create: true)
                let silentAfter = Int64(options["silent-after"] ?? "60") ?? 60
                let server = StoreServer(backend: backend, vault: vault, logger: logger, now: now)
                let app = try server.application(host: host, port: port, tls: tls)
                guard let rawDays = Int64(options["raw-days"] ?? "30"), rawDays >= 1 else { fail("--raw-days: a whole number of days, at least 1") }
                let watch = Periodic(name: "silence check", every: .seconds(5), logger: logger) {
                    for name in try await backend.markSilent(now: now(), after: silentAfter) {
                        logger.warning("site '\(name)' is silent: no report for more than \(silentAfter) s")
                    }
                    try await backend.pruneNonces(now: now())
                }
                // Raw readings for rawDays, hourly min/mean/max after that.
                let retention = Periodic(name: "retention", every: .seconds(3600), logger: logger) {
                    let folded = try await backend.downsample(before: now() - rawDays * 86_400)
                    if folded > 0 { logger.info("retention: \(folded) readings older than \(rawDays) days folded into hourly values") }
                }
                logger.info("closet-store on \(tls == nil ? "http" : "https")://\(listen), database \(backend.database)")
                let group = ServiceGroup(
                    configuration: .init(
                        services: [.init(service: app), .init(service: watch), .init(service: retention)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
                try await group.run()
            default:
                fail("unknown command '\(positional[0])'\n\n\(usage)")
            }
            await backend.close()
        } catch {
            fail("\(error)")
        }
    }

    /// Seconds since the epoch of `YYYY-MM-DD` at 00:00 UTC.
    static func day(_ text: String) -> Int64? {
        let parts = text.split(separator: "-").map { Int($0) }
        guard parts.count == 3, let y = parts[0], let m = parts[1], let d = parts[2], (1...12).contains(m), (1...31).contains(d) else { return nil }
        return MonthIntervals.daysFromCivil(y, m, d) * 86_400
    }

    static func fail(_ message: String) -> Never {
        var bytes = Array(("closet-store: " + message + "\n").utf8)
        _ = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
        exit(1)
    }
}

/// A store chore run at start and then every `every` until shutdown (silence checks,
/// retention). A failing run is logged; the next one comes anyway.
struct Periodic: Service {
    let name: String
    let every: Duration
    let logger: Logger
    let work: @Sendable () async throws -> Void

    func run() async throws {
        // Cancelled (the server failed to start) or shutting down: stop; a sleep that throws
        // must not turn this loop into a spin.
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                try await work()
            } catch {
                logger.error("\(name): \(error)")
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: every) }
        }
    }
}
