/// Result of `Projects.Diff`: how version `to` differs from version `from`, file by file.
public struct VersionDiff: Sendable, Codable, Hashable {
    public struct File: Sendable, Codable, Hashable {
        public enum Status: String, Sendable, Codable, Hashable {
            case added, deleted, changed
        }

        public var path: String
        public var status: Status
        /// A unified diff with 3 lines of context, for text files.
        public var diff: String?
        /// The diff was cut at `projects.diff_max_bytes`.
        public var truncated: Bool?
        /// One side or both are binary: no diff.
        public var binary: Bool?

        public init(path: String, status: Status, diff: String? = nil, truncated: Bool? = nil, binary: Bool? = nil) {
            self.path = path
            self.status = status
            self.diff = diff
            self.truncated = truncated
            self.binary = binary
        }
    }

    public var project: String
    public var from: String
    public var to: String
    /// Files that differ, in path order (byte order).
    public var files: [File]

    public init(project: String, from: String, to: String, files: [File]) {
        self.project = project
        self.from = from
        self.to = to
        self.files = files
    }
}
