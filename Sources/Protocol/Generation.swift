/// `quick` or `advanced` (a planning turn and one repair turn).
public enum GenerationMode: String, Sendable, Codable, Hashable, CaseIterable {
    case quick, advanced
}

/// One streamed reply of `Projects.Generate` (`"continues": true`). Fields not used by an event
/// are omitted from the JSON.
public struct GenerationEvent: Sendable, Codable, Hashable {
    public enum Kind: String, Sendable, Codable, Hashable {
        /// The hold is taken: `generation`, `project`, `mode`, `credits_held`; on an edit also
        /// `base_version`, `base_version_number` and `context_omitted` (base files the request
        /// left out for size).
        case started
        /// A provider call begins: `provider`, `model`, `attempt` (1-based per provider), `purpose`.
        case attempt
        /// A call failed and will be tried again: `provider`, `reason`, `message`, `delay_seconds`.
        case retry
        /// A provider is given up (or skipped, its breaker open): `provider`, `to`, `reason`,
        /// `message`, and `kept`: the files finished before a cut, which the next attempt does not
        /// write again.
        case fallback
        /// An answer was cut off; the same provider is asked to continue: `provider`, `path`.
        case `continue`
        /// A file of the answer is complete: `path`, `bytes`; or deleted by it: `path`, `deleted: true`.
        case file
        /// Validation ran: `passed`, `issues`.
        case validation
        /// The version is stored and the hold settled: `generation`, `version`.
        case completed
    }

    public var event: Kind
    public var generation: String?
    public var project: String?
    public var mode: GenerationMode?
    public var creditsHeld: Int?
    public var provider: String?
    public var model: String?
    public var attempt: Int?
    public var purpose: String?
    public var reason: String?
    public var message: String?
    public var delaySeconds: Double?
    public var to: String?
    public var path: String?
    public var bytes: Int?
    public var passed: Bool?
    public var issues: [GenerationIssue]?
    public var version: String?
    public var kept: [String]?
    public var baseVersion: String?
    public var baseVersionNumber: Int?
    public var contextOmitted: [String]?
    public var deleted: Bool?

    public init(_ event: Kind) { self.event = event }

    enum CodingKeys: String, CodingKey {
        case event, generation, project, mode, provider, model, attempt, purpose, reason, message, to, path, bytes
        case passed, issues, version, kept, deleted
        case baseVersion = "base_version"
        case baseVersionNumber = "base_version_number"
        case contextOmitted = "context_omitted"
        case creditsHeld = "credits_held"
        case delaySeconds = "delay_seconds"
    }
}

/// A validation problem in generated files.
public struct GenerationIssue: Sendable, Codable, Hashable {
    public var path: String?
    public var rule: String
    public var message: String
    /// 1-based.
    public var line: Int?
    /// 1-based; build errors have one.
    public var column: Int?

    public init(path: String?, rule: String, message: String, line: Int? = nil, column: Int? = nil) {
        self.path = path
        self.rule = rule
        self.message = message
        self.line = line
        self.column = column
    }
}

/// Tokens a generation used, summed over every provider call it made.
public struct GenerationUsage: Sendable, Codable, Hashable {
    public var inputTokens: Int
    public var outputTokens: Int
    /// The part of `input_tokens` the provider read from its prompt cache; absent when none.
    public var cachedInputTokens: Int?

    public init(inputTokens: Int, outputTokens: Int, cachedInputTokens: Int? = nil) {
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.cachedInputTokens = cachedInputTokens == 0 ? nil : cachedInputTokens
    }

    enum CodingKeys: String, CodingKey {
        case inputTokens = "input_tokens"
        case outputTokens = "output_tokens"
        case cachedInputTokens = "cached_input_tokens"
    }
}

/// What provider calls cost at the configured prices, in millionths of the currency's unit
/// (`amount_micros`; 1 cent of usd is 10000).
public struct Cost: Sendable, Codable, Hashable {
    public var amountMicros: Int64
    /// ISO 4217, lower case.
    public var currency: String

    public init(amountMicros: Int64, currency: String) {
        self.amountMicros = amountMicros
        self.currency = currency
    }

    /// Costs added up; nil for none. Prices are all in one currency (the configuration checks).
    public static func total(_ costs: [Cost]) -> Cost? {
        guard let first = costs.first else { return nil }
        return Cost(amountMicros: costs.reduce(0) { $0 + $1.amountMicros }, currency: first.currency)
    }

