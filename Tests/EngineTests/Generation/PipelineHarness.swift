import Build
import Foundation
import Logging
import Protocol
import Synchronization
import Testing
import VectortTesting

@testable import Engine
@testable import Generation
import VectortCore

@testable import Storage

/// An in-process provider that plays a script, one step per call, and records its requests.
final class ScriptedProvider: LLMProvider, Sendable {
    enum Step: Sendable {
        /// Streams `text` in `chunks` pieces, then finishes.
        case answer(String, finish: FinishReason = .stop, chunks: Int = 4, usage: TokenUsage? = TokenUsage(inputTokens: 100, outputTokens: 50))
        /// Streams `text`, then fails.
        case failAfter(String, ProviderFailure)
        case fail(ProviderFailure)
        /// Never answers; ends only by cancellation.
        case hang
    }

    let name: String
    let model: String
    var kind: ProviderKind { .openaiCompatible }
    private let steps: Mutex<[Step]>
    private let fallback: Step
    private let recorded = Mutex<[CompletionRequest]>([])

    init(_ name: String, model: String = "m-1", _ steps: [Step], then fallback: Step = .fail(.init(.serverError, .retry, status: 500, message: "script exhausted"))) {
        self.name = name
        self.model = model
        self.steps = Mutex(steps)
        self.fallback = fallback
    }

    var requests: [CompletionRequest] { recorded.withLock { $0 } }
    var calls: Int { requests.count }

