package import Foundation
package import Protocol
import VectortCore

// The storage seam: what the engine asks of a database, one call per transaction it needs.
// Nothing here names a backend's types, so a second backend fits behind the same protocols.
//
// Every write is one transaction, all or nothing, and returns once it is durable. Calls that
// span records (a user and its signup grant, a generation's start, end or failure with its
// hold and version) are single calls for that reason: the money guarantees are the backend's
// transaction, not a sequence of calls. Inputs arrive validated; a backend throws the
// `EngineError`s that need the stored rows (not found, conflicts, insufficient credits, an
// unknown page cursor, a reused idempotency key) and checks an idempotency key's length where
// it looks the key up (a generation's after its project was found), so that which of two
// errors a call gets stays what it always was. Times come from the engine's clock as `now`.
// Ids of new rows are the backend's to make, except a generation's, which the pipeline names
// before its record exists.

/// A backend: its repositories and the lifetime of whatever runs its writes.
package protocol StorageBackend: Sendable {
    var users: any UserRepository { get }
    var projects: any ProjectRepository { get }
    var versions: any VersionRepository { get }
    var ledger: any LedgerRepository { get }
    var generations: any GenerationRepository { get }
    var payments: any PaymentRepository { get }
    var deployments: any DeploymentRepository { get }
    var accounts: any AccountRepository { get }
    /// Runs the backend's writes until `stop()`; writes asked for before it wait.
    func run() async
    /// Refuses new writes; `run()` returns once every queued one is answered.
    func stop()
    /// One round trip, for health checks.
    func ping() async throws
    /// The backend, and on a shared database this node and the live ones; reads no database.
    func describe() -> ServiceInfo.Storage
    /// On a shared database, stores `document` (this node's providers as JSON) under this
    /// node for the others to read; nothing where the database is this node's alone.
    func publishProviders(_ document: String) async throws
    /// On a shared database, every node's last published providers, this node's included;
    /// nil where the database is this node's alone.
    func publishedProviders() async throws -> [PublishedProviders]?
}

/// A node's providers as it last published them in the shared database.
package struct PublishedProviders: Sendable, Equatable {
    package var node: String
    /// Whether its heartbeat is live.
    package var live: Bool
    package var publishedAt: Date?
    /// The JSON it published (a `ProviderList`); nil before its first publication.
    package var document: String?

    package init(node: String, live: Bool, publishedAt: Date?, document: String?) {
        self.node = node
        self.live = live
        self.publishedAt = publishedAt
        self.document = document
    }
}

package protocol UserRepository: Sendable {
    /// A new active user and, when `freeCredits` > 0, its signup grant of free credits (exactly
    /// once, in the same transaction). `emailKey` is unique among users.
    func create(
        email: String, emailKey: String, fullName: String?, passwordHash: String?, freeCredits: Int, now: Date
    ) async throws -> User
    func get(_ id: String) async throws -> User
    /// Users in creation order, after the user `after` (a `nextAfter` of an earlier page).
    func list(limit: Int, after: String?) async throws -> UserPage
    func disable(_ id: String) async throws -> User
    /// The stored password hash; nil when the user has none or does not exist.
    func passwordHash(user id: String) async throws -> String?
    /// The user with this email key and their password hash, if any.
    func find(emailKey: String) async throws -> (user: User, passwordHash: String?)?
    /// Replaces the password hash; `revokeSessionsAt` also voids every session issued before then.
    func setPasswordHash(user id: String, _ hash: String?, revokeSessionsAt: Date?) async throws
    /// What decides whether the user's sessions count: the user, the time before which its
    /// sessions are void, its revoked sessions (not yet expired). Nil for an unknown user.
    func sessionState(user id: String) async throws -> (user: User, sessionsAfter: Date?, revoked: Set<String>)?
    /// Revokes one session until it expires; expired revocations are swept at the same time.
    func revokeSession(user id: String, session: String, expiresAt: Date, now: Date) async throws
    /// Stores a single-use token's hash (`purpose`: reset or verify); expired ones are swept.
    func issueToken(user id: String, purpose: String, hash: String, expiresAt: Date, now: Date) async throws
    /// Uses the token if it is unused and unexpired: returns its user, and for `reset` sets the
    /// new password hash and voids the user's sessions, for `verify` marks the email verified,
    /// in the same transaction. Nil for anything else.
    func consumeToken(hash: String, purpose: String, passwordHash: String?, now: Date) async throws -> User?
    /// When the user's email was verified, if it was.
    func emailVerifiedAt(user id: String) async throws -> Date?
    /// Marks the email verified (an OAuth provider vouched for it).
    func setEmailVerified(user id: String, now: Date) async throws
    /// Signs in with a provider identity, in one transaction: the identity's user; else the user
    /// with that (verified by the provider) email, linked, and taken over when that account's
    /// own email was never verified (password cleared, sessions ended); else a new user with
    /// `freeCredits`. Returns the user and what happened (`existing`, `linked`, `taken_over`,
    /// `created`).
    func oauthSignIn(
        provider: String, subject: String, email: String, emailKey: String, fullName: String?, freeCredits: Int, now: Date
    ) async throws -> (user: User, outcome: String)
}

