import Foundation
import GRDB
import Protocol
import VectortCore

/// Versions and their files in SQLite.
struct SQLiteVersions: VersionRepository {
    let writer: LedgerWriter
    let pool: DatabasePool

    func store(
        project: String, owner: String?, files: [ProjectFile], origin: VersionOrigin, build: VersionBuild?, now: Date
    ) async throws -> VersionSummary {
        try await writer.write { db in
            try Self.insert(db, project: project, owner: owner, files: files, origin: origin, build: build, now: now)
        }
    }

    func build(project: String, owner: String?, version: String?) async throws -> ProjectBuild {
        try await pool.read { db in
            let id = try Self.resolve(db, project: project, owner: owner, version: version)
            return try Self.loadBuild(db, project: project, version: id)
        }
    }

    func storeBuild(project: String, owner: String?, version: String, build: VersionBuild, now: Date) async throws
        -> ProjectBuild
    {
        try await writer.write { db in
            let id = try Self.resolve(db, project: project, owner: owner, version: version)
            let existing = try Self.loadBuild(db, project: project, version: id)
            guard existing.status == .none || existing.status == .skipped else { return existing }
            try db.cachedStatement(sql: "DELETE FROM builds WHERE version_id = ?").execute(arguments: [id])
            try Self.insertBuild(db, version: id, build: build, now: Timestamps.string(now))
            return try Self.loadBuild(db, project: project, version: id)
        }
    }

    func builtCode(project: String, owner: String?, version: String?, path: String?) async throws -> ProjectCode {
        try await pool.read { db in
            let id = try Self.resolve(db, project: project, owner: owner, version: version)
            let status = try String.fetchOne(db.cachedStatement(sql: "SELECT status FROM builds WHERE version_id = ?"), arguments: [id])
            guard status == ProjectBuild.Status.ok.rawValue else {
                throw EngineError.conflict("version \(id) has no built site (build: \(status ?? "none"))")
            }
            let rows: [Row]
            let select = "SELECT f.path, b.data FROM build_files f JOIN blobs b ON b.hash = f.hash WHERE f.version_id = ?"
            if let path {
                rows = try Row.fetchAll(db.cachedStatement(sql: select + " AND f.path = ?"), arguments: [id, path])
                if rows.isEmpty { throw EngineError.notFound("file", path) }
            } else {
                rows = try Row.fetchAll(db.cachedStatement(sql: select + " ORDER BY f.path"), arguments: [id])
            }
            return ProjectCode(
                project: project, version: id, files: rows.map { ProjectFile(path: $0[0], bytes: $0[1] as Data) })
        }
    }

    func list(project: String, owner: String?) async throws -> VersionList {
        try await pool.read { db in
            let loaded = try SQLiteProjects.load(db, project, owner: owner)
            let ids = try String.fetchAll(db.cachedStatement(sql: "SELECT id FROM versions WHERE project_id = ? ORDER BY number DESC"), arguments: [project])
            return VersionList(
                project: project, versions: try ids.map { try Self.summary(db, $0, current: loaded.currentVersion) })
        }
    }

    func code(project: String, owner: String?, version: String?, path: String?) async throws -> ProjectCode {
        try await pool.read { db in
            let id = try Self.resolve(db, project: project, owner: owner, version: version)
            let rows: [Row]
            if let path {
                rows = try Row.fetchAll(db.cachedStatement(sql: "SELECT f.path, b.data FROM version_files f JOIN blobs b ON b.hash = f.hash WHERE f.version_id = ? AND f.path = ?"), arguments: [id, path])
                if rows.isEmpty { throw EngineError.notFound("file", path) }
            } else {
                rows = try Row.fetchAll(db.cachedStatement(sql: "SELECT f.path, b.data FROM version_files f JOIN blobs b ON b.hash = f.hash WHERE f.version_id = ? ORDER BY f.path"), arguments: [id])
            }
            return ProjectCode(
                project: project, version: id, files: rows.map { ProjectFile(path: $0[0], bytes: $0[1] as Data) })
        }
    }

