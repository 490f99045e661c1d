import Crypto
import Foundation
import GRDB
import Logging
import Testing

@testable import Storage

/// Migration 0007 moves version files to content-addressed storage without changing any
/// version's files.
@Suite("Content-addressed version files: the migration keeps every version's files")
struct ContentAddressedMigrationTests {
    /// Versions in the test database; `VECTORT_MIGRATION_VERSIONS=10000` for the documented run.
    static let versionCount = Int(ProcessInfo.processInfo.environment["VECTORT_MIGRATION_VERSIONS"] ?? "") ?? 300
    static let filesPerVersion = 20

    /// Every version's files as one digest each: paths and contents, in path order.
    static func digests(_ db: GRDB.Database, sql: String) throws -> [String: String] {
        var files: [String: [(String, Data)]] = [:]
        for row in try Row.fetchAll(db, sql: sql) {
            files[row[0], default: []].append((row[1], row[2]))
        }
        return files.mapValues { entries in
            var hasher = SHA256()
            for (path, data) in entries.sorted(by: { $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) }) {
                hasher.update(data: Data(path.utf8) + [0] + data + [0])
            }
            return hasher.finalize().map { String(format: "%02x", $0) }.joined()
        }
    }

    @Test func everyVersionHasTheSameFilesAfterTheMigrationAndSharedContentIsStoredOnce() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vtca-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let pool = try DatabasePool(path: directory.appendingPathComponent("db.sqlite").path)
        try Migrations.migrator.migrate(pool, upTo: "0006-builds")
        // Versions as edits make them: most files carried over from the version before.
        try pool.write { db in
            try db.execute(sql: "INSERT INTO users(id, email, email_key, status, created_at) VALUES ('u_1', 'a@b.c', 'a@b.c', 'active', 'x')")
            try db.execute(sql: "INSERT INTO projects(id, user_id, title, status, config, created_at, updated_at) VALUES ('p_1', 'u_1', 'P', 'completed', '{}', 'x', 'x')")
            let version = try db.makeStatement(sql: "INSERT INTO versions(id, project_id, number, files, bytes, created_at) VALUES (?, 'p_1', ?, ?, 0, 'x')")
            let file = try db.makeStatement(sql: "INSERT INTO version_files(version_id, path, contents) VALUES (?, ?, ?)")
            for number in 1...Self.versionCount {
                let id = "v_\(number)"
                try version.execute(arguments: [id, number, Self.filesPerVersion])
                for index in 0..<Self.filesPerVersion {
                    // Two files change per version; text with a NUL and a binary file too.
                    let revision = index < 2 ? number : number / 50
                    let contents: any DatabaseValueConvertible =
                        index == 19 ? Data([0x89, 0x50, 0xFF, UInt8(revision % 256), 0]) : "file \(index) revision \(revision)\n"
                    try file.execute(arguments: [id, "src/file\(index).jsx", contents])
                }
            }
        }
        let before = try pool.read { db in
            try Self.digests(db, sql: "SELECT version_id, path, CAST(contents AS BLOB) FROM version_files")
        }
        let rowsBefore = Self.versionCount * Self.filesPerVersion
        let clock = ContinuousClock()
        let started = clock.now
        try Migrations.migrator.migrate(pool)
        let took = clock.now - started
        let (after, blobs) = try pool.read { db in
            (
                try Self.digests(db, sql: "SELECT f.version_id, f.path, b.data FROM version_files f JOIN blobs b ON b.hash = f.hash"),
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM blobs") ?? 0
            )
        }
        #expect(after == before, "a version's files changed")
        #expect(after.count == Self.versionCount)
        #expect(blobs < rowsBefore / 5, "\(blobs) contents stored for \(rowsBefore) files")
        print("content-addressed migration: \(Self.versionCount) versions, \(rowsBefore) files → \(blobs) contents in \(took)")
    }
}
