import Foundation
import VectortCore

#if canImport(Glibc)
import Glibc
#endif

/// A private PostgreSQL 15 server for tests and benchmarks: its own cluster in a temporary
/// directory, listening only on a Unix socket in that directory, with one superuser
/// (`superuser`, trust authentication) and no TCP listener.
///
/// PostgreSQL refuses to run as root. As root (CI and these machines), the directory is handed
/// to the `postgres` user the Debian package creates, and the server and its tools run as that
/// user through `runuser`. A cluster is made once per process (`initdb` takes seconds) and each
/// server starts on a copy of it. `stop()` stops the server; a server still running when the
/// process exits is stopped from an exit handler, so a failed test leaves no postmaster behind.
public final class PostgresServer: Sendable {
    public static let binaries = "/usr/lib/postgresql/15/bin"
    public static let superuser = "vectort"
    /// The port names the socket file (`.s.PGSQL.5432`); nothing listens on TCP.
    public static let port = 5432

    public let directory: TemporaryDirectory
    /// Where the server's socket is: `host` of a connection, a directory.
    public var socketDirectory: String { directory.path }
    public var dataDirectory: String { directory.file("data") }
    /// `postgres://` URL of `database` on this server (no password: trust authentication).
    public func url(database: String) -> String {
        "postgres://\(Self.superuser)@/\(database)?host=\(socketDirectory)"
    }

