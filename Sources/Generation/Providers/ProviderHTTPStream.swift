import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import Synchronization
import VectortCore

/// Turns one provider's server-sent events into completion events.
package protocol ProviderEventDecoder: Sendable {
    /// Text deltas, and `finished` once the provider's terminator arrived. Throws
    /// `ProviderFailure` for an in-stream error, malformed data or a blocked prompt.
    mutating func decode(_ event: ServerSentEvent) throws -> [CompletionEvent]
    /// The terminator has been seen: the answer is complete.
    var isComplete: Bool { get }
    /// A 200 answer that is not an event stream (a server that ignored `stream: true`): its
    /// events, or nil when this provider does not accept that.
    func decodeWhole(_ body: [UInt8]) throws -> [CompletionEvent]?
    /// The tokens the stream has reported so far, for a call that fails before its end.
    var usageSoFar: TokenUsage? { get }
}

extension ProviderEventDecoder {
    package func decodeWhole(_ body: [UInt8]) throws -> [CompletionEvent]? { nil }
    package var usageSoFar: TokenUsage? { nil }
}

/// What each HTTP provider holds: its settings, the daemon's HTTP client and a logger tagged
/// with its name. Every call is one `ProviderHTTPStream` attempt made from it.
struct ProviderEndpoint: Sendable {
    let settings: ProviderSettings
    let httpClient: HTTPClient
    let logger: Logger
    let clock: any VectortClock

    init(_ settings: ProviderSettings, httpClient: HTTPClient, logger: Logger, clock: any VectortClock) {
        self.settings = settings
        self.httpClient = httpClient
        self.clock = clock
        var logger = logger
        logger.handler = RedactingLogHandler(inner: logger.handler, secret: settings.apiKey)
        logger[metadataKey: "provider"] = "\(settings.name)"
        self.logger = logger
    }

    func attempt<Decoder: ProviderEventDecoder>(
        _ request: HTTPClientRequest, decoder: Decoder, provider: ProviderKind
    ) -> ProviderHTTPStream<Decoder> {
        ProviderHTTPStream(
            httpClient: httpClient, request: request, decoder: decoder, provider: provider,
            timeouts: settings.timeouts, secret: settings.apiKey, logger: logger, clock: clock)
    }
}

/// One streaming HTTP attempt under the provider's clocks.
///
/// The request runs beside a watchdog that sleeps until the nearest deadline: the first-token
/// deadline (from sending the request to the first non-empty text delta; role chunks and pings
/// do not count), then the idle deadline (any bytes push it back), and the attempt's total
/// deadline. When one passes first, the watchdog's failure wins and the request is cancelled,
/// which closes its connection. The consumer stopping cancels the same way.
struct ProviderHTTPStream<Decoder: ProviderEventDecoder>: Sendable {
    var httpClient: HTTPClient
    var request: HTTPClientRequest
    var decoder: Decoder
    var provider: ProviderKind
    var timeouts: ProviderTimeouts
    var secret: String?
    var logger: Logger
    var clock: any VectortClock

    /// Largest error body read for classification.
    private static var errorBodyLimit: Int { 64 * 1024 }

