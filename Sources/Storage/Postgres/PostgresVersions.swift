package import Foundation
import Logging
import NIOCore
import PostgresNIO
package import Protocol
import VectortCore

/// Versions, their files and builds on PostgreSQL: the same rules as `SQLiteVersions`. Each
/// distinct content is one `blobs` row (BYTEA, by SHA-256); a version references its contents
/// by path. Storing a version locks its project first, so two nodes storing versions of one
/// project number them one after the other.
package struct PostgresVersions: VersionRepository {
    package let writer: PostgresWriter
    package let database: PostgresDatabase

    package init(writer: PostgresWriter, database: PostgresDatabase) {
        self.writer = writer
        self.database = database
    }

    package func store(
        project: String, owner: String?, files: [ProjectFile], origin: VersionOrigin, build: VersionBuild?, now: Date
    ) async throws -> VersionSummary {
        try await writer.write { connection, logger in
            try await Self.insert(connection, project: project, owner: owner, files: files, origin: origin, build: build, now: now, logger: logger)
        }
    }

    package func build(project: String, owner: String?, version: String?) async throws -> ProjectBuild {
        let logger = database.logger
        return try await database.client.withConnection { connection in
            let id = try await Self.resolve(connection, project: project, owner: owner, version: version, logger: logger)
            return try await Self.loadBuild(connection, project: project, version: id, logger: logger)
        }
    }

    package func storeBuild(project: String, owner: String?, version: String, build: VersionBuild, now: Date) async throws
        -> ProjectBuild
    {
        try await writer.write { connection, logger in
            let id = try await Self.resolve(connection, project: project, owner: owner, version: version, lock: true, logger: logger)
            let existing = try await Self.loadBuild(connection, project: project, version: id, logger: logger)
            guard existing.status == .none || existing.status == .skipped else { return existing }
            try await connection.run("DELETE FROM builds WHERE version_id = \(id)", logger)
            try await Self.insertBuild(connection, version: id, build: build, now: Timestamps.string(now), logger: logger)
            return try await Self.loadBuild(connection, project: project, version: id, logger: logger)
        }
    }

    package func builtCode(project: String, owner: String?, version: String?, path: String?) async throws -> ProjectCode {
        let logger = database.logger
        return try await database.client.withConnection { connection in
            let id = try await Self.resolve(connection, project: project, owner: owner, version: version, logger: logger)
            let status = try await connection.first("SELECT status FROM builds WHERE version_id = \(id)", as: String.self, logger)
            guard status == ProjectBuild.Status.ok.rawValue else {
                throw EngineError.conflict("version \(id) has no built site (build: \(status ?? "none"))")
            }
            let query: PostgresQuery =
                if let path {
                    "SELECT f.path, b.data FROM build_files f JOIN blobs b ON b.hash = f.hash WHERE f.version_id = \(id) AND f.path = \(path)"
                } else {
                    "SELECT f.path, b.data FROM build_files f JOIN blobs b ON b.hash = f.hash WHERE f.version_id = \(id) ORDER BY f.path COLLATE \"C\""
                }
            let files = try await Self.files(connection, query, logger: logger)
            if let path, files.isEmpty { throw EngineError.notFound("file", path) }
            return ProjectCode(project: project, version: id, files: files)
        }
    }

    package func list(project: String, owner: String?) async throws -> VersionList {
        let logger = database.logger
        return try await database.client.withConnection { connection in
            let loaded = try await PostgresProjects.load(connection, project, owner: owner, logger: logger)
            var ids: [String] = []
            for try await id in try await connection.query(
                "SELECT id FROM versions WHERE project_id = \(project) ORDER BY number DESC", logger: logger
            ).decode(String.self) {
                ids.append(id)
            }
            var versions: [VersionSummary] = []
            for id in ids {
                versions.append(try await Self.summary(connection, id, current: loaded.currentVersion, logger: logger))
            }
            return VersionList(project: project, versions: versions)
        }
    }

    package func code(project: String, owner: String?, version: String?, path: String?) async throws -> ProjectCode {
        let logger = database.logger
        return try await database.client.withConnection { connection in
            let id = try await Self.resolve(connection, project: project, owner: owner, version: version, logger: logger)
            let query: PostgresQuery =
                if let path {
                    "SELECT f.path, b.data FROM version_files f JOIN blobs b ON b.hash = f.hash WHERE f.version_id = \(id) AND f.path = \(path)"
                } else {
                    Self.versionFilesQuery(id)
                }
            let files = try await Self.files(connection, query, logger: logger)
            if let path, files.isEmpty { throw EngineError.notFound("file", path) }
            return ProjectCode(project: project, version: id, files: files)
        }
    }

    package func createdAt(version id: String) async throws -> String? {
        let logger = database.logger
        return try await database.client.withConnection { connection in
            try await connection.first("SELECT created_at FROM versions WHERE id = \(id)", as: String.self, logger)
        }
    }

    package func restore(project: String, owner: String?, version: String, now: Date) async throws -> VersionSummary {
        try await writer.write { connection, logger in
            let loaded = try await PostgresProjects.load(connection, project, owner: owner, lock: true, logger: logger)
            let source = try await Self.resolve(connection, project: project, owner: owner, version: version, logger: logger)
            guard source != loaded.currentVersion else {
                throw EngineError(
                    WireError(.nothingChanged, "version \(source) is already the current version", ["version": .string(source)]))
            }
            let stamp = Timestamps.string(now)
            let number = try await Self.nextNumber(connection, project: project, logger: logger)
            let id = Identifiers.make("v")
            // Files and build are the source's rows: the contents are shared, not copied.
            try await connection.run(
                """
                INSERT INTO versions(id, project_id, number, generation, provider, model, files, bytes, created_at, base_version)
                SELECT \(id), project_id, \(number), NULL, NULL, NULL, files, bytes, \(stamp), id FROM versions WHERE id = \(source)
                """, logger)
            try await connection.run(
                "INSERT INTO version_files(version_id, path, hash, bytes) SELECT \(id), path, hash, bytes FROM version_files WHERE version_id = \(source)",
                logger)
            try await connection.run(
                """
                INSERT INTO builds(version_id, status, duration_ms, errors, created_at)
                SELECT \(id), status, duration_ms, errors, created_at FROM builds WHERE version_id = \(source)
                """, logger)
            try await connection.run(
                "INSERT INTO build_files(version_id, path, hash, bytes) SELECT \(id), path, hash, bytes FROM build_files WHERE version_id = \(source)",
                logger)
            try await connection.run(
                "UPDATE projects SET current_version = \(id), status = 'completed', updated_at = \(stamp) WHERE id = \(project)", logger)
            return try await Self.summary(connection, id, current: id, logger: logger)
        }
    }

    // MARK: Inside a transaction

    /// Stores a version and makes it current (files already validated by `PathRules`).
    static func insert(
        _ connection: PostgresConnection, project: String, owner: String?, files: [ProjectFile], origin: VersionOrigin,
        build: VersionBuild? = nil, now: Date, logger: Logger
    ) async throws -> VersionSummary {
        let bytes = files.reduce(0) { $0 + $1.byteCount }
        let now = Timestamps.string(now)
        _ = try await PostgresProjects.load(connection, project, owner: owner, lock: true, logger: logger)
        let number = try await nextNumber(connection, project: project, logger: logger)
        let id = Identifiers.make("v")
        try await connection.run(
            """
            INSERT INTO versions(id, project_id, number, generation, provider, model, files, bytes, created_at, base_version)
            VALUES (\(id), \(project), \(number), \(origin.generation), \(origin.provider), \(origin.model), \(files.count), \(bytes),
                \(now), \(origin.base))
            """, logger)
        try await insertFiles(connection, into: .version, version: id, files: files, logger: logger)
        if let build { try await insertBuild(connection, version: id, build: build, now: now, logger: logger) }
        try await connection.run(
            "UPDATE projects SET current_version = \(id), status = 'completed', updated_at = \(now) WHERE id = \(project)", logger)
        return try await summary(connection, id, current: id, logger: logger)
    }

    /// Whose files: a version's sources (`version_files`) or its built site (`build_files`).
    enum FileSet { case version, build }

    /// A version's (or built site's) files: each distinct content once in `blobs`, then the
    /// references, two statements whatever the number of files.
    static func insertFiles(
        _ connection: PostgresConnection, into set: FileSet, version: String, files: [ProjectFile], logger: Logger
    ) async throws {
        guard !files.isEmpty else { return }
        var hashes: [String] = []
        var contents: [ByteBuffer] = []
        var paths: [String] = []
        var sizes: [Int] = []
        for file in files {
            let data = file.data
            hashes.append(ContentHash.of(data))
            contents.append(ByteBuffer(bytes: data))
            paths.append(file.path)
            sizes.append(data.count)
        }
        try await connection.run(
            """
            INSERT INTO blobs(hash, data) SELECT * FROM unnest(\(hashes)::text[], \(contents)::bytea[])
            ON CONFLICT (hash) DO NOTHING
            """, logger)
        if set == .build {
            try await connection.run(
                """
                INSERT INTO build_files(version_id, path, hash, bytes)
                SELECT \(version), * FROM unnest(\(paths)::text[], \(hashes)::text[], \(sizes)::bigint[])
                """, logger)
        } else {
            try await connection.run(
                """
                INSERT INTO version_files(version_id, path, hash, bytes)
                SELECT \(version), * FROM unnest(\(paths)::text[], \(hashes)::text[], \(sizes)::bigint[])
                """, logger)
        }
    }

    static func insertBuild(
        _ connection: PostgresConnection, version: String, build: VersionBuild, now: String, logger: Logger
    ) async throws {
        let errors = String(decoding: try WireCoding.encoder.encode(build.errors), as: UTF8.self)
        try await connection.run(
            """
            INSERT INTO builds(version_id, status, duration_ms, errors, created_at)
            VALUES (\(version), \(build.status.rawValue), \(build.durationMs), \(errors), \(now))
            """, logger)
        try await insertFiles(connection, into: .build, version: version, files: build.files, logger: logger)
    }

    static func nextNumber(_ connection: PostgresConnection, project: String, logger: Logger) async throws -> Int {
        let highest = try await connection.first(
            "SELECT COALESCE(MAX(number), 0)::BIGINT FROM versions WHERE project_id = \(project)", as: Int.self, logger)
        return (highest ?? 0) + 1
    }

    static func loadBuild(_ connection: PostgresConnection, project: String, version: String, logger: Logger) async throws
        -> ProjectBuild
    {
        guard
            let (status, durationMs, errors, createdAt) = try await connection.first(
                "SELECT status, duration_ms, errors, created_at FROM builds WHERE version_id = \(version)",
                as: (String, Int, String, String).self, logger)
        else { return ProjectBuild(project: project, version: version, status: .none) }
        let issues = (try? WireCoding.decoder.decode([GenerationIssue].self, from: Data(errors.utf8))) ?? []
        var files: [ProjectBuild.File] = []
        for try await (path, bytes) in try await connection.query(
            "SELECT path, bytes FROM build_files WHERE version_id = \(version) ORDER BY path COLLATE \"C\"", logger: logger
        ).decode((String, Int).self) {
            files.append(ProjectBuild.File(path: path, bytes: bytes))
        }
        return ProjectBuild(
            project: project, version: version, status: ProjectBuild.Status(rawValue: status) ?? .failed, durationMs: durationMs,
            errors: issues, files: files, createdAt: createdAt)
    }

    /// The version id meant by `version` (an id or a number), or the current version.
    static func resolve(
        _ connection: PostgresConnection, project: String, owner: String?, version: String?, lock: Bool = false, logger: Logger
    ) async throws -> String {
        let loaded = try await PostgresProjects.load(connection, project, owner: owner, lock: lock, logger: logger)
        guard let version else {
            guard let current = loaded.currentVersion else { throw EngineError.notFound("version", "(current) of \(project)") }
            return current
        }
        if let number = Int(version) {
            if let id = try await connection.first(
                "SELECT id FROM versions WHERE project_id = \(project) AND number = \(number)", as: String.self, logger)
            {
                return id
            }
        } else if try await connection.first(
            "SELECT 1 FROM versions WHERE project_id = \(project) AND id = \(version)", as: Int32.self, logger) != nil
        {
            return version
        }
        throw EngineError.notFound("version", version)
    }

    static func summary(_ connection: PostgresConnection, _ id: String, current: String?, logger: Logger) async throws
        -> VersionSummary
    {
        guard
            let row = try await connection.first(
                """
                SELECT v.project_id, v.number, v.generation, v.provider, v.model, v.files, v.bytes, v.created_at,
                    v.base_version, substr(g.prompt, 1, 200)
                FROM versions v LEFT JOIN generations g ON g.id = v.generation WHERE v.id = \(id)
                """, as: (String, Int, String?, String?, String?, Int, Int, String, String?, String?).self, logger)
        else { throw EngineError.notFound("version", id) }
        var counts: FileChangeCounts?
        if let base = row.8 { counts = try await changes(connection, from: base, to: id, logger: logger).counts }
        return VersionSummary(
            id: id, project: row.0, number: row.1, generation: row.2, provider: row.3, model: row.4, files: row.5,
            bytes: row.6, createdAt: row.7, current: id == current, baseVersion: row.8, prompt: row.9, changes: counts)
    }

    /// How version `to` differs from version `from`, by path and content hash.
    static func changes(_ connection: PostgresConnection, from: String, to: String, logger: Logger) async throws -> FileChanges {
        var changes = FileChanges()
        for try await (path, kind) in try await connection.query(
            """
            SELECT t.path, CASE WHEN f.hash IS NULL THEN 'added' ELSE 'changed' END
            FROM version_files t LEFT JOIN version_files f ON f.version_id = \(from) AND f.path = t.path
            WHERE t.version_id = \(to) AND (f.hash IS NULL OR f.hash <> t.hash)
            UNION ALL
            SELECT f.path, 'deleted' FROM version_files f
            WHERE f.version_id = \(from) AND NOT EXISTS (SELECT 1 FROM version_files t WHERE t.version_id = \(to) AND t.path = f.path)
            ORDER BY 1
            """, logger: logger
        ).decode((String, String).self) {
            switch kind {
            case "added": changes.added.append(path)
            case "deleted": changes.deleted.append(path)
            default: changes.changed.append(path)
            }
        }
        return changes
    }

    /// Every file of a version, in byte order of their paths.
    static func versionFilesQuery(_ version: String) -> PostgresQuery {
        "SELECT f.path, b.data FROM version_files f JOIN blobs b ON b.hash = f.hash WHERE f.version_id = \(version) ORDER BY f.path COLLATE \"C\""
    }

    /// Files from rows of (path, bytes).
    static func files(_ connection: PostgresConnection, _ query: PostgresQuery, logger: Logger) async throws -> [ProjectFile] {
        var files: [ProjectFile] = []
        for try await (path, data) in try await connection.query(query, logger: logger).decode((String, ByteBuffer).self) {
            files.append(ProjectFile(path: path, bytes: data.readableBytesView))
        }
        return files
    }
}