    private init(directory: TemporaryDirectory) {
        self.directory = directory
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Starts a server on a fresh copy of this process's cluster. `durable: false` (the
    /// default for tests) turns off fsync and full-page writes; benchmarks pass `true`.
    /// `maxConnections` bounds the clients the server takes at once (PostgreSQL's
    /// `max_connections`): every pool of every node or test counts.
    public static func start(durable: Bool = false, maxConnections: Int = 200) async throws -> PostgresServer {
        guard FileManager.default.isExecutableFile(atPath: binaries + "/pg_ctl") else {
            throw Failure(description: "PostgreSQL 15 is not installed (\(binaries)); `make test` installs postgresql-15")
        }
        let template = try await Template.shared.path()
        let directory = try TemporaryDirectory(prefix: "vtpg")
        let server = PostgresServer(directory: directory)
        try await run("/bin/cp", ["-a", template, server.dataDirectory], asPostgres: false)
        if isRoot { try await run("/bin/chown", ["-R", "postgres:postgres", directory.path], asPostgres: false) }
        var settings = "-k \(directory.path) -c listen_addresses= -p \(port) -c max_connections=\(maxConnections)"
        if !durable { settings += " -c fsync=off -c full_page_writes=off" }
        Running.add(server.dataDirectory)
        do {
            try await run(
                binaries + "/pg_ctl",
                ["-D", server.dataDirectory, "-l", directory.file("server.log"), "-w", "-t", "120", "-o", settings, "start"])
        } catch {
            Running.remove(server.dataDirectory)
            let log = (try? String(contentsOfFile: directory.file("server.log"), encoding: .utf8)) ?? ""
            throw Failure(description: "\(error)\n\(log.suffix(4000))")
        }
        return server
    }

    /// Creates an empty database owned by the superuser.
    public func createDatabase(_ name: String) async throws {
        _ = try await psql("CREATE DATABASE \"\(name)\"", database: "postgres")
    }

    /// Runs `sql` through `psql` and returns its unaligned, tuples-only output.
    @discardableResult
    public func psql(_ sql: String, database: String) async throws -> String {
        try await Self.run(
            Self.binaries + "/psql",
            ["-h", socketDirectory, "-p", String(Self.port), "-U", Self.superuser, "-d", database, "-v", "ON_ERROR_STOP=1",
             "-X", "-q", "-A", "-t", "-c", sql])
    }

    /// Stops the server (fast shutdown: sessions are ended, the cluster is left consistent).
    public func stop() async {
        _ = try? await Self.run(Self.binaries + "/pg_ctl", ["-D", dataDirectory, "-m", "fast", "-w", "stop"])
        Running.remove(dataDirectory)
    }

    // MARK: Running the tools

    static var isRoot: Bool { geteuid() == 0 }

    /// Runs a tool, as `postgres` when this process is root; throws with its output on failure.
    @discardableResult
    static func run(_ executable: String, _ arguments: [String], asPostgres: Bool = true) async throws -> String {
        let result =
            if asPostgres && isRoot {
                try await runCommand("/usr/sbin/runuser", ["-u", "postgres", "--", executable] + arguments, workingDirectory: "/")
            } else {
                try await runCommand(executable, arguments, workingDirectory: "/")
            }
        guard result.status == 0 else {
            throw Failure(
                description: "\((executable as NSString).lastPathComponent) \(arguments.joined(separator: " ")) exited with "
                    + "\(result.status): \(result.stderr)\(result.stdout)")
        }
        return result.stdout
    }

    /// The cluster every server of this process starts from, made on first use: concurrent
    /// first callers wait for the same `initdb`.
    actor Template {
        static let shared = Template()
        private var making: Task<TemporaryDirectory, any Error>?

        func path() async throws -> String {
            if making == nil {
                making = Task {
                    let directory = try TemporaryDirectory(prefix: "vtpgt")
                    if isRoot { try await run("/bin/chown", ["postgres:postgres", directory.path], asPostgres: false) }
                    try await run(
                        binaries + "/initdb",
                        ["-D", directory.file("data"), "-U", superuser, "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync",
                         "--no-instructions"])
                    Running.removeAtExit(directory.path)
                    return directory
                }
            }
            return try await making!.value.file("data")
        }
    }

    /// Data directories of servers still running, stopped at exit if a test did not.
    enum Running {
        private static let directories = Locked<Set<String>>([])
        private static let leftovers = Locked<[String]>([])
        private static let handler: Void = {
            atexit {
                for directory in PostgresServer.Running.directories.value {
                    PostgresServer.Running.stopNow(directory)
                }
                for path in PostgresServer.Running.leftovers.value {
                    try? FileManager.default.removeItem(atPath: path)
                }
            }
        }()

        /// The template cluster outlives every server; it goes at exit.
        static func removeAtExit(_ path: String) {
            _ = handler
            leftovers.withLock { $0.append(path) }
        }

        static func add(_ directory: String) {
            _ = handler
            directories.withLock { _ = $0.insert(directory) }
        }

        static func remove(_ directory: String) {
            directories.withLock { _ = $0.remove(directory) }
        }

        /// Immediate shutdown through the postmaster's pid file: no child process at exit.
        static func stopNow(_ directory: String) {
            guard let text = try? String(contentsOfFile: directory + "/postmaster.pid", encoding: .utf8),
                let line = text.split(separator: "\n").first, let pid = Int32(line)
            else { return }
            kill(pid, SIGQUIT)
        }
    }
}

extension PostgresServer {
    /// One server for the whole test process, started on first use and stopped at exit: tests
    /// that each need an empty database take one from it (`freshDatabase`) instead of starting
    /// a server of their own.
    public static func shared() async throws -> PostgresServer {
        try await Shared.instance.server()
    }

    /// Creates a database with a name no other test uses (from `template` when given, which
    /// must have no open connection) and returns the name.
    public func freshDatabase(template: String? = nil) async throws -> String {
        let name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
        let from = template.map { " TEMPLATE \"\($0)\"" } ?? ""
        // A template whose last connection is still closing refuses to be copied for a moment.
        var attempt = 0
        while true {
            do {
                _ = try await psql("CREATE DATABASE \"\(name)\"\(from)", database: "postgres")
                return name
            } catch let failure as Failure where failure.description.contains("is being accessed by other users") && attempt < 50 {
                attempt += 1
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    private actor Shared {
        static let instance = Shared()
        private var starting: Task<PostgresServer, any Error>?

        func server() async throws -> PostgresServer {
            if starting == nil {
                starting = Task {
                    // Every test of the process may hold a pool of its own at once.
                    let server = try await PostgresServer.start(maxConnections: 1000)
                    Running.removeAtExit(server.directory.path)
                    return server
                }
            }
            return try await starting!.value
        }
    }
}