    func restore(project: String, owner: String?, version: String, now: Date) async throws -> VersionSummary {
        try await writer.write { db in
            let loaded = try SQLiteProjects.load(db, project, owner: owner)
            let source = try Self.resolve(db, project: project, owner: owner, version: version)
            guard source != loaded.currentVersion else {
                throw EngineError(WireError(.nothingChanged, "version \(source) is already the current version", ["version": .string(source)]))
            }
            let stamp = Timestamps.string(now)
            let number =
                (try Int.fetchOne(db.cachedStatement(sql: "SELECT MAX(number) FROM versions WHERE project_id = ?"), arguments: [project]) ?? 0) + 1
            let id = Identifiers.make("v")
            // Files and build are the source's rows: the contents are shared, not copied.
            try db.cachedStatement(sql: """
                    INSERT INTO versions(id, project_id, number, generation, provider, model, files, bytes, created_at, base_version)
                    SELECT ?, project_id, ?, NULL, NULL, NULL, files, bytes, ?, id FROM versions WHERE id = ?
                    """).execute(arguments: [id, number, stamp, source])
            try db.cachedStatement(sql: "INSERT INTO version_files(version_id, path, hash, bytes) SELECT ?, path, hash, bytes FROM version_files WHERE version_id = ?")
                .execute(arguments: [id, source])
            try db.cachedStatement(sql: "INSERT INTO builds(version_id, status, duration_ms, errors, created_at) SELECT ?, status, duration_ms, errors, created_at FROM builds WHERE version_id = ?")
                .execute(arguments: [id, source])
            try db.cachedStatement(sql: "INSERT INTO build_files(version_id, path, hash, bytes) SELECT ?, path, hash, bytes FROM build_files WHERE version_id = ?")
                .execute(arguments: [id, source])
            try db.cachedStatement(sql: "UPDATE projects SET current_version = ?, status = 'completed', updated_at = ? WHERE id = ?")
                .execute(arguments: [id, stamp, project])
            return try Self.summary(db, id, current: id)
        }
    }

    func createdAt(version id: String) async throws -> String? {
        try await pool.read { db in
            try String.fetchOne(db, sql: "SELECT created_at FROM versions WHERE id = ?", arguments: [id])
        }
    }

    // MARK: Inside a transaction

    /// Stores a version and makes it current (files already validated by `PathRules`).
    static func insert(
        _ db: GRDB.Database, project: String, owner: String?, files: [ProjectFile], origin: VersionOrigin,
        build: VersionBuild? = nil, now: Date
    ) throws -> VersionSummary {
        let bytes = files.reduce(0) { $0 + $1.byteCount }
        let now = Timestamps.string(now)
        _ = try SQLiteProjects.load(db, project, owner: owner)
        let number =
            (try Int.fetchOne(db.cachedStatement(sql: "SELECT MAX(number) FROM versions WHERE project_id = ?"), arguments: [project])
                ?? 0) + 1
        let id = Identifiers.make("v")
        try db.cachedStatement(sql: """
                INSERT INTO versions(id, project_id, number, generation, provider, model, files, bytes, created_at, base_version)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """).execute(arguments: [
                id, project, number, origin.generation, origin.provider, origin.model, files.count, bytes, now, origin.base,
            ])
        // Each distinct content is stored once (a file carried over from an earlier version costs
        // a reference), as a BLOB read back by length: text bound as a C string would end at its
        // first U+0000.
        let blob = try db.cachedStatement(sql: "INSERT INTO blobs(hash, data) VALUES (?, ?) ON CONFLICT(hash) DO NOTHING")
        let insert = try db.cachedStatement(sql: "INSERT INTO version_files(version_id, path, hash, bytes) VALUES (?, ?, ?, ?)")
        for file in files {
            let bytes = file.data
            let hash = ContentHash.of(bytes)
            try blob.execute(arguments: [hash, bytes])
            try insert.execute(arguments: [id, file.path, hash, bytes.count])
        }
        if let build { try insertBuild(db, version: id, build: build, now: now) }
        try db.cachedStatement(sql: "UPDATE projects SET current_version = ?, status = 'completed', updated_at = ? WHERE id = ?").execute(arguments: [id, now, project])
        return try summary(db, id, current: id)
    }