    enum CodingKeys: String, CodingKey {
        case currency
        case amountMicros = "amount_micros"
    }
}

/// The final reply of `Projects.Generate`.
public struct GenerationResult: Sendable, Codable, Hashable {
    public var generation: String
    public var project: String
    public var version: String
    public var versionNumber: Int
    public var provider: String
    public var model: String
    public var files: [String]
    public var creditsCharged: Int
    public var usage: GenerationUsage
    public var attempts: Int
    public var durationMs: Int
    /// What building the version produced (absent on a replay and where builds are not set up).
    public var build: ProjectBuild?
    /// The version an edit started from; absent on a fresh generation.
    public var baseVersion: String?
    public var baseVersionNumber: Int?
    /// An edit's files against `base_version`, sorted; absent on a fresh generation.
    public var changed: [String]?
    public var added: [String]?
    public var deleted: [String]?
    /// What the answer said outside its files (at most 2,000 characters), e.g. what an offline
    /// provider did not understand.
    public var notes: String?
    /// What every provider call of the generation cost at the configured prices; absent when no
    /// provider it called has a price.
    public var cost: Cost?

    /// The edit's changes, when it is one.
    public var changes: FileChanges? {
        get {
            guard let changed, let added, let deleted else { return nil }
            return FileChanges(changed: changed, added: added, deleted: deleted)
        }
        set {
            changed = newValue?.changed
            added = newValue?.added
            deleted = newValue?.deleted
        }
    }

    public init(
        generation: String, project: String, version: String, versionNumber: Int, provider: String, model: String,
        files: [String], creditsCharged: Int, usage: GenerationUsage, attempts: Int, durationMs: Int,
        build: ProjectBuild? = nil
    ) {
        self.build = build
        self.generation = generation
        self.project = project
        self.version = version
        self.versionNumber = versionNumber
        self.provider = provider
        self.model = model
        self.files = files
        self.creditsCharged = creditsCharged
        self.usage = usage
        self.attempts = attempts
        self.durationMs = durationMs
    }

    enum CodingKeys: String, CodingKey {
        case generation, project, version, provider, model, files, usage, attempts, build, changed, added, deleted, notes
        case cost
        case baseVersion = "base_version"
        case baseVersionNumber = "base_version_number"
        case versionNumber = "version_number"
        case creditsCharged = "credits_charged"
        case durationMs = "duration_ms"
    }
}

/// One provider call of a generation, as the generation record keeps it.
public struct GenerationAttempt: Sendable, Codable, Hashable {
    public var provider: String
    public var model: String
    public var purpose: String
    /// `success`, `failed`, `skipped` (breaker open) or `cancelled`.
    public var outcome: String
    public var error: String?
    public var status: Int?
    public var message: String?
    public var durationMs: Int
    public var usage: GenerationUsage?
    /// The call's usage at its provider's price; absent without usage or price.
    public var cost: Cost?
    public var startedAt: String

    public init(
        provider: String, model: String, purpose: String, outcome: String, error: String? = nil, status: Int? = nil,
        message: String? = nil, durationMs: Int, usage: GenerationUsage? = nil, cost: Cost? = nil, startedAt: String
    ) {
        self.cost = cost
        self.provider = provider
        self.model = model
        self.purpose = purpose
        self.outcome = outcome
        self.error = error
        self.status = status
        self.message = message
        self.durationMs = durationMs
        self.usage = usage
        self.startedAt = startedAt
    }

    enum CodingKeys: String, CodingKey {
        case provider, model, purpose, outcome, error, status, message, usage, cost
        case durationMs = "duration_ms"
        case startedAt = "started_at"
    }
}

/// A generation record (`Projects.ListGenerations`).
public struct GenerationRecord: Sendable, Codable, Hashable {
    public enum Status: String, Sendable, Codable, Hashable {
        case running, completed, failed, cancelled
    }

    public var id: String
    public var project: String
    public var user: String
    public var mode: GenerationMode
    public var status: Status
    public var version: String?
    public var provider: String?
    public var model: String?
    public var creditsHeld: Int
    public var creditsCharged: Int
    public var usage: GenerationUsage
    public var error: String?
    public var errorMessage: String?
    public var attempts: [GenerationAttempt]
    public var startedAt: String
    public var finishedAt: String?
    public var durationMs: Int?
    /// The sum of its attempts' costs; absent when none has one.
    public var cost: Cost?

