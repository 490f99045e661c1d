package import Foundation
import Logging
import PostgresNIO
package import Protocol
import VectortCore

/// Projects on PostgreSQL: the same rules as `SQLiteProjects`. A project is paged by its
/// identity column (`seq`); its preview token is made here (`SQLite` makes it in SQL).
package struct PostgresProjects: ProjectRepository {
    package let writer: PostgresWriter
    package let database: PostgresDatabase

    package init(writer: PostgresWriter, database: PostgresDatabase) {
        self.writer = writer
        self.database = database
    }

    static let exportScope = "Projects.ExportGitHub"

    package func create(user: String, title: String, description: String?, type: String?, now: Date) async throws -> Project {
        let now = Timestamps.string(now)
        return try await writer.write { connection, logger in
            try await PostgresLedger.requireActive(connection, user, logger: logger)
            let id = Identifiers.make("p")
            let token = TokenEncoding.hex(TokenEncoding.randomBytes(16))
            try await connection.run(
                """
                INSERT INTO projects(id, user_id, title, description, type, status, config, created_at, updated_at, preview_token)
                VALUES (\(id), \(user), \(title), \(description), \(type), 'draft', '{}', \(now), \(now), \(token))
                """, logger)
            return try await Self.load(connection, id, owner: nil, logger: logger)
        }
    }

    package func get(_ id: String, owner: String?) async throws -> Project {
        let logger = database.logger
        return try await database.client.withConnection { try await Self.load($0, id, owner: owner, logger: logger) }
    }

    package func list(user: String, limit: Int, after: String?) async throws -> ProjectPage {
        let logger = database.logger
        return try await database.client.withConnection { connection in
            try await PostgresLedger.requireExists(connection, user, logger: logger)
            var cursor: Int64 = 0
            if let after {
                guard
                    let seq = try await connection.first(
                        "SELECT seq FROM projects WHERE id = \(after) AND user_id = \(user)", as: Int64.self, logger)
                else { throw EngineError.invalid("after", "after must be a next_after value from an earlier page") }
                cursor = seq
            }
            var projects: [Project] = []
            for try await row in try await connection.query(
                """
                SELECT id, user_id, title, description, type, status, config, current_version, created_at, updated_at, github
                FROM projects WHERE user_id = \(user) AND seq > \(cursor) ORDER BY seq LIMIT \(limit + 1)
                """, logger: logger
            ).decode((String, String, String, String?, String?, String, String, String?, String, String, String?).self) {
                projects.append(Self.project(row))
            }
            let page = Array(projects.prefix(limit))
            return ProjectPage(projects: page, nextAfter: projects.count > limit ? page.last?.id : nil)
        }
    }

    package func update(_ id: String, owner: String?, title: String?, description: String?, config: String?, now: Date)
        async throws -> Project
    {
        let now = Timestamps.string(now)
        return try await writer.write { connection, logger in
            _ = try await Self.load(connection, id, owner: owner, lock: true, logger: logger)
            try await connection.run(
                """
                UPDATE projects SET title = COALESCE(\(title), title), description = COALESCE(\(description), description),
                    config = COALESCE(\(config), config), updated_at = \(now)
                WHERE id = \(id)
                """, logger)
            return try await Self.load(connection, id, owner: nil, logger: logger)
        }
    }

    package func delete(_ id: String, owner: String?) async throws -> Done {
        try await writer.write { connection, logger in
            let project = try await Self.load(connection, id, owner: owner, lock: true, logger: logger)
            // The running generation holds credits and will record its end on this project.
            guard project.status != .generating else {
                throw EngineError.conflict("project \(id) is generating; delete it when the generation has ended")
            }
            // The contents only this project's versions and sites referenced go with it.
            var hashes: [String] = []
            for try await hash in try await connection.query(
                """
                SELECT f.hash FROM version_files f JOIN versions v ON v.id = f.version_id WHERE v.project_id = \(id)
                UNION SELECT f.hash FROM build_files f JOIN versions v ON v.id = f.version_id WHERE v.project_id = \(id)
                """, logger: logger
            ).decode(String.self) {
                hashes.append(hash)
            }
            try await connection.run("DELETE FROM projects WHERE id = \(id)", logger)
            if !hashes.isEmpty {
                try await connection.run(
                    """
                    DELETE FROM blobs b WHERE b.hash = ANY(\(hashes))
                        AND NOT EXISTS (SELECT 1 FROM version_files f WHERE f.hash = b.hash)
                        AND NOT EXISTS (SELECT 1 FROM build_files f WHERE f.hash = b.hash)
                    """, logger)
            }
            return Done(id: id)
        }
    }

    package func previewTokens(_ ids: [String]) async throws -> [String: String] {
        guard !ids.isEmpty else { return [:] }
        let logger = database.logger
        return try await database.client.withConnection { connection in
            var tokens: [String: String] = [:]
            for try await (id, token) in try await connection.query(
                "SELECT id, preview_token FROM projects WHERE id = ANY(\(ids)) AND preview_token IS NOT NULL", logger: logger
            ).decode((String, String).self) {
                tokens[id] = token
            }
            return tokens
        }
    }

    package func project(previewToken: String) async throws -> (project: String, user: String)? {
        let logger = database.logger
        return try await database.client.withConnection { connection in
            try await connection.first(
                "SELECT id, user_id FROM projects WHERE preview_token = \(previewToken)", as: (String, String).self, logger
            ).map { (project: $0.0, user: $0.1) }
        }
    }

    package func setPreviewToken(_ id: String, owner: String?, token: String) async throws {
        try await writer.write { connection, logger in
            _ = try await Self.load(connection, id, owner: owner, lock: true, logger: logger)
            try await connection.run("UPDATE projects SET preview_token = \(token) WHERE id = \(id)", logger)
        }
    }

    package func recordGitHub(
        _ id: String, owner: String?, export: GitHubExport, key: String?, request: String, result: GitHubExportResult,
        now: Date
    ) async throws -> GitHubExportResult {
        let json = String(decoding: try WireCoding.encoder.encode(export), as: UTF8.self)
        return try await writer.write { connection, logger in
            _ = try await Self.load(connection, id, owner: owner, lock: true, logger: logger)
            return try await PostgresIdempotency.run(
                connection, scope: Self.exportScope, key: key, request: request, now: now, logger: logger
            ) {
                try await connection.run(
                    "UPDATE projects SET github = \(json), updated_at = \(Timestamps.string(now)) WHERE id = \(id)", logger)
                return result
            }
        }
    }

    package func exportReplay(key: String, request: String) async throws -> GitHubExportResult? {
        guard !key.isEmpty, key.utf8.count <= 255 else {
            throw EngineError.invalid("idempotency_key", "idempotency_key must be 1 to 255 bytes")
        }
        let fingerprint = String(decoding: try WireCoding.encoder.encode(request), as: UTF8.self)
        let logger = database.logger
        return try await database.client.withConnection { connection in
            // A claim still being worked on ('' result) is not a result yet.
            guard
                let (stored, result) = try await connection.first(
                    "SELECT request, result FROM idempotency WHERE scope = \(Self.exportScope) AND key = \(key) AND result <> ''",
                    as: (String, String).self, logger)
            else { return nil }
            guard stored == fingerprint else {
                throw EngineError.conflict("idempotency_key \(key) was already used with other parameters")
            }
            return try WireCoding.decoder.decode(GitHubExportResult.self, from: Data(result.utf8))
        }
    }

    // MARK: Inside a transaction

    static func load(_ connection: PostgresConnection, _ id: String, owner: String?, lock: Bool = false, logger: Logger)
        async throws -> Project
    {
        let query: PostgresQuery =
            lock
            ? """
            SELECT id, user_id, title, description, type, status, config, current_version, created_at, updated_at, github
            FROM projects WHERE id = \(id) FOR UPDATE
            """
            : """
            SELECT id, user_id, title, description, type, status, config, current_version, created_at, updated_at, github
            FROM projects WHERE id = \(id)
            """
        guard
            let row = try await connection.first(
                query, as: (String, String, String, String?, String?, String, String, String?, String, String, String?).self,
                logger)
        else { throw EngineError.notFound("project", id) }
        if let owner, owner != row.1 { throw EngineError.notFound("project", id) }
        return project(row)
    }

    static func project(
        _ row: (String, String, String, String?, String?, String, String, String?, String, String, String?)
    ) -> Project {
        let config = (try? WireCoding.decoder.decode([String: JSONValue].self, from: Data(row.6.utf8))) ?? [:]
        return Project(
            id: row.0, user: row.1, title: row.2, description: row.3, type: row.4,
            status: Project.Status(rawValue: row.5) ?? .draft, config: config, currentVersion: row.7, createdAt: row.8,
            updatedAt: row.9, github: row.10.flatMap { try? WireCoding.decoder.decode(GitHubExport.self, from: Data($0.utf8)) })
    }
}