    func start() -> AsyncThrowingStream<CompletionEvent, any Error> {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: CompletionEvent.self)
        // On the caller's executor when it has one: each chunk then goes from the connection's
        // event loop to the consumer without a thread hop.
        let task = Task(executorPreference: PreferredExecutor.current) {
            do {
                try await complete { event in
                    continuation.yield(event)
                    if case .finished = event { continuation.finish() }
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { termination in
            if case .cancelled = termination { task.cancel() }
        }
        return stream
    }

    /// The call, with each event handed to `onEvent` in this task: no stream buffer and no task
    /// switch per chunk. What `onEvent` throws comes back unchanged; everything else is a
    /// `ProviderFailure` or `CancellationError`. Once `finished` is handed over, the rest of the
    /// body is read (so the connection can be reused) and its failures no longer matter.
    func complete(_ onEvent: @escaping @Sendable (CompletionEvent) async throws -> Void) async throws {
        let clock = AttemptClock(timeouts: timeouts, clock: self.clock)
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await clock.watch() }
                group.addTask {
                    try await exchange(clock: clock) { event in
                        do {
                            try await onEvent(event)
                        } catch {
                            throw ConsumerFailure(error: error)
                        }
                    }
                }
                try await group.next()
                group.cancelAll()
            }
        } catch let consumer as ConsumerFailure {
            throw consumer.error
        } catch where clock.isComplete {
            return
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            var failure = ProviderErrorClassifier.classifyTransport(error, responseStarted: false, secret: secret)
            failure.message = ProviderErrorClassifier.redact(failure.message, secret: secret)
            logger.debug(
                "provider attempt failed",
                metadata: ["kind": "\(failure.kind.rawValue)", "status": "\(failure.status.map(String.init) ?? "-")"])
            throw failure
        }
    }

    /// An error of the consumer's, carried through the attempt unchanged.
    private struct ConsumerFailure: Error {
        var error: any Error
    }

    private func exchange(clock: AttemptClock, _ emit: @Sendable (CompletionEvent) async throws -> Void) async throws {
        let response: HTTPClientResponse
        do {
            response = try await httpClient.execute(
                request, deadline: .now() + (timeouts.total + .seconds(5)).timeAmount, logger: logger)
        } catch {
            throw ProviderErrorClassifier.classifyTransport(error, responseStarted: false, secret: secret)
        }
        clock.noteBytes()
        let status = Int(response.status.code)
        guard status == 200 else {
            let body = await collect(response.body, limit: Self.errorBodyLimit)
            throw ProviderErrorClassifier.classify(
                status: status, headers: response.headers, body: body, provider: provider, secret: secret,
                now: self.clock.date)
        }
        // Some local servers label their event stream text/plain or not at all: only a JSON
        // content type means "not a stream".
        let contentType = response.headers.first(name: "content-type")?.lowercased() ?? ""
        guard !contentType.contains("json") else {
            try await answerWhole(response, clock: clock, emit)
            return
        }

        var decoder = self.decoder
        do {
            try await stream(response, decoder: &decoder, clock: clock, emit)
        } catch var failure as ProviderFailure {
            // What the provider had reported is still spent.
            if failure.usage == nil { failure.usage = decoder.usageSoFar }
            throw failure
        }
    }

    private func stream(
        _ response: HTTPClientResponse, decoder: inout Decoder, clock: AttemptClock,
        _ emit: @Sendable (CompletionEvent) async throws -> Void
    ) async throws {
        var events = ServerSentEventDecoder()
        var iterator = response.body.makeAsyncIterator()
        while true {
            let buffer: ByteBuffer?
            do {
                buffer = try await iterator.next()
            } catch {
                throw ProviderErrorClassifier.classifyTransport(error, responseStarted: true, secret: secret)
            }
            guard let buffer else { break }
            clock.noteBytes()
            for event in events.feed(buffer) {
                for output in try decoder.decode(event) {
                    if case .text(let text) = output {
                        guard !text.isEmpty else { continue }
                        clock.noteText()
                    }
                    if case .finished = output { clock.noteComplete() }
                    try await emit(output)
                }
                if decoder.isComplete {
                    await drain(&iterator, clock: clock)
                    return
                }
            }
        }
        throw ProviderFailure(
            .streamCut, .retry,
            message: "the stream ended without the provider's end-of-answer marker")
    }

    /// A 200 that is not an event stream: an error object in the body, or (OpenAI-compatible
    /// servers that ignore `stream`) a whole answer.
    private func answerWhole(
        _ response: HTTPClientResponse, clock: AttemptClock, _ emit: @Sendable (CompletionEvent) async throws -> Void
    ) async throws {
        let body = await collect(response.body, limit: 16 * 1024 * 1024)
        clock.noteText()
        if ProviderErrorEnvelope(body: body).isErrorObject {
            throw ProviderErrorClassifier.classifyInStream(
                String(decoding: body, as: UTF8.self), provider: provider, secret: secret)
        }
        guard let events = try decoder.decodeWhole(body) else {
            throw ProviderFailure(
                .malformedResponse, .retry,
                message: "expected an event stream, got \(response.headers.first(name: "content-type") ?? "no content type")")
        }
        for event in events {
            if case .finished = event { clock.noteComplete() }
            try await emit(event)
        }
    }

    /// The body up to `limit` bytes; a body cut short still says enough to classify a status.
    private func collect(_ body: HTTPClientResponse.Body, limit: Int) async -> [UInt8] {
        var bytes: [UInt8] = []
        do {
            for try await var buffer in body where bytes.count < limit {
                bytes += buffer.readBytes(length: min(buffer.readableBytes, limit - bytes.count)) ?? []
            }
        } catch {}
        return bytes
    }

    /// After the terminator, reads what is left of the body so that the connection goes back to
    /// the pool instead of being closed; gives up at the idle deadline.
    private func drain(_ iterator: inout HTTPClientResponse.Body.AsyncIterator, clock: AttemptClock) async {
        clock.noteComplete()
        while (try? await iterator.next()) != nil {}
    }
}

