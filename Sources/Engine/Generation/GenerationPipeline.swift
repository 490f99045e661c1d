import Foundation
public import Logging
public import Protocol
import Synchronization
public import VectortCore
public import Generation
import Storage
public import Build
public import Observability

/// Prices, deadlines and limits of generations (from configuration; replaced on reload).
public struct GenerationSettings: Sendable, Equatable {
    public var priceQuick: Int
    public var priceAdvanced: Int
    public var deadlineQuick: Duration
    public var deadlineAdvanced: Duration
    /// Continuations asked of the same provider when an answer is cut off.
    public var maxContinuations: Int
    public var maxOutputTokens: Int
    public var maxPromptBytes: Int
    public var limits: VersionLimits
    /// An edit shows the base's files up to this many bytes, the most relevant first.
    public var contextMaxBytes: Int
    /// An edit carries this many earlier prompts of the version's ancestry.
    public var historyTurns: Int
    /// Generations one user may run at once (every caller, every provider); 0 = no limit.
    public var maxConcurrentPerUser: Int

    public init(
        priceQuick: Int = 2, priceAdvanced: Int = 4, deadlineQuick: Duration = .seconds(30),
        deadlineAdvanced: Duration = .seconds(90), maxContinuations: Int = 2, maxOutputTokens: Int = 16_384,
        maxPromptBytes: Int = 32_768, limits: VersionLimits = VersionLimits(), contextMaxBytes: Int = 200_000,
        historyTurns: Int = 6, maxConcurrentPerUser: Int = 2
    ) {
        self.maxConcurrentPerUser = maxConcurrentPerUser
        self.contextMaxBytes = contextMaxBytes
        self.historyTurns = historyTurns
        self.priceQuick = priceQuick
        self.priceAdvanced = priceAdvanced
        self.deadlineQuick = deadlineQuick
        self.deadlineAdvanced = deadlineAdvanced
        self.maxContinuations = maxContinuations
        self.maxOutputTokens = maxOutputTokens
        self.maxPromptBytes = maxPromptBytes
        self.limits = limits
    }

    func price(_ mode: GenerationMode) -> Int { mode == .quick ? priceQuick : priceAdvanced }
    func deadline(_ mode: GenerationMode) -> Duration { mode == .quick ? deadlineQuick : deadlineAdvanced }
}

/// `Projects.Generate`: hold the mode's price → run the chain → parse → validate → store a new
/// version → settle. Any failure, timeout or cancellation releases the hold: a generation that
/// did not store a version is never charged.
public struct GenerationPipeline: Sendable {
    public struct Request: Sendable {
        public var project: String
        /// The user a client caller acts for; nil for admins.
        public var owner: String?
        public var prompt: String
        public var mode: GenerationMode
        public var idempotencyKey: String?
        /// A configured provider to try first; then the chain in order without it.
        public var provider: String?
        /// The version to edit (an id or a number); nil: the current one.
        public var baseVersion: String?
        /// Start from nothing even when the project has a version.
        public var fresh: Bool

        public init(
            project: String, owner: String?, prompt: String, mode: GenerationMode, idempotencyKey: String? = nil,
            provider: String? = nil, baseVersion: String? = nil, fresh: Bool = false
        ) {
            self.baseVersion = baseVersion
            self.fresh = fresh
            self.provider = provider
            self.project = project
            self.owner = owner
            self.prompt = prompt
            self.mode = mode
            self.idempotencyKey = idempotencyKey
        }
    }

    public typealias Emit = @Sendable (GenerationEvent) async throws -> Void

    public let store: GenerationStore
    public let chain: FallbackChain
    /// Builds each answer before it is stored; nil stores answers unbuilt.
    let builder: SiteBuilder?
    let settings: @Sendable () -> GenerationSettings
    let logger: Logger
    /// Times each generation and ends it at its mode's deadline.
    let clock: any VectortClock
    /// Set when the daemon stops: a generation cancelled from then on was cut short by the
    /// shutdown, not by its caller.
    private let stopping = Locked(false)
    /// Running generations by id, for `cancel`.
    private let running = Locked<[String: GenerationAbort]>([:])
    /// Where each generation's figures and lifecycle events go.
    let observer: Observer

