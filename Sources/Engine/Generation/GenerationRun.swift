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
    let log: AttemptLog
    let emit: GenerationPipeline.Emit
    let builder: SiteBuilder?
    /// The providers in the order to try them; nil: the configured chain.
    let providers: [String]?
    let logger: Logger
    /// Files an attempt finished before its stream was cut or failed: the next attempt writes
    /// only the rest.
    let kept = Shared<[ProjectFile]>([])

    func execute(deadline: ContinuousClock.Instant) async throws -> Draft {
        var messages = [ChatMessage(.user, Prompts.userRequest(brief))]
        if mode == .advanced {
            let plan = try await chain.run(providers: providers, deadline: deadline, observe: observe(.plan)) { provider, settings in
                try await call(provider, settings, CompletionRequest(
                    system: Prompts.system, messages: [ChatMessage(.user, Prompts.userRequest(brief) + "\n" + Prompts.plan)],
                    maxTokens: min(2048, self.settings.maxOutputTokens), purpose: .plan, brief: brief)
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

    /// One provider's answer: parsed, continued while cut off, validated, repaired once in
    /// advanced mode.
    private func draft(_ provider: any LLMProvider, _ providerSettings: ProviderSettings, _ base: [ChatMessage])
        async throws -> Draft
    {
        let finished = kept.withLock { $0 }
        var request = base
        if !finished.isEmpty {
            // A failover keeps what the last attempt finished: this one writes the rest.
            request += [
                ChatMessage(.assistant, finished.map { "<file path=\"\($0.path)\">\n\($0.contents)</file>\n" }.joined()),
                ChatMessage(.user, Prompts.remaining(finished.map(\.path))),
            ]
        }
        var parsed = try await answer(provider, providerSettings, request, purpose: .generate)
        var files = Self.merged(finished, parsed.files)
        var (issues, build) = try await validate(files)
        try await reportValidation(issues)
        // One repair turn in every mode: the build's errors, like the checks', go back to the
        // provider that wrote the files.
        if !issues.isEmpty {
            let repairMessages = base + [
                ChatMessage(.assistant, parsed.text), ChatMessage(.user, Prompts.repair(Validators.summary(issues))),
            ]
            parsed = try await answer(provider, providerSettings, repairMessages, purpose: .repair)
            var byPath = Dictionary(files.map { ($0.path, $0) }, uniquingKeysWith: { $1 })
            for file in parsed.files where byPath[file.path] == nil { files.append(file) }
            for file in parsed.files { byPath[file.path] = file }
            files = files.map { byPath[$0.path]! }
            (issues, build) = try await validate(files)
            try await reportValidation(issues)
        }
        guard issues.isEmpty else {
            log.lastIssues = issues
            throw ProviderFailure(.invalidOutput, .fallback, message: "\(issues.count) validation problem(s): \(Validators.summary(Array(issues.prefix(3))))")
        }
        return Draft(files: files, provider: provider.name, model: provider.model, build: build)
    }

    /// `base` with `changes` over it, in the order files were first written.
    static func merged(_ base: [ProjectFile], _ changes: [ProjectFile]) -> [ProjectFile] {
        guard !base.isEmpty else { return changes }
        var byPath = Dictionary(base.map { ($0.path, $0) }, uniquingKeysWith: { $1 })
        var order = base.map(\.path)
        for file in changes {
            if byPath[file.path] == nil { order.append(file.path) }
            byPath[file.path] = file
        }
        return order.map { byPath[$0]! }
    }

    /// The checks' issues and, when there is a builder, the build's errors beside them: the
    /// build runs even when a check failed, so one repair turn sees every problem.
    private func validate(_ files: [ProjectFile]) async throws -> ([ValidationIssue], SiteBuild?) {
        var issues = await check(files)
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
    ) async throws -> (files: [ProjectFile], text: String) {
        let parser = Shared(FileStreamParser(limits: settings.limits))
        var text = ""
        var continuations = 0
        var conversation = messages
        var currentPurpose = purpose
        while true {
            let request = CompletionRequest(
                system: Prompts.system, messages: conversation, maxTokens: settings.maxOutputTokens,
                purpose: currentPurpose, brief: brief)
            let reply: (text: String, finish: FinishReason, usage: TokenUsage?)
            do {
                reply = try await call(provider, providerSettings, request) { chunk in
                    for event in parser.withLock({ $0.feed(chunk) }) { try await self.report(event, provider: provider.name) }
                }
            } catch let failure as ProviderFailure where purpose == .generate || purpose == .continue {
                // The files this answer finished survive it; the one open at the cut does not.
                let done = parser.withLock { $0.files }
                kept.withLock { $0 = Self.merged($0, done) }
                throw failure
            }
            text += reply.text
            let (insideFile, openPath) = parser.withLock { ($0.isInsideFile, $0.openPath) }
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
        let (files, overLimit) = parser.withLock { ($0.files, $0.overLimit) }
        guard !files.isEmpty else {
            if let overLimit {
                throw ProviderFailure(.tooLarge, .fallback, message: "the answer's files were over the limits: \(overLimit)")
            }
            throw ProviderFailure(.noFiles, .fallback, message: "the answer contained no <file> blocks")
        }
        return (files, text)
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
                started: wallStart, duration: clock.now - start, usage: usage)
            if case .other(let raw) = reason {
                throw ProviderFailure(.contentBlocked, .fallback, message: "the provider stopped: \(raw)")
            }
            return (text, reason, usage)
        } catch let failure as ProviderFailure where !Task.isCancelled {
            if !recorded {
                log.record(
                    provider: provider.name, model: provider.model, purpose: request.purpose, outcome: "failed",
                    failure: failure, started: wallStart, duration: clock.now - start)
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
                let paths = kept.withLock { $0.map(\.path) }
                if !paths.isEmpty { reply.kept = paths }
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
