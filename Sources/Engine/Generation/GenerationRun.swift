import Foundation
import Logging
import Protocol
import Synchronization
import VectortCore
import Generation
import Storage
import Build

/// The provider work of one generation: the plan (advanced), the files with continuations
/// when an answer is cut off, validation, and the repair turn (advanced). Each step goes
/// through the fallback chain; a provider whose answer cannot be used is given up for the next.
struct Run: Sendable {
    let chain: FallbackChain
    let settings: GenerationSettings
    let mode: GenerationMode
    let brief: AppBrief
    /// The version being edited; nil for a fresh app.
    let edit: EditPlan?
    let log: AttemptLog
    let emit: GenerationPipeline.Emit
    let builder: SiteBuilder?
    /// The providers in the order to try them; nil: the configured chain.
    let providers: [String]?
    let logger: Logger
    /// Writes and deletes an attempt finished before its stream was cut or failed: the next
    /// attempt does only the rest.
    let kept = Shared<[FileStreamParser.Operation]>([])

    private var system: String { edit == nil ? Prompts.system : Prompts.editSystem }
    private var rules: TreeEdit.Rules? { edit?.rules }

    func execute(deadline: ContinuousClock.Instant) async throws -> Draft {
        let opening =
            edit.map {
                Prompts.editRequest(
                    brief, version: $0.number, context: $0.context, history: $0.history, buildErrors: $0.buildErrors)
            } ?? Prompts.userRequest(brief)
        var messages = [ChatMessage(.user, opening)]
        if mode == .advanced {
            let plan = try await chain.run(providers: providers, deadline: deadline, observe: observe(.plan)) { provider, settings in
                try await call(provider, settings, CompletionRequest(
                    system: system, messages: [ChatMessage(.user, opening + "\n" + Prompts.plan)],
                    maxTokens: min(2048, self.settings.maxOutputTokens), purpose: .plan, brief: brief, base: edit?.base)
                ).text
            }
            messages += [ChatMessage(.assistant, plan.value), ChatMessage(.user, Prompts.afterPlan)]
        }
        let base = messages
        let drafted = try await chain.run(providers: providers, deadline: deadline, observe: observe(.generate)) { provider, settings in
            try await draft(provider, settings, base)
        }
        return drafted.value
    }

    /// One provider's answer: parsed, continued while cut off, applied to the base (an edit)
    /// or to nothing, validated with the build, repaired once.
    private func draft(_ provider: any LLMProvider, _ providerSettings: ProviderSettings, _ base: [ChatMessage])
        async throws -> Draft
    {
        let finished = kept.withLock { $0 }
        var request = base
        if !finished.isEmpty {
            // A failover keeps what the last attempt finished: this one writes the rest.
            let done = Self.outcome(of: finished)
            request += [
                ChatMessage(
                    .assistant,
                    done.written.map { "<file path=\"\($0.path)\">\n\($0.contents)</file>\n" }.joined()
                        + done.deleted.map { "<delete path=\"\($0)\"/>\n" }.joined()),
                ChatMessage(.user, Prompts.remaining(done.written.map(\.path), deleted: done.deleted)),
            ]
        }
        var parsed = try await answer(provider, providerSettings, request, purpose: .generate)
        var tree = TreeEdit(edit?.base ?? [])
        tree.apply(finished, rules: rules)
        tree.apply(parsed.parser, rules: rules)
        if let edit, tree.issues.isEmpty, TreeEdit.changes(from: edit.base, to: tree.files).isEmpty {
            return Draft(unchangedBy: provider, notes: parsed.parser.prose)
        }
        var (issues, build) = try await validate(tree)
        try await reportValidation(issues)
        // One repair turn in every mode: the build's errors, like the checks', go back to the
        // provider that wrote the files. In an edit it edits the merged tree.
        if !issues.isEmpty {
            let repairMessages = base + [
                ChatMessage(.assistant, parsed.text), ChatMessage(.user, Prompts.repair(Validators.summary(issues))),
            ]
            parsed = try await answer(provider, providerSettings, repairMessages, purpose: .repair)
            var repaired = TreeEdit(tree.files)
            repaired.apply(parsed.parser, rules: rules)
            tree = repaired
            (issues, build) = try await validate(tree)
            try await reportValidation(issues)
        }
        guard issues.isEmpty else {
            log.lastIssues = issues
            var failure = ProviderFailure(
                .invalidOutput, .fallback, message: "\(issues.count) validation problem(s): \(Validators.summary(Array(issues.prefix(3))))")
            // Only broken output counts for the provider's breaker, not an app this platform does
            // not build (what the request asked for).
            failure.blamesProvider = !issues.allSatisfy(Validators.isRequestsFault)
            throw failure
        }
        let changes = edit.map { TreeEdit.changes(from: $0.base, to: tree.files) }
        if let changes, changes.isEmpty { return Draft(unchangedBy: provider, notes: parsed.parser.prose) }
        return Draft(
            files: tree.files, provider: provider.name, model: provider.model, build: build, changes: changes,
            notes: parsed.parser.prose.isEmpty ? nil : parsed.parser.prose)
    }

