public import Foundation

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
    /// Where the project was last exported to on GitHub (an addition within version 1).
    public var github: GitHubExport?

    public init(
        id: String, user: String, title: String, description: String?, type: String?, status: Status,
        config: [String: JSONValue], currentVersion: String?, createdAt: String, updatedAt: String,
        github: GitHubExport? = nil
    ) {
        self.github = github
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
        case id, user, title, description, type, status, config, github
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
    /// The version this one was made from (a restored one; an edited one); absent when it was
    /// made from nothing (an addition within version 1).
    public var baseVersion: String?
    /// The first 200 characters of the prompt that generated it (an addition within version 1).
    public var prompt: String?
    /// How many files differ from `base_version`; absent without a base.
    public var changes: FileChangeCounts?

    public init(
        id: String, project: String, number: Int, generation: String?, provider: String?, model: String?,
        files: Int, bytes: Int, createdAt: String, current: Bool, baseVersion: String? = nil, prompt: String? = nil,
        changes: FileChangeCounts? = nil
    ) {
        self.changes = changes
        self.baseVersion = baseVersion
        self.prompt = prompt
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
        case id, project, number, generation, provider, model, files, bytes, current, prompt, changes
        case createdAt = "created_at"
        case baseVersion = "base_version"
    }
}

/// How many files a version changed, added and deleted against its base.
public struct FileChangeCounts: Sendable, Codable, Hashable {
    public var changed: Int
    public var added: Int
    public var deleted: Int

    public init(changed: Int, added: Int, deleted: Int) {
        self.changed = changed
        self.added = added
        self.deleted = deleted
    }
}

/// The paths a version changed, added and deleted against its base, each sorted.
public struct FileChanges: Sendable, Codable, Hashable {
    public var changed: [String]
    public var added: [String]
    public var deleted: [String]

    public init(changed: [String] = [], added: [String] = [], deleted: [String] = []) {
        self.changed = changed
        self.added = added
        self.deleted = deleted
    }

    public var isEmpty: Bool { changed.isEmpty && added.isEmpty && deleted.isEmpty }
    public var counts: FileChangeCounts { FileChangeCounts(changed: changed.count, added: added.count, deleted: deleted.count) }
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
/// One file of a version. A file whose bytes are UTF-8 is text (`contents`); any other is
/// binary (`binary`, with `contents` empty) and travels as `contents_base64`.
public struct ProjectFile: Sendable, Codable, Hashable {
    public var path: String
    /// The text of a text file (it may hold U+0000); empty for a binary file.
    public var contents: String
    /// The bytes of a file that is not UTF-8; nil for a text file.
    public var binary: [UInt8]?

    public init(path: String, contents: String) {
        self.path = path
        self.contents = contents
        self.binary = nil
    }

    /// Text when `bytes` are UTF-8, else binary.
    public init(path: String, bytes: some Collection<UInt8>) {
        self.path = path
        if let text = String(validating: bytes, as: UTF8.self) {
            contents = text
            binary = nil
        } else {
            contents = ""
            binary = Array(bytes)
        }
    }

    public var isBinary: Bool { binary != nil }

    /// The file's size in bytes.
    public var byteCount: Int { binary?.count ?? contents.utf8.count }

    /// The file's bytes.
    public var bytes: [UInt8] { binary ?? Array(contents.utf8) }

    /// The file's bytes as `Data`, for storing and writing.
    public var data: Data { binary.map { Data($0) } ?? Data(contents.utf8) }

    private enum CodingKeys: String, CodingKey {
        case path, contents
        case contentsBase64 = "contents_base64"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        path = try container.decode(String.self, forKey: .path)
        if let encoded = try container.decodeIfPresent(String.self, forKey: .contentsBase64) {
            guard let data = Data(base64Encoded: encoded) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .contentsBase64, in: container, debugDescription: "contents_base64 is not base64")
            }
            contents = ""
            binary = Array(data)
        } else {
            contents = try container.decode(String.self, forKey: .contents)
            binary = nil
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(path, forKey: .path)
        if let binary {
            try container.encode(Data(binary).base64EncodedString(), forKey: .contentsBase64)
        } else {
            try container.encode(contents, forKey: .contents)
        }
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

/// A user's own account on a platform (`Users.ConnectAccount`); its token is never shown.
public struct ConnectedAccount: Sendable, Codable, Hashable {
    public var platform: String
    /// The platform's name for the account (GitHub login, Vercel username, …).
    public var account: String
    public var connectedAt: String
    /// When the platform last accepted the token.
    public var checkedAt: String

    public init(platform: String, account: String, connectedAt: String, checkedAt: String) {
        self.platform = platform
        self.account = account
        self.connectedAt = connectedAt
        self.checkedAt = checkedAt
    }

    enum CodingKeys: String, CodingKey {
        case platform, account
        case connectedAt = "connected_at"
        case checkedAt = "checked_at"
    }
}

/// `Users.ListAccounts`: the user's connected accounts by platform name.
public struct ConnectedAccountList: Sendable, Codable, Hashable {
    public var accounts: [ConnectedAccount]

    public init(accounts: [ConnectedAccount]) {
        self.accounts = accounts
    }
}