/// The deadlines of one attempt, shared by the request (which notes progress) and the watchdog.
final class AttemptClock: Sendable {
    private struct State {
        var lastBytes: ContinuousClock.Instant
        var sawText = false
        var complete = false
    }

    private let timeouts: ProviderTimeouts
    private let clock: any VectortClock
    private let start: ContinuousClock.Instant
    private let state: Mutex<State>

    init(timeouts: ProviderTimeouts, clock: any VectortClock) {
        self.timeouts = timeouts
        self.clock = clock
        start = clock.now
        state = Mutex(State(lastBytes: start))
    }

    func noteBytes() {
        let now = clock.now
        state.withLock { $0.lastBytes = now }
    }

    func noteText() {
        let now = clock.now
        state.withLock {
            $0.sawText = true
            $0.lastBytes = now
        }
    }

    /// Whether the answer is in.
    var isComplete: Bool { state.withLock { $0.complete } }

    /// The answer is in: only the idle deadline bounds the rest of the body.
    func noteComplete() {
        let now = clock.now
        state.withLock {
            $0.complete = true
            $0.lastBytes = now
        }
    }

    private func nextDeadline() -> (ContinuousClock.Instant, ProviderFailure.Kind, Bool) {
        state.withLock { state in
            let total = start + timeouts.total
            let step: (ContinuousClock.Instant, ProviderFailure.Kind) =
                state.sawText || state.complete
                ? (state.lastBytes + timeouts.idle, .idleTimeout)
                : (start + timeouts.firstToken, .firstTokenTimeout)
            return step.0 <= total ? (step.0, step.1, state.complete) : (total, .totalTimeout, state.complete)
        }
    }

    /// Returns never; throws the timeout that passes first (or CancellationError).
    func watch() async throws {
        while true {
            let (deadline, kind, complete) = nextDeadline()
            let now = clock.now
            if now >= deadline {
                if complete { throw CancellationError() }
                throw ProviderFailure(kind, .retry, message: message(kind))
            }
            // Never sleep longer than the idle timeout: the first text switches from the
            // first-token deadline to an idle deadline that may be earlier.
            try await clock.sleep(until: min(deadline, now + timeouts.idle))
        }
    }

    private func message(_ kind: ProviderFailure.Kind) -> String {
        switch kind {
        case .firstTokenTimeout: "no text within \(timeouts.firstToken) of sending the request"
        case .idleTimeout: "the stream was silent for \(timeouts.idle)"
        default: "the attempt took longer than \(timeouts.total)"
        }
    }
}

extension Duration {
    var timeAmount: TimeAmount {
        let (seconds, attoseconds) = components
        return .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
