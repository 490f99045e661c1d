import Foundation
public import GRDB
public import Logging

/// The daemon's SQLite database: one file in WAL mode, one writer, concurrent readers.
///
/// Opened and migrated before the daemon reports READY. `synchronous=FULL` makes every
/// committed transaction durable before the commit returns, so an acknowledged write survives
/// `kill -9` and power loss alike.
public struct Database: Sendable {
    public let path: String
    public let pool: DatabasePool

    /// Opens (creating if needed) and migrates the database at `path`.
    public static func open(path: String, logger: Logger) throws -> Database {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        try FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750])
        var configuration = Configuration()
        configuration.label = "vectortd"
        configuration.busyMode = .timeout(5)
        configuration.maximumReaderCount = 8
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            try db.execute(sql: "PRAGMA foreign_keys = ON")
        }
        let pool = try DatabasePool(path: path, configuration: configuration)
        // DatabasePool switches its writer to synchronous=NORMAL when it enables WAL, after
        // prepareDatabase has run; NORMAL can lose the last commits on power loss. Set it back.
        try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        try Migrations.migrator.migrate(pool)
        let applied = try pool.read { db in try Migrations.migrator.appliedIdentifiers(db) }
        logger.debug(
            "database open", metadata: ["db.path": "\(path)", "db.migrations": "\(applied.sorted().joined(separator: ","))"])
        return Database(path: path, pool: pool)
    }

    /// A read round trip, used by health checks and the watchdog.
    public func ping() async throws {
        _ = try await pool.read { db in try Int.fetchOne(db, sql: "SELECT 1") }
    }

    /// The identifier of this database, created by the first migration; stable across restarts.
    public func instanceID() async throws -> String {
        try await pool.read { db in
            try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'instance_id'") ?? ""
        }
    }
}
