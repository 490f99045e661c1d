package import Foundation
public import Protocol
public import VectortCore
package import Storage
package import Build

/// Immutable file sets of a project. Storing one makes it the project's current version.
public struct Versions: Sendable {
    package let repository: any VersionRepository
    public let limits: VersionLimits
    /// Builds each stored version; nil stores versions without a build.
    package let builder: SiteBuilder?
    let now: @Sendable () -> Date

    package init(
        repository: any VersionRepository, limits: VersionLimits = VersionLimits(), builder: SiteBuilder? = nil,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.repository = repository
        self.limits = limits
        self.builder = builder
        self.now = now
    }

    /// Where a stored version came from.
    public struct Origin: Sendable, Equatable {
        public var generation: String?
        public var provider: String?
        public var model: String?

        public init(generation: String? = nil, provider: String? = nil, model: String? = nil) {
            self.generation = generation
            self.provider = provider
            self.model = model
        }
    }

    public func store(project: String, owner: String? = nil, files: [ProjectFile], origin: Origin = Origin())
        async throws -> VersionSummary
    {
        try PathRules.validate(files, limits: limits)
        // An imported version is stored whether it builds or not; its build says which.
        var build: VersionBuild?
        if let builder { build = VersionBuild(try await builder.build(files)) }
        return try await repository.store(
            project: project, owner: owner, files: files,
            origin: VersionOrigin(generation: origin.generation, provider: origin.provider, model: origin.model),
            build: build, now: now())
    }

    /// What building a version (default: the current one) produced.
    public func build(project: String, owner: String?, version: String? = nil) async throws -> ProjectBuild {
        try await repository.build(project: project, owner: owner, version: version)
    }

    /// Builds a version that has no build (stored before builds existed, or while they were
    /// off) and stores the result; a version that has one keeps it.
    public func buildNow(project: String, owner: String?, version: String? = nil) async throws -> ProjectBuild {
        let existing = try await repository.build(project: project, owner: owner, version: version)
        guard existing.status == .none || existing.status == .skipped, let builder, builder.settings.enabled else {
            return existing
        }
        let code = try await repository.code(project: project, owner: owner, version: existing.version, path: nil)
        let built = try await builder.build(code.files)
        return try await repository.storeBuild(
            project: project, owner: owner, version: existing.version, build: VersionBuild(built), now: now())
    }

    /// A new version identical to `version` (files and build), made current: no provider call,
    /// no charge. `NothingChanged` when `version` is the current one.
    public func restore(project: String, owner: String?, version: String) async throws -> VersionSummary {
        try await repository.restore(project: project, owner: owner, version: version, now: now())
    }

    /// How version `to` differs from version `from`: each added, deleted or changed file, with a
    /// unified diff for text, each diff at most `diffLimit` bytes.
    public func diff(project: String, owner: String?, from: String, to: String, diffLimit: Int = 256 * 1024) async throws
        -> VersionDiff
    {
        let old = try await repository.code(project: project, owner: owner, version: from, path: nil)
        let new = try await repository.code(project: project, owner: owner, version: to, path: nil)
        let before = Dictionary(old.files.map { ($0.path, $0) }, uniquingKeysWith: { $1 })
        let after = Dictionary(new.files.map { ($0.path, $0) }, uniquingKeysWith: { $1 })
        var files: [VersionDiff.File] = []
        for path in Set(before.keys).union(after.keys).sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
            let a = before[path], b = after[path]
            let status: VersionDiff.File.Status = a == nil ? .added : (b == nil ? .deleted : .changed)
            if let a, let b, a.bytes == b.bytes { continue }
            if a?.isBinary == true || b?.isBinary == true {
                files.append(VersionDiff.File(path: path, status: status, binary: true))
                continue
            }
            let (text, truncated) = UnifiedDiff.render(
                path: path, old: a?.contents ?? "", new: b?.contents ?? "", oldExists: a != nil, newExists: b != nil,
                limit: diffLimit)
            files.append(VersionDiff.File(path: path, status: status, diff: text, truncated: truncated ? true : nil))
        }
        return VersionDiff(project: project, from: old.version, to: new.version, files: files)
    }

    /// The built site of a version (default: the current one), or its file at `path`.
    public func builtCode(project: String, owner: String?, version: String? = nil, path: String? = nil) async throws
        -> ProjectCode
    {
        try await repository.builtCode(project: project, owner: owner, version: version, path: path)
    }

    public func list(project: String, owner: String?) async throws -> VersionList {
        try await repository.list(project: project, owner: owner)
    }

    /// All files of a version (default: the current one), or the one at `path`.
    public func code(project: String, owner: String?, version: String? = nil, path: String? = nil) async throws
        -> ProjectCode
    {
        try await repository.code(project: project, owner: owner, version: version, path: path)
    }
}

extension VersionBuild {
    package init(_ site: SiteBuild) {
        let (seconds, attoseconds) = site.duration.components
        self.init(
            status: site.status, durationMs: Int(seconds * 1000 + attoseconds / 1_000_000_000_000_000),
            errors: site.errors, files: site.files)
    }
}
