package import Foundation
public import Protocol
public import VectortCore
package import Storage

/// Immutable file sets of a project. Storing one makes it the project's current version.
public struct Versions: Sendable {
    package let repository: any VersionRepository
    public let limits: VersionLimits
    let now: @Sendable () -> Date

    package init(
        repository: any VersionRepository, limits: VersionLimits = VersionLimits(),
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.repository = repository
        self.limits = limits
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
        return try await repository.store(
            project: project, owner: owner, files: files,
            origin: VersionOrigin(generation: origin.generation, provider: origin.provider, model: origin.model),
            now: now())
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