    public init(
        store: GenerationStore, chain: FallbackChain, settings: @escaping @Sendable () -> GenerationSettings,
        builder: SiteBuilder? = nil, clock: any VectortClock = SystemClock(), observer: Observer = Observer(),
        logger: Logger
    ) {
        self.observer = observer
        self.builder = builder
        self.store = store
        self.chain = chain
        self.settings = settings
        self.clock = clock
        self.logger = logger
    }

    /// The daemon is stopping: generations cancelled from now on are recorded as failed by the
    /// shutdown, and their callers get `Unavailable`.
    public func beginShutdown() {
        stopping.value = true
    }

    /// Cancels a running generation (`Projects.CancelGeneration`) and returns once it has
    /// recorded its end and released its hold. `owner`, when given, must own it.
    public func cancel(generation: String, owner: String?) async throws -> GenerationCancellation {
        if let abort = running.withLock({ $0[generation] }) {
            if let owner, let user = abort.user, user != owner { throw EngineError.notFound("generation", generation) }
            guard abort.abort() else {
                throw EngineError.conflict("generation \(generation) has already produced its version")
            }
            await abort.waitForEnd()
            return GenerationCancellation(generation: generation, status: .cancelled)
        }
        let record = try await store.get(generation)
        if let owner, record.user != owner { throw EngineError.notFound("generation", generation) }
        throw EngineError.conflict("generation \(generation) is \(record.status.rawValue), not running")
    }