package protocol ProjectRepository: Sendable {
    func create(user: String, title: String, description: String?, type: String?, now: Date) async throws -> Project
    /// `owner`, when given, must own the project; another user's project is not found.
    func get(_ id: String, owner: String?) async throws -> Project
    /// A user's projects in creation order, after the project `after`.
    func list(user: String, limit: Int, after: String?) async throws -> ProjectPage
    /// Changes what is given; `config` is the encoded JSON object.
    func update(_ id: String, owner: String?, title: String?, description: String?, config: String?, now: Date)
        async throws -> Project
    /// Deletes the project with its versions, unless it is generating.
    func delete(_ id: String, owner: String?) async throws -> Done
    /// The preview tokens of these projects, by project id.
    func previewTokens(_ ids: [String]) async throws -> [String: String]
    /// The project (and its owner) whose preview token this is.
    func project(previewToken: String) async throws -> (project: String, user: String)?
    /// Replaces the project's preview token; the old URL stops working.
    func setPreviewToken(_ id: String, owner: String?, token: String) async throws
    /// Records where the project was exported to on GitHub and, under an idempotency key, the
    /// result (the first one stored wins and is returned).
    func recordGitHub(
        _ id: String, owner: String?, export: GitHubExport, key: String?, request: String, result: GitHubExportResult,
        now: Date
    ) async throws -> GitHubExportResult
    /// The result stored under an export's idempotency key: nil when the key is new, `Conflict`
    /// when it was used with another request.
    func exportReplay(key: String, request: String) async throws -> GitHubExportResult?
}

package protocol VersionRepository: Sendable {
    /// Stores validated files as the project's next version, with what building it produced,
    /// and makes it current.
    func store(
        project: String, owner: String?, files: [ProjectFile], origin: VersionOrigin, build: VersionBuild?, now: Date
    ) async throws -> VersionSummary
    /// What building the version produced (`none` when it has no build).
    func build(project: String, owner: String?, version: String?) async throws -> ProjectBuild
    /// Stores the build of a version that has none (or was skipped); a version that has one
    /// keeps it, and that one is returned.
    func storeBuild(project: String, owner: String?, version: String, build: VersionBuild, now: Date) async throws
        -> ProjectBuild
    /// The built site of a version (all files, or the one at `path`); Conflict when it did not
    /// build.
    func builtCode(project: String, owner: String?, version: String?, path: String?) async throws -> ProjectCode
    func list(project: String, owner: String?) async throws -> VersionList
    /// All files of a version (an id or a number; nil is the current one), or the one at `path`.
    func code(project: String, owner: String?, version: String?, path: String?) async throws -> ProjectCode
    /// When the version was stored (RFC 3339), nil when there is no such version.
    func createdAt(version id: String) async throws -> String?
    /// A new version identical to `version` (its files and its build, by reference), made
    /// current; `NothingChanged` when `version` is the current one.
    func restore(project: String, owner: String?, version: String, now: Date) async throws -> VersionSummary
}

/// What building a version produced, as stored with it.
package struct VersionBuild: Sendable, Equatable {
    package var status: ProjectBuild.Status
    package var durationMs: Int
    package var errors: [GenerationIssue]
    package var files: [ProjectFile]

    package init(status: ProjectBuild.Status, durationMs: Int, errors: [GenerationIssue], files: [ProjectFile]) {
        self.status = status
        self.durationMs = durationMs
        self.errors = errors
        self.files = files
    }
}

