/// Where a project was last exported to on GitHub.
public struct GitHubExport: Sendable, Codable, Hashable {
    /// `owner/name`.
    public var repo: String
    public var htmlURL: String
    public var commitSHA: String
    public var branch: String

    public init(repo: String, htmlURL: String, commitSHA: String, branch: String) {
        self.repo = repo
        self.htmlURL = htmlURL
        self.commitSHA = commitSHA
        self.branch = branch
    }

    enum CodingKeys: String, CodingKey {
        case repo, branch
        case htmlURL = "html_url"
        case commitSHA = "commit_sha"
    }
}

/// Result of `Projects.ExportGitHub`.
public struct GitHubExportResult: Sendable, Codable, Hashable {
    public var project: String
    public var version: String
    public var repo: String
    public var htmlURL: String
    public var commitSHA: String
    public var branch: String
    /// The repository was created by this export.
    public var createdRepository: Bool
    /// A commit was made; false when the branch already held exactly this version.
    public var committed: Bool
    public var files: Int

    public init(
        project: String, version: String, repo: String, htmlURL: String, commitSHA: String, branch: String,
        createdRepository: Bool, committed: Bool, files: Int
    ) {
        self.project = project
        self.version = version
        self.repo = repo
        self.htmlURL = htmlURL
        self.commitSHA = commitSHA
        self.branch = branch
        self.createdRepository = createdRepository
        self.committed = committed
        self.files = files
    }

    enum CodingKeys: String, CodingKey {
        case project, version, repo, branch, committed, files
        case htmlURL = "html_url"
        case commitSHA = "commit_sha"
        case createdRepository = "created_repository"
    }
}

extension MethodName {
    public static let projectsExportGitHub = "io.vectort.Projects.ExportGitHub"
}
