/// What building a version produced (`Projects.GetBuild`, `Projects.Build`).
public struct ProjectBuild: Sendable, Codable, Hashable {
    public enum Status: String, Sendable, Codable, Hashable {
        /// The version built; `files` is the static site.
        case ok
        /// It did not build; `errors` say why.
        case failed
        /// Builds are off (`build.enabled: false`), or the version was stored while they were.
        case skipped
        /// The version has no build (stored before builds existed).
        case none
    }

    /// One file of the built site.
    public struct File: Sendable, Codable, Hashable {
        public var path: String
        public var bytes: Int

        public init(path: String, bytes: Int) {
            self.path = path
            self.bytes = bytes
        }
    }

    public var project: String
    public var version: String
    public var status: Status
    public var durationMs: Int?
    /// Build errors as issues with `rule: "build"` (or `entry_point`), 1-based line and column.
    public var errors: [GenerationIssue]
    public var files: [File]
    public var createdAt: String?

    public init(
        project: String, version: String, status: Status, durationMs: Int? = nil, errors: [GenerationIssue] = [],
        files: [File] = [], createdAt: String? = nil
    ) {
        self.project = project
        self.version = version
        self.status = status
        self.durationMs = durationMs
        self.errors = errors
        self.files = files
        self.createdAt = createdAt
    }

    enum CodingKeys: String, CodingKey {
        case project, version, status, errors, files
        case durationMs = "duration_ms"
        case createdAt = "created_at"
    }
}