/// Where a stored version came from.
package struct VersionOrigin: Sendable, Equatable {
    package var generation: String?
    package var provider: String?
    package var model: String?
    /// The version it was edited from.
    package var base: String?

    package init(generation: String? = nil, provider: String? = nil, model: String? = nil, base: String? = nil) {
        self.base = base
        self.generation = generation
        self.provider = provider
        self.model = model
    }
}

/// The credit journal, its per-bucket balances and the holds on them. Every method that moves
/// credits journals each movement and moves the balance with it in the same transaction.
package protocol LedgerRepository: Sendable {
    /// The committed balance as spendable at `now`.
    func balance(user: String, now: Date) async throws -> CreditBalance
    /// Entries newest first, those with an id below `before` when given.
    func history(user: String, limit: Int, before: Int64?) async throws -> CreditHistory
    /// Recomputes every balance from the journal and reports each difference.
    func verify() async throws -> CreditVerification
    func grant(_ grant: CreditGrantRequest, now: Date) async throws -> CreditGrant
    /// Reserves credits in spending order, or fails with InsufficientCredits and no effect.
    func hold(user: String, amount: Int, reference: String, idempotencyKey: String?, now: Date) async throws
        -> CreditHold
    /// Turns a hold into usage of `charged` credits (nil: all of it); the rest goes back.
    func settle(hold id: String, charged: Int?, now: Date) async throws -> CreditHold
    func release(hold id: String, now: Date) async throws -> CreditHold
    /// Releases every open hold created before `cutoff`; returns how many.
    func releaseHolds(createdBefore cutoff: Date, now: Date) async throws -> Int
    /// Moves every monthly balance expired at `now` out through an `expiry` entry; returns how many.
    func expireMonthly(now: Date) async throws -> Int
    /// Forgets idempotency keys used before `cutoff` (every method's, and the keys generations,
    /// payments and deployments were started with, once they ended): a replay after that runs
    /// again. Returns how many keys went.
    func pruneIdempotencyKeys(before cutoff: Date) async throws -> Int
}

/// A validated grant. `expiry` is when the credits expire (monthly only); `expiresAt` is what
/// the caller asked for, part of what an idempotency key is bound to.
package struct CreditGrantRequest: Sendable {
    package var user: String
    package var amount: Int
    package var bucket: CreditBucket
    package var reason: String
    package var expiresAt: Date?
    package var expiry: Date?
    package var idempotencyKey: String?

    package init(
        user: String, amount: Int, bucket: CreditBucket, reason: String, expiresAt: Date?, expiry: Date?,
        idempotencyKey: String?
    ) {
        self.user = user
        self.amount = amount
        self.bucket = bucket
        self.reason = reason
        self.expiresAt = expiresAt
        self.expiry = expiry
        self.idempotencyKey = idempotencyKey
    }
}

/// Generation records. Each step that touches credits is one transaction: the start (record +
/// hold), the success (version + settle + record) and the failure (release + record), so a
/// crash can never leave a charge without its version or a version without its charge.
package protocol GenerationRepository: Sendable {
    /// The project, when a provider call may begin beside the start: it is the caller's and
    /// not generating, its owner is active and has the credits at `now`. Nil means the start
    /// must come first. Reads only.
    func prepare(_ request: GenerationStartRequest, now: Date) async throws -> Project?
    /// Records a running generation and holds its price, or replays a completed one.
    func start(_ request: GenerationStartRequest, now: Date) async throws -> GenerationStart
    /// Stores the version, settles the hold and completes the record.
    func complete(_ success: GenerationSuccess, now: Date) async throws -> GenerationResult
    /// Releases the hold and records why the generation ended without a version; frees its
    /// idempotency key. A generation that is no longer running is left as it is.
    func fail(_ failure: GenerationFailure, now: Date) async throws
    /// Fails (`interrupted`) every generation still recorded as running; returns how many.
    func recoverInterrupted(now: Date) async throws -> Int
    /// A project's generations, newest first.
    func list(project: String, owner: String?, limit: Int) async throws -> GenerationList
    func get(_ id: String) async throws -> GenerationRecord
    /// What an edit of `version` (an id or a number; nil: the current one) starts from: nil
    /// when `version` is nil and the project has no version yet. Reads only.
    func editBase(project: String, owner: String?, version: String?, historyTurns: Int) async throws -> EditBase?
    /// Generations started in `[since, until)` (RFC 3339 text bounds), of `user` when given,
    /// summed by `groupBy` (provider, model, user, day).
    func usage(user: String?, since: String?, until: String?, groupBy: String) async throws -> [UsageRow]
}

