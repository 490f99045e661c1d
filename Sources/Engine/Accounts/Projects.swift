package import Foundation
package import GRDB
public import Protocol
import VectortCore
import Generation
package import Storage

/// Projects of users. `owner`, when given, must own the project: a client acting for a user
/// sees that user's projects only, and another user's project is simply not found.
public struct Projects: Sendable {
    package let writer: LedgerWriter
    package let pool: DatabasePool
    let now: @Sendable () -> Date

    package init(
writer: LedgerWriter, pool: DatabasePool, now: @escaping @Sendable () -> Date = { Date() }) {
        self.writer = writer
        self.pool = pool
        self.now = now
    }

    public func create(user: String, title: String, description: String? = nil, type: String? = nil) async throws
        -> Project
    {
        let title = try Self.validTitle(title)
        try Self.validate(description: description, type: type)
        let now = Timestamps.string(now())
        return try await writer.write { db in
            try Users.requireActive(db, user)
            let id = Identifiers.make("p")
            try db.cachedStatement(sql: """
                    INSERT INTO projects(id, user_id, title, description, type, status, config, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, 'draft', '{}', ?, ?)
                    """).execute(arguments: [id, user, title, description, type, now, now])
            return try Self.load(db, id, owner: nil)
        }
    }

    public func get(_ id: String, owner: String?) async throws -> Project {
        try await pool.read { db in try Self.load(db, id, owner: owner) }
    }

    public func list(user: String, limit: Int = 50, after: String? = nil) async throws -> ProjectPage {
        guard (1...500).contains(limit) else { throw EngineError.invalid("limit", "limit must be 1 to 500") }
        return try await pool.read { db in
            try Users.requireExists(db, user)
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

    public func update(
        _ id: String, owner: String?, title: String? = nil, description: String? = nil,
        config: [String: JSONValue]? = nil
    ) async throws -> Project {
        let title = try title.map(Self.validTitle)
        try Self.validate(description: description, type: nil)
        let configText = try config.map { String(decoding: try WireCoding.encoder.encode($0), as: UTF8.self) }
        if let configText, configText.utf8.count > 64 * 1024 {
            throw EngineError.invalid("config", "config is larger than 64 KiB")
        }
        let now = Timestamps.string(now())
        return try await writer.write { db in
            _ = try Self.load(db, id, owner: owner)
            if let title { try db.cachedStatement(sql: "UPDATE projects SET title = ? WHERE id = ?").execute(arguments: [title, id]) }
            if let description {
                try db.cachedStatement(sql: "UPDATE projects SET description = ? WHERE id = ?").execute(arguments: [description, id])
            }
            if let configText {
                try db.cachedStatement(sql: "UPDATE projects SET config = ? WHERE id = ?").execute(arguments: [configText, id])
            }
            try db.cachedStatement(sql: "UPDATE projects SET updated_at = ? WHERE id = ?").execute(arguments: [now, id])
            return try Self.load(db, id, owner: nil)
        }
    }

    /// Deletes the project with all its versions.
    public func delete(_ id: String, owner: String?) async throws -> Done {
        try await writer.write { db in
            let project = try Self.load(db, id, owner: owner)
            // The running generation holds credits and will record its end on this project.
            guard project.status != .generating else {
                throw EngineError.conflict("project \(id) is generating; delete it when the generation has ended")
            }
            try db.cachedStatement(sql: "DELETE FROM projects WHERE id = ?").execute(arguments: [id])
            return Done(id: id)
        }
    }

    static func load(_ db: GRDB.Database, _ id: String, owner: String?) throws -> Project {
        guard
            let row = try Row.fetchOne(db.cachedStatement(sql: """
                    SELECT user_id, title, description, type, status, config, current_version, created_at, updated_at
                    FROM projects WHERE id = ?
                    """), arguments: [id])
        else { throw EngineError.notFound("project", id) }
        let user: String = row["user_id"]
        if let owner, owner != user { throw EngineError.notFound("project", id) }
        let config = (try? WireCoding.decoder.decode([String: JSONValue].self, from: Data((row["config"] as String).utf8))) ?? [:]
        return Project(
            id: id, user: user, title: row["title"], description: row["description"], type: row["type"],
            status: Project.Status(rawValue: row["status"]) ?? .draft, config: config,
            currentVersion: row["current_version"], createdAt: row["created_at"], updatedAt: row["updated_at"])
    }

    static func validTitle(_ title: String) throws -> String {
        let trimmed = title.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, trimmed.count <= 200 else {
            throw EngineError.invalid("title", "title must be 1 to 200 characters")
        }
        return trimmed
    }

    static func validate(description: String?, type: String?) throws {
        if let description, description.count > 10_000 {
            throw EngineError.invalid("description", "description is longer than 10000 characters")
        }
        if let type, type.isEmpty || type.count > 50 {
            throw EngineError.invalid("type", "type must be 1 to 50 characters")
        }
    }
}