    public func generate(_ request: Request, emit: @escaping Emit) async throws -> GenerationResult {
        let settings = settings()
        try EngineError.refuseNUL([
            "project": request.project, "user": request.owner, "prompt": request.prompt,
            "idempotency_key": request.idempotencyKey, "base_version": request.baseVersion,
        ])
        if request.fresh, request.baseVersion != nil {
            throw EngineError.invalid("fresh", "fresh starts from nothing: it cannot be given with base_version")
        }
        let prompt = request.prompt.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !prompt.isEmpty else { throw EngineError.invalid("prompt", "prompt must not be empty") }
        guard prompt.utf8.count <= settings.maxPromptBytes else {
            throw EngineError.invalid("prompt", "prompt is longer than \(settings.maxPromptBytes) bytes")
        }
        var order: [String]?
        if let first = request.provider {
            guard await chain.registry.isConfigured(first) else {
                throw EngineError.invalid("provider", "no provider \"\(first)\" is configured (see Providers.List)")
            }
            order = [first] + (await chain.registry.chain).filter { $0 != first }
        }
        // An edit starts from the base version read now; the project cannot generate twice at
        // once, so no other generation moves it meanwhile.
        let edit = try await request.fresh ? nil : store.editBase(
            project: request.project, owner: request.owner, version: request.baseVersion,
            historyTurns: settings.historyTurns
        ).map { EditPlan($0, prompt: prompt, maxContextBytes: settings.contextMaxBytes) }
        let startRequest = GenerationStore.StartRequest(
            project: request.project, owner: request.owner, prompt: prompt, mode: request.mode,
            price: settings.price(request.mode), idempotencyKey: request.idempotencyKey, provider: request.provider,
            requestedBase: request.baseVersion, fresh: request.fresh, maxConcurrentPerUser: settings.maxConcurrentPerUser)
        let generation = startRequest.generation
        var tagged = logger
        tagged[metadataKey: "generation"] = "\(generation)"
        tagged[metadataKey: "project"] = "\(request.project)"
        let logger = tagged
        let clock = self.clock
        let startedAt = clock.now
        let log = AttemptLog()
        let watch = GenerationWatch(
            generation: generation, project: request.project, mode: request.mode, observer: observer, clock: clock,
            started: clock.now)
        let events = EventGate { event in
            watch.saw(event)
            try await emit(event)
        }
        let deadline = settings.deadline(request.mode)
        let builder = builder
        let providerOrder = order
        let abort = GenerationAbort(user: request.owner)
        let runningNow = running.withLock {
            $0[generation] = abort
            return $0.count
        }
        observer.metrics.record(Metric.generationsRunning, [], Double(runningNow))
        defer {
            let runningNow = running.withLock {
                $0[generation] = nil
                return $0.count
            }
            observer.metrics.record(Metric.generationsRunning, [], Double(runningNow))
            abort.end()
        }
        let draft: @Sendable (Project) async throws -> Draft = { [chain] project in
            let brief = AppBrief(prompt: prompt, title: project.title, description: project.description, type: project.type)
            let run = Run(
                chain: chain, settings: settings, mode: request.mode, brief: brief, edit: edit, log: log,
                emit: events.emit, builder: builder, providers: providerOrder, logger: logger)
            return try await Deadline.run(deadline, clock: clock, abort: abort) {
                try await run.execute(deadline: startedAt + deadline)
            }
        }

        // When the start will most likely succeed, the provider call begins beside the start
        // transaction instead of after it; its events wait in the gate until `started` is out.
        // A key may name a finished generation to replay, so a keyed call starts first.
        let early = request.idempotencyKey == nil ? try await store.prepare(startRequest) : nil
        return try await withThrowingTaskGroup(of: Draft.self) { group in
            if let early { group.addTask { try await draft(early) } }
            // A failed start leaves nothing to undo: the group cancels the early call on the way out.
            let hold: CreditHold
            let project: Project
            switch try await store.start(startRequest) {
            case .replay(let result):
                group.cancelAll()
                return result
            case .started(_, let h, let p):
                hold = h
                project = p
                abort.user = p.user
                watch.started(user: p.user)
            }
            do {
                try await events.open(with: started(generation, request, startRequest.price, edit: edit))
                if early == nil { group.addTask { try await draft(project) } }
                guard let draft = try await group.next() else { throw CancellationError() }
                if draft.unchanged { throw Self.nothingChanged(draft, base: edit) }
                // Cancelled between the answer and its storing: the cancellation wins.
                guard abort.settle() else { throw GenerationAbort.Aborted() }
                let built = draft.build.map(VersionBuild.init)
                var result = try await store.complete(
                    GenerationStore.Success(
                        generation: generation, project: request.project, hold: hold.id, files: draft.files,
                        provider: draft.provider, model: draft.model, usage: log.usage, attempts: log.attempts,
                        durationMs: Int((clock.now - startedAt).seconds * 1000), build: built,
                        base: edit.map { ($0.version, $0.number, draft.changes ?? FileChanges()) }, notes: draft.notes))
                if let built {
                    result.build = ProjectBuild(
                        project: result.project, version: result.version, status: built.status,
                        durationMs: built.durationMs, errors: built.errors,
                        files: built.files.map { ProjectBuild.File(path: $0.path, bytes: $0.byteCount) })
                }
                var completed = GenerationEvent(.completed)
                completed.generation = generation
                completed.version = result.version
                watch.completed(result, attempts: log.attempts)
                try? await events.emit(completed)
                logger.info(
                    "generation completed",
                    metadata: [
                        "provider": "\(result.provider)", "files": "\(result.files.count)",
                        "credits": "\(result.creditsCharged)", "duration_ms": "\(result.durationMs)",
                    ])
                return result
            } catch {
                // The provider call has ended before the hold is released.
                group.cancelAll()
                while (try? await group.next()) != nil {}
                throw await failed(
                    error, generation: generation, mode: request.mode, settings: settings, log: log,
                    duration: clock.now - startedAt, watch: watch, logger: logger)
            }
        }
    }

    /// Records a generation that started and did not store a version, releasing its hold, and
    /// returns the error for the caller.
    private func failed(
        _ error: any Error, generation: String, mode: GenerationMode, settings: GenerationSettings, log: AttemptLog,
        duration: Duration, watch: GenerationWatch, logger: Logger
    ) async -> any Error {
        // Whatever a cancelled call last threw, it ended because the caller went away.
        let cause: any Error = Task.isCancelled && !(error is Deadline.Reached) ? CancellationError() : error
        let (status, name, message, wire) = Self.outcome(
            of: cause, mode: mode, settings: settings, log: log, stopping: stopping.value, generation: generation)
        let attempts = log.attempts
        let usage = log.usage
        // The record and the release must happen even when the caller went away: a task
        // of its own is not cancelled with the call.
        let store = store
        do {
            try await Task {
                try await store.fail(
                    generation: generation, status: status, error: name, message: message, usage: usage,
                    attempts: attempts, durationMs: Int(duration.seconds * 1000))
            }.value
        } catch let recordError {
            logger.error("could not record a failed generation", metadata: ["error": "\(recordError)"])
            return recordError
        }
        watch.ended(status: status, error: name, message: message, attempts: attempts, cost: log.cost)
        logger.notice("generation \(status.rawValue)", metadata: ["error": "\(name)", "reason": "\(message)"])
        return wire ?? cause
    }

