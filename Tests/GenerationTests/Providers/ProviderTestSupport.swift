import AsyncHTTPClient
import Foundation
import NIOCore
import VectortCore
import VectortTesting

@testable import Generation

/// The key every provider test presents (and that must never show up in an error).
let testKey = "sk-test-4f9a2c71e0b3d5"

/// What one streamed call produced.
struct StreamOutcome {
    var text = ""
    var texts: [String] = []
    var finish: FinishReason?
    var usage: TokenUsage?
    var failure: ProviderFailure?
    var otherError: (any Error)?
    var elapsed: Duration = .zero
    /// Events after `finished` (there must be none).
    var eventsAfterFinish = 0

    mutating func record(_ event: CompletionEvent) {
        if finish != nil { eventsAfterFinish += 1 }
        switch event {
        case .text(let chunk):
            text += chunk
            texts.append(chunk)
        case .finished(let reason, let usage):
            finish = reason
            self.usage = usage
        }
    }
}

let sampleRequest = CompletionRequest(
    system: "You write small web apps.",
    messages: [
        ChatMessage(.user, "Make a todo app."), ChatMessage(.assistant, "Which style?"),
        ChatMessage(.user, "Minimal."),
    ],
    maxTokens: 1234, temperature: 0.25)

func drive(
    _ provider: any LLMProvider, _ request: CompletionRequest = sampleRequest, clock: any VectortClock = SystemClock()
) async -> StreamOutcome {
    var outcome = StreamOutcome()
    let start = clock.now
    do {
        for try await event in provider.stream(request) { outcome.record(event) }
    } catch let failure as ProviderFailure {
        outcome.failure = failure
    } catch {
        outcome.otherError = error
    }
    outcome.elapsed = clock.now - start
    return outcome
}

/// One call on virtual time: the call runs while `steer` watches what has arrived (the texts
/// so far) and advances `clock`. Elapsed time in the outcome is virtual.
func drive(
    _ provider: any LLMProvider, on clock: TestClock,
    steer: @Sendable (_ texts: @Sendable () -> Int) async throws -> Void
) async throws -> StreamOutcome {
    let texts = Locked(0)
    let call = Task {
        var outcome = StreamOutcome()
        let start = clock.now
        do {
            for try await event in provider.stream(sampleRequest) {
                if case .text = event { texts.withLock { $0 += 1 } }
                outcome.record(event)
            }
        } catch let failure as ProviderFailure {
            outcome.failure = failure
        } catch {
            outcome.otherError = error
        }
        outcome.elapsed = clock.now - start
        return outcome
    }
    do {
        try await steer { texts.withLock { $0 } }
    } catch {
        call.cancel()
        throw error
    }
    return await call.value
}

/// A fake of the kind's flavour, a provider of that kind pointed at it, and an HTTP client
/// configured as the factory asks; all torn down afterwards.
func withProvider<R>(
    _ kind: ProviderKind, serverKey: String? = testKey, providerKey: String? = testKey,
    timeouts: ProviderTimeouts = .relaxed, model: String? = nil, scripts: [FakeLLMScript] = [],
    clock: any VectortClock = SystemClock(),
    _ body: (FakeLLMServer, any LLMProvider) async throws -> R
) async throws -> R {
    let client = HTTPClient(
        eventLoopGroup: HTTPClient.defaultEventLoopGroup,
        configuration: ProviderClient.configuration(for: timeouts))
    do {
        let result = try await withFakeLLMServer(kind.fakeFlavour, apiKey: serverKey) { server in
            for script in scripts { server.enqueue(script) }
            let settings = ProviderSettings(
                name: "test-\(kind.rawValue)", kind: kind, model: model ?? kind.sampleModel, baseURL: server.baseURL,
                apiKey: providerKey, timeouts: timeouts)
            return try await body(server, ProviderClient.provider(settings, httpClient: client, clock: clock)!)
        }
        try await client.shutdown()
        return result
    } catch {
        try? await client.shutdown()
        throw error
    }
}

/// One call against a fresh fake with these scripts.
func outcome(
    _ kind: ProviderKind, timeouts: ProviderTimeouts = .relaxed, clock: any VectortClock = SystemClock(),
    _ scripts: FakeLLMScript...
) async throws -> StreamOutcome {
    try await withProvider(kind, timeouts: timeouts, scripts: scripts, clock: clock) { _, provider in
        await drive(provider, clock: clock)
    }
}

/// One call against a fresh fake on virtual time (see `drive(_:on:steer:)`).
func outcome(
    _ kind: ProviderKind, timeouts: ProviderTimeouts, on clock: TestClock, _ script: FakeLLMScript,
    steer: @Sendable (_ texts: @Sendable () -> Int) async throws -> Void
) async throws -> StreamOutcome {
    try await withProvider(kind, timeouts: timeouts, scripts: [script], clock: clock) { _, provider in
        try await drive(provider, on: clock, steer: steer)
    }
}

/// A test that time did not advance as it should have.
struct SteeringFailure: Error, CustomStringConvertible {
    var description: String
}

extension TestClock {
    /// Waits until the provider's watchdog sleeps (and, with `texts`, until that many texts
    /// arrived), then advances by `duration`.
    func advanceWhenAsleep(
        by duration: Duration, once texts: @Sendable () -> Int = { 0 }, reach count: Int = 0
    ) async throws {
        guard await Polling.until({ texts() >= count ? true : nil }) != nil else {
            throw SteeringFailure(description: "only \(texts()) of \(count) texts arrived")
        }
        guard await waitForSleepers() else { throw SteeringFailure(description: "the watchdog never slept") }
        advance(by: duration)
    }
}

/// The provider's own word for "stopped at the output limit" and "finished normally".
func nativeLengthReason(_ kind: ProviderKind) -> String {
    switch kind {
    case .anthropic: "max_tokens"
    case .gemini: "MAX_TOKENS"
    default: "length"
    }
}

let networkKinds: [ProviderKind] = [.openai, .openaiCompatible, .anthropic, .gemini]

