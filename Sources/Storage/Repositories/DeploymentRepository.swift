package import Foundation
package import Protocol

/// Deploy jobs, persisted after every transition so a restart resumes each where it was.
package protocol DeploymentRepository: Sendable {
    /// A new queued job, or the user's job with the same idempotency key (`Conflict` when it
    /// was asked with another project, version or platform).
    func create(_ request: DeploymentCreate, now: Date) async throws -> (deployment: Deployment, existing: Bool)
    /// Stores a transition of a job that is not terminal yet; returns the job as stored. A job
    /// already terminal (cancelled meanwhile) is returned unchanged.
    func save(_ update: DeploymentUpdate, now: Date) async throws -> Deployment
    func get(_ id: String, user: String?) async throws -> DeploymentRecord
    func list(user: String?, project: String?, state: DeploymentState?, limit: Int, after: String?) async throws
        -> DeploymentList
    /// Jobs not terminal whose next step is due at `now`, soonest first.
    func due(at now: Date, limit: Int) async throws -> [DeploymentRecord]
    /// Jobs not terminal.
    func activeCount() async throws -> Int
    /// Makes every job not terminal due at `now`: at start, nothing of a previous process is
    /// still in flight, so what it had pushed back (a create it never finished) resumes at once.
    /// Returns how many.
    func resumeAll(now: Date) async throws -> Int
}

package struct DeploymentCreate: Sendable {
    package var user: String
    package var project: String
    package var version: String
    package var platform: String
    package var settings: [String: JSONValue]
    package var idempotencyKey: String?

    package init(
        user: String, project: String, version: String, platform: String, settings: [String: JSONValue],
        idempotencyKey: String?
    ) {
        self.user = user
        self.project = project
        self.version = version
        self.platform = platform
        self.settings = settings
        self.idempotencyKey = idempotencyKey
    }
}

package struct DeploymentUpdate: Sendable {
    package var id: String
    package var state: DeploymentState
    package var platformID: String?
    package var url: String?
    package var reason: String?
    package var lastProgress: Date
    package var polls: Int
    /// When the runner looks at the job again; nil for a terminal job.
    package var nextStepAt: Date?
    /// The lease the poller holds on the job (`DeploymentRecord.lease`): a save under a lease
    /// another node has since taken is refused (`DeploymentLeaseLost`). Nil saves unfenced
    /// (a cancel; the SQLite backend, where one daemon owns every job).
    package var lease: Int64?

    package init(
        id: String, state: DeploymentState, platformID: String?, url: String?, reason: String?, lastProgress: Date,
        polls: Int, nextStepAt: Date?, lease: Int64? = nil
    ) {
        self.lease = lease
        self.id = id
        self.state = state
        self.platformID = platformID
        self.url = url
        self.reason = reason
        self.lastProgress = lastProgress
        self.polls = polls
        self.nextStepAt = nextStepAt
    }
}

package struct DeploymentRecord: Sendable {
    package var deployment: Deployment
    package var settings: [String: JSONValue]
    package var lastProgress: Date
    package var polls: Int
    /// The fencing token of this node's lease on the job, when `due` leased it to this node.
    package var lease: Int64?

    package init(deployment: Deployment, settings: [String: JSONValue], lastProgress: Date, polls: Int, lease: Int64? = nil) {
        self.lease = lease
        self.deployment = deployment
        self.settings = settings
        self.lastProgress = lastProgress
        self.polls = polls
    }
}

/// A job's lease moved to another node (this node's expired): the job was not changed, and this
/// node must not go on with it (no platform call).
package struct DeploymentLeaseLost: Error, CustomStringConvertible {
    package let deployment: String
    package var description: String { "the lease on deploy job \(deployment) moved to another node" }
}