    func stream(_ request: CompletionRequest) -> AsyncThrowingStream<CompletionEvent, any Error> {
        recorded.withLock { $0.append(request) }
        let step = steps.withLock { $0.isEmpty ? fallback : $0.removeFirst() }
        return AsyncThrowingStream { continuation in
            let task = Task {
                switch step {
                case .answer(let text, let finish, let chunks, let usage):
                    for piece in Self.split(text, chunks) { continuation.yield(.text(piece)) }
                    continuation.yield(.finished(finish, usage))
                    continuation.finish()
                case .failAfter(let text, let failure):
                    for piece in Self.split(text, 3) { continuation.yield(.text(piece)) }
                    continuation.finish(throwing: failure)
                case .fail(let failure):
                    continuation.finish(throwing: failure)
                case .hang:
                    do {
                        try await Task.sleep(for: .seconds(3600))
                    } catch {
                        continuation.finish(throwing: CancellationError())
                    }
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    static func split(_ text: String, _ count: Int) -> [String] {
        guard count > 1, text.count > count else { return [text] }
        let size = text.count / count
        var pieces: [String] = []
        var rest = Substring(text)
        while !rest.isEmpty {
            pieces.append(String(rest.prefix(size)))
            rest = rest.dropFirst(size)
        }
        return pieces
    }
}

/// Virtual time for the chain: sleeping advances the clock at once and is recorded.
final class VirtualTime: VectortClock {
    private let state = Mutex<(offset: Duration, sleeps: [Duration])>((.zero, []))
    let base = ContinuousClock.now
    let baseDate = Date()

    var now: ContinuousClock.Instant { base + state.withLock { $0.offset } }
    var date: Date { baseDate.addingTimeInterval(state.withLock { $0.offset }.seconds) }
    var sleeps: [Duration] { state.withLock { $0.sleeps } }

    func sleep(until deadline: ContinuousClock.Instant) async throws {
        try Task.checkCancellation()
        state.withLock {
            let duration = max(.zero, deadline - (base + $0.offset))
            $0.offset += duration
            $0.sleeps.append(duration)
        }
    }

    func advance(_ duration: Duration) { state.withLock { $0.offset += duration } }
}

/// Events a generation streamed.
final class EventLog: Sendable {
    private let events = Mutex<[GenerationEvent]>([])

    var all: [GenerationEvent] { events.withLock { $0 } }
    var kinds: [GenerationEvent.Kind] { all.map(\.event) }

    func append(_ event: GenerationEvent) { events.withLock { $0.append(event) } }
}

struct PipelineHarness: Sendable {
    let engine: TestEngine
    let registry: ProviderRegistry
    let pipeline: GenerationPipeline
    let time: VirtualTime
    let events = EventLog()

    /// A fresh user (10 free credits by default) with a draft project.
    func project(title: String = "Soap Shop") async throws -> (user: String, project: String) {
        let user = try await engine.user()
        let project = try await engine.projects.create(user: user, title: title, description: "handmade soap").id
        return (user, project)
    }

    func generate(
        _ project: String, owner: String? = nil, prompt: String = "a shop for handmade soap", mode: GenerationMode = .quick,
        key: String? = nil, base: String? = nil, fresh: Bool = false
    ) async throws -> GenerationResult {
        let events = events
        return try await pipeline.generate(
            GenerationPipeline.Request(
                project: project, owner: owner, prompt: prompt, mode: mode, idempotencyKey: key, baseVersion: base,
                fresh: fresh),
            emit: { events.append($0) })
    }

    func balance(_ user: String) async throws -> Int {
        try await engine.ledger.balance(user: user).total
    }
}

func withPipeline<T>(
    _ providers: [ScriptedProvider], chain: [String]? = nil, freeOnSignup: Int = 10,
    retry: RetryPolicy = RetryPolicy(maxRetries: 2, base: .seconds(1), cap: .seconds(8)),
    breaker: BreakerPolicy = BreakerPolicy(), settings: GenerationSettings = GenerationSettings(),
    deadlineClock: any VectortClock = SystemClock(), builder: SiteBuilder? = nil, on backend: Backend = .sqlite,
    _ body: (PipelineHarness) async throws -> T
) async throws -> T {
    let entries: [(ProviderSettings, any LLMProvider)] = providers.map {
        (
            ProviderSettings(
                name: $0.name, kind: $0.kind, model: $0.model, baseURL: "http://127.0.0.1:1", retry: retry, breaker: breaker),
            $0
        )
    }
    return try await withPipeline(
        entries: entries, chain: chain, freeOnSignup: freeOnSignup, settings: settings, deadlineClock: deadlineClock,
        builder: builder, on: backend, body)
}

/// The pipeline over any providers (real HTTP clients included), with virtual time for retries.
func withPipeline<T>(
    entries: [(ProviderSettings, any LLMProvider)], chain: [String]? = nil, freeOnSignup: Int = 10,
    settings: GenerationSettings = GenerationSettings(), deadlineClock: any VectortClock = SystemClock(),
    builder: SiteBuilder? = nil, on backend: Backend = .sqlite, _ body: (PipelineHarness) async throws -> T
) async throws -> T {
    try await withEngine(on: backend, freeOnSignup: freeOnSignup) { engine in
        let time = VirtualTime()
        let registry = ProviderRegistry(providers: entries, chain: chain ?? entries.map(\.0.name), clock: time)
        let chainRunner = FallbackChain(registry: registry, clock: time, random: { $0.upperBound })
        let store = GenerationStore(repository: engine.storage.generations, now: { engine.clock.date })
        let pipeline = GenerationPipeline(
            store: store, chain: chainRunner, settings: { settings }, builder: builder, clock: deadlineClock,
            logger: Logger(label: "pipeline-tests"))
        return try await body(PipelineHarness(engine: engine, registry: registry, pipeline: pipeline, time: time))
    }
}

/// A small static app that passes every validator.
enum SampleApp {
    static let files: [ProjectFile] = [
        ProjectFile(
            path: "index.html",
            contents: """
                <!DOCTYPE html>
                <html lang="en">
                <head><meta charset="utf-8"><title>Soap</title><link rel="stylesheet" href="styles.css"></head>
                <body><main id="app"></main><script src="app.js"></script></body>
                </html>

                """),
        ProjectFile(path: "styles.css", contents: "body { font-family: sans-serif; }\n"),
        ProjectFile(
            path: "app.js",
            contents: "const app = document.getElementById('app');\napp.textContent = `Soap: ${1 + 1} bars`;\n"),
    ]

    static func answer(_ files: [ProjectFile] = files, prose: String = "Here is your app.") -> String {
        prose + "\n" + files.map { "<file path=\"\($0.path)\">\n\($0.contents)</file>\n" }.joined()
    }
}