    /// A version's build and its files, each file's bytes stored once by content.
    static func insertBuild(_ db: GRDB.Database, version: String, build: VersionBuild, now: String) throws {
        let errors = String(decoding: try WireCoding.encoder.encode(build.errors), as: UTF8.self)
        try db.cachedStatement(sql: "INSERT INTO builds(version_id, status, duration_ms, errors, created_at) VALUES (?, ?, ?, ?, ?)")
            .execute(arguments: [version, build.status.rawValue, build.durationMs, errors, now])
        let blob = try db.cachedStatement(sql: "INSERT INTO blobs(hash, data) VALUES (?, ?) ON CONFLICT(hash) DO NOTHING")
        let file = try db.cachedStatement(sql: "INSERT INTO build_files(version_id, path, hash, bytes) VALUES (?, ?, ?, ?)")
        for built in build.files {
            let bytes = built.data
            let hash = ContentHash.of(bytes)
            try blob.execute(arguments: [hash, bytes])
            try file.execute(arguments: [version, built.path, hash, bytes.count])
        }
    }

    static func loadBuild(_ db: GRDB.Database, project: String, version: String) throws -> ProjectBuild {
        guard
            let row = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT status, duration_ms, errors, created_at FROM builds WHERE version_id = ?"),
                arguments: [version])
        else { return ProjectBuild(project: project, version: version, status: .none) }
        let errors = (try? WireCoding.decoder.decode([GenerationIssue].self, from: Data((row["errors"] as String).utf8))) ?? []
        let files = try Row.fetchAll(
            db.cachedStatement(sql: "SELECT path, bytes FROM build_files WHERE version_id = ? ORDER BY path"), arguments: [version]
        ).map { ProjectBuild.File(path: $0[0], bytes: $0[1]) }
        return ProjectBuild(
            project: project, version: version, status: ProjectBuild.Status(rawValue: row["status"]) ?? .failed,
            durationMs: row["duration_ms"], errors: errors, files: files, createdAt: row["created_at"])
    }

    /// The version id meant by `version` (an id or a number), or the current version.
    static func resolve(_ db: GRDB.Database, project: String, owner: String?, version: String?) throws -> String {
        let loaded = try SQLiteProjects.load(db, project, owner: owner)
        guard let version else {
            guard let current = loaded.currentVersion else { throw EngineError.notFound("version", "(current) of \(project)") }
            return current
        }
        if let number = Int(version) {
            if let id = try String.fetchOne(db.cachedStatement(sql: "SELECT id FROM versions WHERE project_id = ? AND number = ?"), arguments: [project, number])
            {
                return id
            }
        } else if try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM versions WHERE project_id = ? AND id = ?"), arguments: [project, version]) == true
        {
            return version
        }
        throw EngineError.notFound("version", version)
    }

    static func summary(_ db: GRDB.Database, _ id: String, current: String?) throws -> VersionSummary {
        guard
            let row = try Row.fetchOne(db.cachedStatement(sql: """
                    SELECT v.project_id, v.number, v.generation, v.provider, v.model, v.files, v.bytes, v.created_at,
                        v.base_version, substr(g.prompt, 1, 200) AS prompt
                    FROM versions v LEFT JOIN generations g ON g.id = v.generation WHERE v.id = ?
                    """), arguments: [id])
        else { throw EngineError.notFound("version", id) }
        let base: String? = row["base_version"]
        return VersionSummary(
            id: id, project: row["project_id"], number: row["number"], generation: row["generation"],
            provider: row["provider"], model: row["model"], files: row["files"], bytes: row["bytes"],
            createdAt: row["created_at"], current: id == current, baseVersion: base, prompt: row["prompt"],
            changes: try base.map { try changes(db, from: $0, to: id).counts })
    }

    /// How version `to` differs from version `from`, by path and content hash.
    static func changes(_ db: GRDB.Database, from: String, to: String) throws -> FileChanges {
        let rows = try Row.fetchAll(
            db.cachedStatement(sql: """
                SELECT t.path, CASE WHEN f.hash IS NULL THEN 'added' ELSE 'changed' END
                FROM version_files t LEFT JOIN version_files f ON f.version_id = ?1 AND f.path = t.path
                WHERE t.version_id = ?2 AND (f.hash IS NULL OR f.hash != t.hash)
                UNION ALL
                SELECT f.path, 'deleted' FROM version_files f
                WHERE f.version_id = ?1 AND NOT EXISTS (SELECT 1 FROM version_files t WHERE t.version_id = ?2 AND t.path = f.path)
                ORDER BY 1
                """), arguments: [from, to])
        var changes = FileChanges()
        for row in rows {
            let path: String = row[0]
            switch row[1] as String {
            case "added": changes.added.append(path)
            case "deleted": changes.deleted.append(path)
            default: changes.changed.append(path)
            }
        }
        return changes
    }
}
