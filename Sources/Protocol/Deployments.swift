/// Where a deploy job stands. Terminal: `live`, `failed`, `cancelled`.
public enum DeploymentState: String, Sendable, Codable, Hashable, CaseIterable {
    case queued, exporting, uploading, building, live, failed, cancelled

    public var isTerminal: Bool { self == .live || self == .failed || self == .cancelled }
}

/// A deploy job: a version of a project going live on a platform.
public struct Deployment: Sendable, Codable, Hashable {
    public var id: String
    public var project: String
    public var user: String
    public var version: String
    public var platform: String
    public var state: DeploymentState
    /// The platform's id of the deployment, once created.
    public var platformID: String?
    /// The live URL, once `live`.
    public var url: String?
    /// Why it failed: the platform's error, `stuck`, `deadline_exceeded`, …
    public var reason: String?
    public var createdAt: String
    public var updatedAt: String
    public var finishedAt: String?

    public init(
        id: String, project: String, user: String, version: String, platform: String, state: DeploymentState,
        platformID: String? = nil, url: String? = nil, reason: String? = nil, createdAt: String, updatedAt: String,
        finishedAt: String? = nil
    ) {
        self.id = id
        self.project = project
        self.user = user
        self.version = version
        self.platform = platform
        self.state = state
        self.platformID = platformID
        self.url = url
        self.reason = reason
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.finishedAt = finishedAt
    }

    enum CodingKeys: String, CodingKey {
        case id, project, user, version, platform, state, url, reason
        case platformID = "platform_id"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case finishedAt = "finished_at"
    }
}

public struct DeploymentList: Sendable, Codable, Hashable {
    public var deployments: [Deployment]
    public var nextAfter: String?

    public init(deployments: [Deployment], nextAfter: String?) {
        self.deployments = deployments
        self.nextAfter = nextAfter
    }

    enum CodingKeys: String, CodingKey {
        case deployments
        case nextAfter = "next_after"
    }
}

/// One platform as `Deployments.Platforms` shows it.
public struct PlatformInfo: Sendable, Codable, Hashable {
    public var name: String
    public var configured: Bool
    /// What it needs to be configured, and what it deploys.
    public var needs: String

    public init(name: String, configured: Bool, needs: String) {
        self.name = name
        self.configured = configured
        self.needs = needs
    }
}

public struct PlatformList: Sendable, Codable, Hashable {
    public var platforms: [PlatformInfo]

    public init(platforms: [PlatformInfo]) { self.platforms = platforms }
}

extension MethodName {
    public static let deploymentsInterface = "io.vectort.Deployments"
    public static let deploymentsPlatforms = "io.vectort.Deployments.Platforms"
    public static let deploymentsStart = "io.vectort.Deployments.Start"
    public static let deploymentsGet = "io.vectort.Deployments.Get"
    public static let deploymentsList = "io.vectort.Deployments.List"
    public static let deploymentsCancel = "io.vectort.Deployments.Cancel"
    public static let deploymentsWatch = "io.vectort.Deployments.Watch"
}
