package import Foundation
public import Protocol
import VectortCore
package import Storage

/// Projects of users. `owner`, when given, must own the project: a client acting for a user
/// sees that user's projects only, and another user's project is simply not found.
public struct Projects: Sendable {
    package let repository: any ProjectRepository
    let now: @Sendable () -> Date

    package init(repository: any ProjectRepository, now: @escaping @Sendable () -> Date = { Date() }) {
        self.repository = repository
        self.now = now
    }

    public func create(user: String, title: String, description: String? = nil, type: String? = nil) async throws
        -> Project
    {
        try EngineError.refuseNUL(["user": user, "title": title, "description": description, "type": type])
        let title = try Self.validTitle(title)
        try Self.validate(description: description, type: type)
        return try await repository.create(user: user, title: title, description: description, type: type, now: now())
    }

    /// The preview tokens of these projects (128 random bits each, never the id), by project id.
    public func previewTokens(_ ids: [String]) async throws -> [String: String] {
        try await repository.previewTokens(ids)
    }

    /// The project and its owner behind a preview token; nil for an unknown (or rotated) one.
    public func project(previewToken token: String) async throws -> (project: String, user: String)? {
        guard token.count == 32, token.allSatisfy(\.isHexDigit) else { return nil }
        return try await repository.project(previewToken: token.lowercased())
    }

    /// A new preview token for the project; the old preview URL stops working at once.
    public func rotatePreviewToken(_ id: String, owner: String?) async throws -> String {
        try EngineError.refuseNUL(["project": id, "owner": owner])
        let token = TokenEncoding.hex(TokenEncoding.randomBytes(16))
        try await repository.setPreviewToken(id, owner: owner, token: token)
        return token
    }

    public func get(_ id: String, owner: String?) async throws -> Project {
        try await repository.get(id, owner: owner)
    }

    /// Records where the project was exported to on GitHub (and the result under its key).
    func recordGitHub(
        _ id: String, owner: String?, _ export: GitHubExport, key: String?, request: String, result: GitHubExportResult
    ) async throws -> GitHubExportResult {
        try await repository.recordGitHub(
            id, owner: owner, export: export, key: key, request: request, result: result, now: now())
    }

    func exportReplay(key: String, request: String) async throws -> GitHubExportResult? {
        try await repository.exportReplay(key: key, request: request)
    }

    public func list(user: String, limit: Int = 50, after: String? = nil) async throws -> ProjectPage {
        guard (1...500).contains(limit) else { throw EngineError.invalid("limit", "limit must be 1 to 500") }
        return try await repository.list(user: user, limit: limit, after: after)
    }

    public func update(
        _ id: String, owner: String?, title: String? = nil, description: String? = nil,
        config: [String: JSONValue]? = nil
    ) async throws -> Project {
        try EngineError.refuseNUL(["project": id, "owner": owner, "title": title, "description": description])
        let title = try title.map(Self.validTitle)
        try Self.validate(description: description, type: nil)
        let configText = try config.map { String(decoding: try WireCoding.encoder.encode($0), as: UTF8.self) }
        if let configText, configText.utf8.count > 64 * 1024 {
            throw EngineError.invalid("config", "config is larger than 64 KiB")
        }
        return try await repository.update(
            id, owner: owner, title: title, description: description, config: configText, now: now())
    }

    /// Deletes the project with all its versions.
    public func delete(_ id: String, owner: String?) async throws -> Done {
        try await repository.delete(id, owner: owner)
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