    /// What a list of operations leaves: the files written last, and the paths deleted last.
    static func outcome(of operations: [FileStreamParser.Operation]) -> (written: [ProjectFile], deleted: [String]) {
        var written: [ProjectFile] = []
        var deleted: [String] = []
        for operation in operations {
            written.removeAll { $0.path == operation.path }
            deleted.removeAll { $0 == operation.path }
            switch operation {
            case .write(let file): written.append(file)
            case .delete(let path): deleted.append(path)
            }
        }
        return (written, deleted)
    }

    /// The checks' issues and, when there is a builder, the build's errors beside them: the
    /// build runs even when a check failed, so one repair turn sees every problem.
    private func validate(_ tree: TreeEdit) async throws -> ([ValidationIssue], SiteBuild?) {
        let files = tree.files
        var issues = tree.issues + (await check(files))
        guard let builder else { return (issues, nil) }
        let build = try await builder.build(files)
        if build.status == .failed { issues += build.errors }
        return (issues, build)
    }

    /// Answers larger than this are validated on the global executor: a generation's task may
    /// run on a connection's event loop, which must not stall for long.
    static let validateInPlaceBytes = 256 * 1024

    private func check(_ files: [ProjectFile]) async -> [ValidationIssue] {
        let bytes = files.reduce(0) { $0 + $1.byteCount }
        guard bytes > Self.validateInPlaceBytes else { return checkInPlace(files) }
        return await withTaskExecutorPreference(globalConcurrentExecutor) { checkInPlace(files) }
    }

    private func checkInPlace(_ files: [ProjectFile]) -> [ValidationIssue] {
        var issues = Validators.validate(files)
        do {
            try PathRules.validate(files, limits: settings.limits)
        } catch {
            issues.append(ValidationIssue(path: nil, rule: "limits", message: "\(error)", line: nil))
        }
        return issues
    }

    private func reportValidation(_ issues: [ValidationIssue]) async throws {
        var event = GenerationEvent(.validation)
        event.passed = issues.isEmpty
        event.issues = Array(issues.prefix(50))
        try await emit(event)
    }

    /// The files of one answer, asking the same provider to continue (at most
    /// `maxContinuations` times) while it is cut off.
    private func answer(
        _ provider: any LLMProvider, _ providerSettings: ProviderSettings, _ messages: [ChatMessage],
        purpose: CompletionPurpose
    ) async throws -> (parser: FileStreamParser, text: String) {
        let parser = Shared(FileStreamParser(limits: settings.limits, edits: edit != nil))
        var text = ""
        var continuations = 0
        var conversation = messages
        var currentPurpose = purpose
        while true {
            let request = CompletionRequest(
                system: system, messages: conversation, maxTokens: settings.maxOutputTokens,
                purpose: currentPurpose, brief: brief, base: edit?.base)
            let reply: (text: String, finish: FinishReason, usage: TokenUsage?)
            do {
                reply = try await call(provider, providerSettings, request) { chunk in
                    for event in parser.withLock({ $0.feed(chunk) }) { try await self.report(event, provider: provider.name) }
                }
            } catch let failure as ProviderFailure where purpose == .generate || purpose == .continue {
                // The files this answer finished survive it; the one open at the cut does not.
                let done = parser.withLock { $0.operations }
                kept.withLock { $0 += done }
                throw failure
            }
            text += reply.text
            let (insideFile, openPath) = parser.withLock { ($0.isCutOff, $0.openPath) }
            let cut = insideFile || reply.finish == .length
            guard cut else { break }
            guard continuations < settings.maxContinuations else {
                throw ProviderFailure(
                    .truncated, .fallback,
                    message: "the answer was still cut off after \(continuations) continuation(s)"
                        + (openPath.map { " (in \($0))" } ?? ""))
            }
            continuations += 1
            var event = GenerationEvent(.continue)
            event.provider = provider.name
            event.path = openPath
            try await emit(event)
            conversation = messages + [ChatMessage(.assistant, text), ChatMessage(.user, Prompts.continue)]
            currentPurpose = .continue
        }
        for event in parser.withLock({ $0.finish() }) { try await report(event, provider: provider.name) }
        let done = parser.withLock { $0 }
        // An edit may change nothing (its caller decides what that means); a new app may not.
        guard !(edit == nil ? done.files.isEmpty : done.operations.isEmpty) else {
            if let overLimit = done.overLimit {
                throw ProviderFailure(.tooLarge, .fallback, message: "the answer's files were over the limits: \(overLimit)")
            }
            if edit != nil { return (done, text) }
            throw ProviderFailure(.noFiles, .fallback, message: "the answer contained no <file> blocks")
        }
        return (done, text)
    }

