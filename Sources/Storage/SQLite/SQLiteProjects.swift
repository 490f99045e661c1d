import Foundation
import GRDB
import Protocol
import VectortCore

/// Projects in SQLite.
struct SQLiteProjects: ProjectRepository {
    let writer: LedgerWriter
    let pool: DatabasePool

    func create(user: String, title: String, description: String?, type: String?, now: Date) async throws -> Project {
        let now = Timestamps.string(now)
        return try await writer.write { db in
            try SQLiteUsers.requireActive(db, user)
            let id = Identifiers.make("p")
            try db.cachedStatement(sql: """
                    INSERT INTO projects(id, user_id, title, description, type, status, config, created_at, updated_at, preview_token)
                    VALUES (?, ?, ?, ?, ?, 'draft', '{}', ?, ?, lower(hex(randomblob(16))))
                    """).execute(arguments: [id, user, title, description, type, now, now])
            return try Self.load(db, id, owner: nil)
        }
    }

    func previewTokens(_ ids: [String]) async throws -> [String: String] {
        guard !ids.isEmpty else { return [:] }
        return try await pool.read { db in
            var tokens: [String: String] = [:]
            let marks = Array(repeating: "?", count: ids.count).joined(separator: ",")
            for row in try Row.fetchAll(
                db, sql: "SELECT id, preview_token FROM projects WHERE id IN (\(marks))", arguments: StatementArguments(ids))
            {
                if let token: String = row["preview_token"] { tokens[row["id"]] = token }
            }
            return tokens
        }
    }

    func project(previewToken: String) async throws -> (project: String, user: String)? {
        try await pool.read { db in
            try Row.fetchOne(
                db.cachedStatement(sql: "SELECT id, user_id FROM projects WHERE preview_token = ?"), arguments: [previewToken]
            ).map { (project: $0["id"], user: $0["user_id"]) }
        }
    }

    func setPreviewToken(_ id: String, owner: String?, token: String) async throws {
        try await writer.write { db in
            _ = try Self.load(db, id, owner: owner)
            try db.cachedStatement(sql: "UPDATE projects SET preview_token = ? WHERE id = ?").execute(arguments: [token, id])
        }
    }

    func get(_ id: String, owner: String?) async throws -> Project {
        try await pool.read { db in try Self.load(db, id, owner: owner) }
    }

    func list(user: String, limit: Int, after: String?) async throws -> ProjectPage {
        try await pool.read { db in
            try SQLiteUsers.requireExists(db, user)
            var cursor: Int64 = 0
            if let after {
                guard
                    let rowid = try Int64.fetchOne(
                        db, sql: "SELECT rowid FROM projects WHERE id = ? AND user_id = ?", arguments: [after, user])
                else { throw EngineError.invalid("after", "after must be a next_after value from an earlier page") }
                cursor = rowid
            }
            let ids = try String.fetchAll(db.cachedStatement(sql: "SELECT id FROM projects WHERE user_id = ? AND rowid > ? ORDER BY rowid LIMIT ?"), arguments: [user, cursor, limit + 1])
            let projects = try ids.prefix(limit).map { try Self.load(db, $0, owner: nil) }
            return ProjectPage(projects: projects, nextAfter: ids.count > limit ? projects.last?.id : nil)
        }
    }

    func update(_ id: String, owner: String?, title: String?, description: String?, config: String?, now: Date)
        async throws -> Project
    {
        let now = Timestamps.string(now)
        return try await writer.write { db in
            _ = try Self.load(db, id, owner: owner)
            if let title { try db.cachedStatement(sql: "UPDATE projects SET title = ? WHERE id = ?").execute(arguments: [title, id]) }
            if let description {
                try db.cachedStatement(sql: "UPDATE projects SET description = ? WHERE id = ?").execute(arguments: [description, id])
            }
            if let config {
                try db.cachedStatement(sql: "UPDATE projects SET config = ? WHERE id = ?").execute(arguments: [config, id])
            }
            try db.cachedStatement(sql: "UPDATE projects SET updated_at = ? WHERE id = ?").execute(arguments: [now, id])
            return try Self.load(db, id, owner: nil)
        }
    }

    func delete(_ id: String, owner: String?) async throws -> Done {
        try await writer.write { db in
            let project = try Self.load(db, id, owner: owner)
            // The running generation holds credits and will record its end on this project.
            guard project.status != .generating else {
                throw EngineError.conflict("project \(id) is generating; delete it when the generation has ended")
            }
            try db.cachedStatement(sql: "DELETE FROM projects WHERE id = ?").execute(arguments: [id])
            // Contents no other version (or built site) references go with it.
            try db.execute(sql: """
                DELETE FROM blobs WHERE NOT EXISTS (SELECT 1 FROM version_files f WHERE f.hash = blobs.hash)
                    AND NOT EXISTS (SELECT 1 FROM build_files f WHERE f.hash = blobs.hash)
                """)
            return Done(id: id)
        }
    }

    // MARK: Inside a transaction

    func recordGitHub(
        _ id: String, owner: String?, export: GitHubExport, key: String?, request: String, result: GitHubExportResult,
        now: Date
    ) async throws -> GitHubExportResult {
        let json = String(decoding: try WireCoding.encoder.encode(export), as: UTF8.self)
        return try await writer.write { db in
            _ = try Self.load(db, id, owner: owner)
            return try Idempotency.run(db, scope: Self.exportScope, key: key, request: request, now: now) {
                try db.cachedStatement(sql: "UPDATE projects SET github = ?, updated_at = ? WHERE id = ?")
                    .execute(arguments: [json, Timestamps.string(now), id])
                return result
            }
        }
    }

    func exportReplay(key: String, request: String) async throws -> GitHubExportResult? {
        guard !key.isEmpty, key.utf8.count <= 255 else {
            throw EngineError.invalid("idempotency_key", "idempotency_key must be 1 to 255 bytes")
        }
        let fingerprint = String(decoding: try WireCoding.encoder.encode(request), as: UTF8.self)
        return try await pool.read { db in
            guard
                let row = try Row.fetchOne(
                    db.cachedStatement(sql: "SELECT request, result FROM idempotency WHERE scope = ? AND key = ?"),
                    arguments: [Self.exportScope, key])
            else { return nil }
            guard (row["request"] as String) == fingerprint else {
                throw EngineError.conflict("idempotency_key \(key) was already used with other parameters")
            }
            return try WireCoding.decoder.decode(GitHubExportResult.self, from: Data((row["result"] as String).utf8))
        }
    }

    static let exportScope = "Projects.ExportGitHub"

    static func load(_ db: GRDB.Database, _ id: String, owner: String?) throws -> Project {
        guard
            let row = try Row.fetchOne(db.cachedStatement(sql: """
                    SELECT user_id, title, description, type, status, config, current_version, created_at, updated_at, github
                    FROM projects WHERE id = ?
                    """), arguments: [id])
        else { throw EngineError.notFound("project", id) }
        let user: String = row["user_id"]
        if let owner, owner != user { throw EngineError.notFound("project", id) }
        let config = (try? WireCoding.decoder.decode([String: JSONValue].self, from: Data((row["config"] as String).utf8))) ?? [:]
        return Project(
            id: id, user: user, title: row["title"], description: row["description"], type: row["type"],
            status: Project.Status(rawValue: row["status"]) ?? .draft, config: config,
            currentVersion: row["current_version"], createdAt: row["created_at"], updatedAt: row["updated_at"],
            github: (row["github"] as String?).flatMap { try? WireCoding.decoder.decode(GitHubExport.self, from: Data($0.utf8)) })
    }
}