    private func started(_ generation: String, _ request: Request, _ price: Int, edit: EditPlan?) -> GenerationEvent {
        var event = GenerationEvent(.started)
        event.generation = generation
        event.project = request.project
        event.mode = request.mode
        event.creditsHeld = price
        event.baseVersion = edit?.version
        event.baseVersionNumber = edit?.number
        event.contextOmitted = edit?.context.omitted
        return event
    }

    /// An edit whose answer changed nothing: no version, no charge, and what the provider said.
    static func nothingChanged(_ draft: Draft, base: EditPlan?) -> EngineError {
        var message = "the answer changed nothing"
        if let base { message += " in version \(base.number)" }
        var details: [String: JSONValue] = ["reason": .string("no_changes"), "provider": .string(draft.provider)]
        if let notes = draft.notes, !notes.isEmpty {
            message += ": " + notes
            details["notes"] = .string(notes)
        }
        if let base { details["base_version"] = .string(base.version) }
        return EngineError(WireError(.nothingChanged, message, details))
    }

    /// The record's status and error for a failure, and the error the caller receives.
    static func outcome(
        of error: any Error, mode: GenerationMode, settings: GenerationSettings, log: AttemptLog, stopping: Bool = false,
        generation: String? = nil
    ) -> (GenerationRecord.Status, String, String, (any Error)?) {
        switch error {
        case is GenerationAbort.Aborted:
            let wire = EngineError(
                WireError(.cancelled, "the generation was cancelled", ["generation": .string(generation ?? "")]))
            return (.cancelled, "cancelled", "cancelled by Projects.CancelGeneration", wire)
        case is CancellationError where stopping:
            let wire = EngineError(.unavailable("vectortd is shutting down"))
            return (.failed, "shutdown", "vectortd shut down while this generation ran", wire)
        case is CancellationError:
            return (.cancelled, "cancelled", "the caller went away", nil)
        case is FallbackChain.DeadlineReached, is Deadline.Reached:
            let seconds = settings.deadline(mode).seconds
            let wire = EngineError(
                WireError(.timeout, "the generation ran past its deadline of \(seconds.formatted()) s", ["seconds": .double(seconds)]))
            return (.failed, "timeout", wire.description, wire)
        case let exhausted as FallbackChain.Exhausted:
            if let last = exhausted.lastFailure, last.isAnswerOrRequestProblem {
                var details: [String: JSONValue] = ["reason": .string(last.kind.rawValue)]
                let issues = log.lastIssues
                if last.kind == .invalidOutput, !issues.isEmpty {
                    details["issues"] = .array(issues.prefix(50).map(Self.issueValue))
                }
                let wire = EngineError(
                    WireError(.generationFailed, "no provider produced a valid app: \(last.message)", details))
                return (.failed, last.kind.rawValue, last.message, wire)
            }
            var details: [String: JSONValue] = [
                "reason": .string(
                    exhausted.lastFailure.map { $0.kind.rawValue } ?? (exhausted.emptyChain ? "no_providers" : "breaker_open"))
            ]
            if let wait = exhausted.retryAfterSeconds { details["retry_after_seconds"] = WireError.retryAfter(wait) }
            let text =
                exhausted.lastFailure.map { "every provider failed; last: \($0)" }
                ?? (exhausted.emptyChain
                    ? "no provider is configured in generation.chain (or none has its key)"
                    : "every provider's circuit breaker is open")
            let wire = EngineError(WireError(.unavailable, text, details))
            return (.failed, "unavailable", text, wire)
        case let failure as ProviderFailure:
            let wire = EngineError.invalid("prompt", "the provider refused the request: \(failure.message)")
            return (.failed, failure.kind.rawValue, failure.message, wire)
        case let engine as EngineError:
            return (.failed, engine.wireError.name.rawValue, engine.wireError.message, nil)
        default:
            return (.failed, "internal", "\(error)", nil)
        }
    }