    private func report(_ event: FileStreamParser.Event, provider: String) async throws {
        switch event {
        case .fileStarted:
            break
        case .fileCompleted(let file):
            var reply = GenerationEvent(.file)
            reply.path = file.path
            reply.bytes = file.byteCount
            reply.provider = provider
            try await emit(reply)
        case .fileRejected(let path, let reason):
            logger.warning("generated file dropped", metadata: ["path": "\(path)", "reason": "\(reason)"])
        case .fileDeleted(let path):
            var reply = GenerationEvent(.file)
            reply.path = path
            reply.deleted = true
            reply.provider = provider
            try await emit(reply)
        }
    }

    /// One streaming provider call, recorded in the attempt log. `onText` runs in the provider's
    /// task, one chunk after the other.
    private func call(
        _ provider: any LLMProvider, _ providerSettings: ProviderSettings, _ request: CompletionRequest,
        onText: @escaping @Sendable (String) async throws -> Void = { _ in }
    ) async throws -> (text: String, finish: FinishReason, usage: TokenUsage?) {
        let clock = ContinuousClock()
        let start = clock.now
        let wallStart = Date()
        let received = Shared(Received())
        var recorded = false
        do {
            do {
                try await provider.complete(request) { event in
                    switch event {
                    case .text(let chunk):
                        received.withLock { $0.text += chunk }
                        do {
                            try await onText(chunk)
                        } catch {
                            throw Received.Consumer(error: error)
                        }
                    case .finished(let reason, let usage):
                        received.withLock { $0.finish = (reason, usage) }
                    }
                }
            } catch let consumer as Received.Consumer {
                throw consumer.error
            } catch let failure as ProviderFailure {
                throw failure
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                throw ProviderFailure(.connection, .retry, message: "\(error)")
            }
            let (text, finish) = received.withLock { ($0.text, $0.finish) }
            guard let (reason, usage) = finish else {
                // A stream ends quietly when its consumer is cancelled.
                if Task.isCancelled { throw CancellationError() }
                throw ProviderFailure(.streamCut, .retry, message: "the stream ended before the answer was complete")
            }
            recorded = true
            log.record(
                provider: provider.name, model: provider.model, purpose: request.purpose, outcome: "success",
                started: wallStart, duration: clock.now - start, usage: usage, price: providerSettings.price)
            if case .other(let raw) = reason {
                throw ProviderFailure(.contentBlocked, .fallback, message: "the provider stopped: \(raw)")
            }
            return (text, reason, usage)
        } catch let failure as ProviderFailure where !Task.isCancelled {
            if !recorded {
                log.record(
                    provider: provider.name, model: provider.model, purpose: request.purpose, outcome: "failed",
                    failure: failure, started: wallStart, duration: clock.now - start, usage: failure.usage,
                    price: providerSettings.price)
            }
            throw failure
        } catch {
            if !recorded {
                log.record(
                    provider: provider.name, model: provider.model, purpose: request.purpose,
                    outcome: Task.isCancelled || error is CancellationError ? "cancelled" : "failed", message: "\(error)",
                    started: wallStart, duration: clock.now - start)
            }
            throw error
        }
    }

    private func observe(_ purpose: CompletionPurpose) -> @Sendable (FallbackChain.Event) async throws -> Void {
        let emit = emit
        let log = log
        let kept = kept
        return { event in
            var reply: GenerationEvent
            switch event {
            case .attempt(let provider, let model, let attempt):
                reply = GenerationEvent(.attempt)
                reply.provider = provider
                reply.model = model
                reply.attempt = attempt
                reply.purpose = purpose.rawValue
            case .retry(let provider, let failure, let delay):
                reply = GenerationEvent(.retry)
                reply.provider = provider
                reply.reason = failure.kind.rawValue
                reply.message = failure.message
                reply.delaySeconds = (delay.seconds * 1000).rounded() / 1000
            case .fallback(let provider, let to, let reason, let message):
                reply = GenerationEvent(.fallback)
                reply.provider = provider
                reply.to = to
                reply.reason = reason
                reply.message = message
                let paths = kept.withLock { Run.outcome(of: $0) }
                let all = paths.written.map(\.path) + paths.deleted
                if !all.isEmpty { reply.kept = all }
            case .skipped(let provider, let model):
                log.record(
                    provider: provider, model: model, purpose: purpose, outcome: "skipped",
                    message: "circuit breaker open", started: Date(), duration: .zero)
                return
            }
            try await emit(reply)
        }
    }
}

/// What one provider call has handed over so far.
private struct Received: Sendable {
    var text = ""
    var finish: (FinishReason, TokenUsage?)?

    /// An error of the pipeline's own (the caller went away), not the provider's.
    struct Consumer: Error {
        var error: any Error
    }
}

/// A value shared by a call and the provider task that hands it chunks, one after the other.
final class Shared<Value: Sendable>: Sendable {
    private let value: Mutex<Value>

    init(_ value: Value) {
        self.value = Mutex(value)
    }

    func withLock<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        try value.withLock { try body(&$0) }
    }
}