/// The version an edit starts from, with what the request tells the model about it.
package struct EditBase: Sendable {
    package var version: String
    package var number: Int
    package var files: [ProjectFile]
    /// Its build's status (`none` without one) and errors.
    package var build: ProjectBuild.Status
    package var buildErrors: [GenerationIssue]
    /// Prompts of the completed generations in its ancestry (itself, its base, its base's
    /// base…), oldest first, at most `historyTurns`.
    package var history: [String]
    /// Paths it and its two nearest ancestors changed or added against their own bases.
    package var recentlyChanged: [String]

    package init(
        version: String, number: Int, files: [ProjectFile], build: ProjectBuild.Status, buildErrors: [GenerationIssue],
        history: [String], recentlyChanged: [String]
    ) {
        self.version = version
        self.number = number
        self.files = files
        self.build = build
        self.buildErrors = buildErrors
        self.history = history
        self.recentlyChanged = recentlyChanged
    }
}

package struct GenerationStartRequest: Sendable {
    package var project: String
    package var owner: String?
    package var prompt: String
    package var mode: GenerationMode
    package var price: Int
    package var idempotencyKey: String?
    /// The provider the caller asked to start with.
    package var provider: String?
    /// `base_version` as the caller gave it, and `fresh`: with the rest, what an idempotency
    /// key is bound to.
    package var requestedBase: String?
    package var fresh: Bool
    /// The id the generation gets when it starts.
    package var generation: String
    /// Generations the project's user may run at once; 0 = no limit. A start past it is
    /// `RateLimited` and holds nothing.
    package var maxConcurrentPerUser: Int

    package init(
        project: String, owner: String?, prompt: String, mode: GenerationMode, price: Int, idempotencyKey: String?,
        provider: String? = nil, requestedBase: String? = nil, fresh: Bool = false, maxConcurrentPerUser: Int = 0,
        generation: String = Identifiers.make("g")
    ) {
        self.maxConcurrentPerUser = maxConcurrentPerUser
        self.requestedBase = requestedBase
        self.fresh = fresh
        self.provider = provider
        self.project = project
        self.owner = owner
        self.prompt = prompt
        self.mode = mode
        self.price = price
        self.idempotencyKey = idempotencyKey
        self.generation = generation
    }
}

/// How a start request ended.
package enum GenerationStart: Sendable {
    case started(id: String, hold: CreditHold, project: Project)
    /// The idempotency key belongs to a completed generation: its result.
    case replay(GenerationResult)
}

package struct GenerationSuccess: Sendable {
    package var generation: String
    package var project: String
    package var hold: String
    package var files: [ProjectFile]
    package var provider: String
    package var model: String
    package var usage: GenerationUsage
    package var attempts: [GenerationAttempt]
    package var durationMs: Int
    package var build: VersionBuild?
    /// The version an edit started from, and what it changed; nil on a fresh generation.
    package var base: (version: String, number: Int, changes: FileChanges)?
    /// What the answer said outside its files.
    package var notes: String?

    package init(
        generation: String, project: String, hold: String, files: [ProjectFile], provider: String, model: String,
        usage: GenerationUsage, attempts: [GenerationAttempt], durationMs: Int, build: VersionBuild? = nil,
        base: (version: String, number: Int, changes: FileChanges)? = nil, notes: String? = nil
    ) {
        self.notes = notes
        self.base = base
        self.build = build
        self.generation = generation
        self.project = project
        self.hold = hold
        self.files = files
        self.provider = provider
        self.model = model
        self.usage = usage
        self.attempts = attempts
        self.durationMs = durationMs
    }
}

package struct GenerationFailure: Sendable {
    package var generation: String
    package var status: GenerationRecord.Status
    package var error: String
    package var message: String
    package var usage: GenerationUsage
    package var attempts: [GenerationAttempt]
    /// Nil: from the record's start to `now`.
    package var durationMs: Int?

    package init(
        generation: String, status: GenerationRecord.Status, error: String, message: String, usage: GenerationUsage,
        attempts: [GenerationAttempt], durationMs: Int?
    ) {
        self.generation = generation
        self.status = status
        self.error = error
        self.message = message
        self.usage = usage
        self.attempts = attempts
        self.durationMs = durationMs
    }
}
