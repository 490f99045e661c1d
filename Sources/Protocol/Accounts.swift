/// A user of the platform (`io.vectort.Users`).
public struct User: Sendable, Codable, Hashable {
    public enum Status: String, Sendable, Codable, Hashable {
        case active, disabled
    }

    public var id: String
    public var email: String
    public var fullName: String?
    public var status: Status
    /// RFC 3339 UTC.
    public var createdAt: String

    public init(id: String, email: String, fullName: String?, status: Status, createdAt: String) {
        self.id = id
        self.email = email
        self.fullName = fullName
        self.status = status
        self.createdAt = createdAt
    }

    enum CodingKeys: String, CodingKey {
        case id, email, status
        case fullName = "full_name"
        case createdAt = "created_at"
    }
}

/// One page of users, oldest first; pass `next_after` as `after` for the next page.
public struct UserPage: Sendable, Codable, Hashable {
    public var users: [User]
    public var nextAfter: String?

    public init(users: [User], nextAfter: String?) {
        self.users = users
        self.nextAfter = nextAfter
    }

    enum CodingKeys: String, CodingKey {
        case users
        case nextAfter = "next_after"
    }
}

/// A project: what a user asks to have built (`io.vectort.Projects`).
public struct Project: Sendable, Codable, Hashable {
    public enum Status: String, Sendable, Codable, Hashable, CaseIterable {
        case draft, generating, completed, failed
    }

    public var id: String
    public var user: String
    public var title: String
    public var description: String?
    public var type: String?
    public var status: Status
    public var config: [String: JSONValue]
    public var currentVersion: String?
    public var createdAt: String
    public var updatedAt: String

    public init(
        id: String, user: String, title: String, description: String?, type: String?, status: Status,
        config: [String: JSONValue], currentVersion: String?, createdAt: String, updatedAt: String
    ) {
        self.id = id
        self.user = user
        self.title = title
        self.description = description
        self.type = type
        self.status = status
        self.config = config
        self.currentVersion = currentVersion
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    enum CodingKeys: String, CodingKey {
        case id, user, title, description, type, status, config
        case currentVersion = "current_version"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }
}

public struct ProjectPage: Sendable, Codable, Hashable {
    public var projects: [Project]
    public var nextAfter: String?

    public init(projects: [Project], nextAfter: String?) {
        self.projects = projects
        self.nextAfter = nextAfter
    }

    enum CodingKeys: String, CodingKey {
        case projects
        case nextAfter = "next_after"
    }
}

/// An immutable set of files of a project, with where it came from.
public struct VersionSummary: Sendable, Codable, Hashable {
    public var id: String
    public var project: String
    public var number: Int
    public var generation: String?
    public var provider: String?
    public var model: String?
    public var files: Int
    public var bytes: Int
    public var createdAt: String
    public var current: Bool

    public init(
        id: String, project: String, number: Int, generation: String?, provider: String?, model: String?,
        files: Int, bytes: Int, createdAt: String, current: Bool
    ) {
        self.id = id
        self.project = project
        self.number = number
        self.generation = generation
        self.provider = provider
        self.model = model
        self.files = files
        self.bytes = bytes
        self.createdAt = createdAt
        self.current = current
    }

    enum CodingKeys: String, CodingKey {
        case id, project, number, generation, provider, model, files, bytes, current
        case createdAt = "created_at"
    }
}

public struct VersionList: Sendable, Codable, Hashable {
    public var project: String
    public var versions: [VersionSummary]

    public init(project: String, versions: [VersionSummary]) {
        self.project = project
        self.versions = versions
    }
}

/// One file of a version; contents are UTF-8 text.
public struct ProjectFile: Sendable, Codable, Hashable {
    public var path: String
    public var contents: String

    public init(path: String, contents: String) {
        self.path = path
        self.contents = contents
    }
}

/// Result of `Projects.GetCode`.
public struct ProjectCode: Sendable, Codable, Hashable {
    public var project: String
    public var version: String
    public var files: [ProjectFile]

    public init(project: String, version: String, files: [ProjectFile]) {
        self.project = project
        self.version = version
        self.files = files
    }
}

/// Result of `Projects.ExportZip`: the archive, base64-encoded.
public struct ZipExport: Sendable, Codable, Hashable {
    public var project: String
    public var version: String
    public var filename: String
    public var bytes: Int
    public var zipBase64: String

    public init(project: String, version: String, filename: String, bytes: Int, zipBase64: String) {
        self.project = project
        self.version = version
        self.filename = filename
        self.bytes = bytes
        self.zipBase64 = zipBase64
    }

    enum CodingKeys: String, CodingKey {
        case project, version, filename, bytes
        case zipBase64 = "zip_base64"
    }
}

/// Result of `Projects.Delete` and `Users.Disable`.
public struct Done: Sendable, Codable, Hashable {
    public var id: String

    public init(id: String) { self.id = id }
}
