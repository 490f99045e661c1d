import Foundation
import GRDB
import Logging
import Testing

@testable import Storage

@Suite("Database: open, migrate, durability settings")
struct DatabaseTests {
    private func temporaryPath() throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vte-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory.appendingPathComponent("nested/vectortd.sqlite").path
    }

    @Test func opensInWALModeWithFullSynchronousCommits() async throws {
        let path = try temporaryPath()
        let database = try Database.open(path: path, logger: Logger(label: "test"))
        #expect(FileManager.default.fileExists(atPath: path))
        let (journal, synchronous, foreignKeys) = try await database.pool.write { db in
            (
                try String.fetchOne(db, sql: "PRAGMA journal_mode"),
                try Int.fetchOne(db, sql: "PRAGMA synchronous"),
                try Int.fetchOne(db, sql: "PRAGMA foreign_keys")
            )
        }
        #expect(journal == "wal")
        #expect(synchronous == 2, "synchronous=FULL is 2")
        #expect(foreignKeys == 1)
        let readerSynchronous = try await database.pool.read { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") }
        #expect(readerSynchronous == 2)
    }

    @Test func migrationsRunOnceAndTheInstanceIDSurvivesReopening() async throws {
        let path = try temporaryPath()
        let first = try Database.open(path: path, logger: Logger(label: "test"))
        let id = try await first.instanceID()
        #expect(id.count == 36)
        let applied = try await first.pool.read { db in try Migrations.migrator.appliedIdentifiers(db) }
        #expect(applied == ["0001-meta", "0002-accounts-credits", "0003-generations", "0004-open-holds-by-user",
            "0005-ledger-checks-without-in-lists", "0006-builds", "0007-content-addressed-version-files",
            "0008-generation-requested-provider", "0009-version-base", "0010-generation-edit-request", "0011-payments", "0012-project-github", "0013-deployments", "0014-connected-accounts", "0015-sessions", "0016-preview-tokens", "0017-account-tokens", "0018-oauth-identities", "0019-running-generations-by-user", "0020-generation-spend", "0021-idempotency-retention",
        ])
        let second = try Database.open(path: path, logger: Logger(label: "test"))
        #expect(try await second.instanceID() == id)
        try await second.ping()
    }

    @Test func aFileThatIsNotADatabaseIsAnError() throws {
        let path = try temporaryPath()
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(repeating: 0x42, count: 4096).write(to: URL(fileURLWithPath: path))
        #expect(throws: (any Error).self) { _ = try Database.open(path: path, logger: Logger(label: "test")) }
    }
}