    public init(
        id: String, project: String, user: String, mode: GenerationMode, status: Status, version: String?,
        provider: String?, model: String?, creditsHeld: Int, creditsCharged: Int, usage: GenerationUsage,
        error: String?, errorMessage: String?, attempts: [GenerationAttempt], startedAt: String,
        finishedAt: String?, durationMs: Int?
    ) {
        self.id = id
        self.project = project
        self.user = user
        self.mode = mode
        self.status = status
        self.version = version
        self.provider = provider
        self.model = model
        self.creditsHeld = creditsHeld
        self.creditsCharged = creditsCharged
        self.usage = usage
        self.error = error
        self.errorMessage = errorMessage
        self.attempts = attempts
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.durationMs = durationMs
    }

    enum CodingKeys: String, CodingKey {
        case id, project, user, mode, status, version, provider, model, usage, error, attempts, cost
        case creditsHeld = "credits_held"
        case creditsCharged = "credits_charged"
        case errorMessage = "error_message"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case durationMs = "duration_ms"
    }
}

/// Result of `Projects.ListGenerations`, newest first.
public struct GenerationList: Sendable, Codable, Hashable {
    public var project: String
    public var generations: [GenerationRecord]

    public init(project: String, generations: [GenerationRecord]) {
        self.project = project
        self.generations = generations
    }
}

/// One provider as `Providers.List` shows it.
public struct ProviderInfo: Sendable, Codable, Hashable {
    public var name: String
    public var kind: String
    public var model: String
    /// `closed`, `open` or `half_open`.
    public var state: String
    /// Position in the fallback chain (1-based), nil when not in the chain.
    public var chainPosition: Int?
    /// Failures inside the breaker's window.
    public var failures: Int
    public var lastError: String?
    public var lastErrorAt: String?
    /// When an open breaker lets a probe through, RFC 3339.
    public var openUntil: String?
    public var latencyMsP50: Double?
    public var successRate: Double?
    public var calls: Int

    public init(
        name: String, kind: String, model: String, state: String, chainPosition: Int?, failures: Int,
        lastError: String?, lastErrorAt: String?, openUntil: String?, latencyMsP50: Double?, successRate: Double?,
        calls: Int
    ) {
        self.name = name
        self.kind = kind
        self.model = model
        self.state = state
        self.chainPosition = chainPosition
        self.failures = failures
        self.lastError = lastError
        self.lastErrorAt = lastErrorAt
        self.openUntil = openUntil
        self.latencyMsP50 = latencyMsP50
        self.successRate = successRate
        self.calls = calls
    }

    enum CodingKeys: String, CodingKey {
        case name, kind, model, state, failures, calls
        case chainPosition = "chain_position"
        case lastError = "last_error"
        case lastErrorAt = "last_error_at"
        case openUntil = "open_until"
        case latencyMsP50 = "latency_ms_p50"
        case successRate = "success_rate"
    }
}

/// Result of `Providers.List`.
public struct ProviderList: Sendable, Codable, Hashable {
    public var providers: [ProviderInfo]
    public var chain: [String]
    /// With `all_nodes`: every node's providers as it last published them, this node's as of
    /// now (an addition within version 1).
    public var nodes: [NodeProviders]?

    public init(providers: [ProviderInfo], chain: [String], nodes: [NodeProviders]? = nil) {
        self.providers = providers
        self.chain = chain
        self.nodes = nodes
    }
}

/// One node's providers in `Providers.List {all_nodes: true}`: each node keeps its own breakers.
public struct NodeProviders: Sendable, Codable, Hashable {
    public var node: String
    /// Whether the node's heartbeat is live.
    public var live: Bool
    /// This node's own entry (read from memory, not the database).
    public var current: Bool
    /// When the node last published its providers; absent for this node and for a node that
    /// has not published yet.
    public var publishedAt: String?
    public var chain: [String]
    public var providers: [ProviderInfo]

    public init(
        node: String, live: Bool, current: Bool, publishedAt: String? = nil, chain: [String], providers: [ProviderInfo]
    ) {
        self.node = node
        self.live = live
        self.current = current
        self.publishedAt = publishedAt
        self.chain = chain
        self.providers = providers
    }

    enum CodingKeys: String, CodingKey {
        case node, live, current, chain, providers
        case publishedAt = "published_at"
    }
}

/// Result of `Projects.CancelGeneration`: the generation has ended and released its hold.
public struct GenerationCancellation: Sendable, Codable, Hashable {
    public var generation: String
    public var status: GenerationRecord.Status

    public init(generation: String, status: GenerationRecord.Status) {
        self.generation = generation
        self.status = status
    }
}