    static func issueValue(_ issue: ValidationIssue) -> JSONValue {
        var object: [String: JSONValue] = ["rule": .string(issue.rule), "message": .string(issue.message)]
        if let path = issue.path { object["path"] = .string(path) }
        if let line = issue.line { object["line"] = .int(Int64(line)) }
        if let column = issue.column { object["column"] = .int(Int64(column)) }
        return .object(object)
    }
}

/// A generation's events before its start is committed are held back: the provider call may
/// begin beside the start transaction, and the caller hears nothing of it before `started`.
final class EventGate: Sendable {
    private struct State {
        var open = false
        var pending: [GenerationEvent] = []
    }

    private let state = Mutex(State())
    private let downstream: GenerationPipeline.Emit

    init(_ downstream: @escaping GenerationPipeline.Emit) {
        self.downstream = downstream
    }

    /// Sends the event, or keeps it while the gate is closed.
    @Sendable func emit(_ event: GenerationEvent) async throws {
        let kept = state.withLock { state in
            if !state.open { state.pending.append(event) }
            return !state.open
        }
        if !kept { try await downstream(event) }
    }

    /// Sends `first`, then what was kept, in order, then opens: later events go straight through.
    func open(with first: GenerationEvent) async throws {
        try await downstream(first)
        while true {
            let kept = state.withLock { state in
                let kept = state.pending
                state.pending = []
                if kept.isEmpty { state.open = true }
                return kept
            }
            if kept.isEmpty { return }
            for event in kept { try await downstream(event) }
        }
    }
}

/// A draft that passed validation, with where it came from; or an edit that changed nothing.
struct Draft: Sendable {
    var files: [ProjectFile]
    var provider: String
    var model: String
    /// The build of `files` (ok, or skipped when builds are off); nil without a builder.
    var build: SiteBuild?
    /// An edit's changes against its base; nil for a fresh app.
    var changes: FileChanges?
    /// What the answer said outside its files.
    var notes: String?
    /// The answer of an edit changed nothing: no version, no charge.
    var unchanged = false

    init(
        files: [ProjectFile], provider: String, model: String, build: SiteBuild?, changes: FileChanges? = nil,
        notes: String? = nil
    ) {
        self.files = files
        self.provider = provider
        self.model = model
        self.build = build
        self.changes = changes
        self.notes = notes
    }

    init(unchangedBy provider: any LLMProvider, notes: String) {
        self.init(files: [], provider: provider.name, model: provider.model, build: nil, notes: notes)
        unchanged = true
    }
}

/// What an edit starts from and shows the model.
struct EditPlan: Sendable {
    var version: String
    var number: Int
    var base: [ProjectFile]
    var context: EditContext
    var history: [String]
    /// The base's build errors, when its build failed.
    var buildErrors: [GenerationIssue]?
    var rules: TreeEdit.Rules

    init(_ base: EditBase, prompt: String, maxContextBytes: Int) {
        version = base.version
        number = base.number
        self.base = base.files
        context = EditContext.select(
            base.files, prompt: prompt, recentlyChanged: base.recentlyChanged, maxBytes: maxContextBytes)
        history = base.history
        buildErrors = base.build == .failed ? base.buildErrors : nil
        rules = TreeEdit.Rules(base: base.files, omitted: context.omitted)
    }
}

/// Runs an operation under a deadline; when the time is up the operation is cancelled and
/// `Reached` is thrown.
enum Deadline {
    struct Reached: Error {}

    static func run<T: Sendable>(
        _ limit: Duration, clock: any VectortClock, abort: GenerationAbort? = nil,
        _ operation: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await operation() }
            group.addTask {
                try await clock.sleep(for: limit)
                return nil
            }
            if let abort {
                group.addTask {
                    try await abort.wait()
                    return nil
                }
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let value = first else { throw Reached() }
            return value
        }
    }
}
