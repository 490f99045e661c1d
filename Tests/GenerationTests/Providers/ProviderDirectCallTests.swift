import Foundation
import Synchronization
import Testing
import VectortTesting

@testable import Generation
import VectortCore

/// `complete(_:onEvent:)` hands events to the caller's closure without the stream's buffer.
/// It must tell the same story as `stream` for every outcome, and leave the caller's own
/// errors alone.
@Suite("Provider calls without a stream")
struct ProviderDirectCallTests {
    struct CallerLeft: Error, Equatable {}

    static func driveDirect(_ provider: any LLMProvider) async -> StreamOutcome {
        let outcome = Mutex(StreamOutcome())
        let start = ContinuousClock.now
        do {
            try await provider.complete(sampleRequest) { event in outcome.withLock { $0.record(event) } }
        } catch let failure as ProviderFailure {
            outcome.withLock { $0.failure = failure }
        } catch {
            outcome.withLock { $0.otherError = error }
        }
        return outcome.withLock { outcome in
            outcome.elapsed = ContinuousClock.now - start
            return outcome
        }
    }

    static let scripts: [(String, FakeLLMScript)] = [
        ("answer", .answer(ProviderStreamingTests.answerText, chunkSize: 7, usage: FakeLLMUsage(inputTokens: 3, outputTokens: 9))),
        ("length", .answer("cut here", finishReason: "length")),
        ("cut", .cut(afterChunks: 3)),
        ("clean cut", .cut(afterChunks: 2, cleanly: true)),
        ("in-stream error", .inStreamError(afterChunks: 2)),
        ("malformed", .malformed(afterChunks: 2)),
        ("rate limited", .rateLimited()),
        ("unauthorized", .status(401, type: "invalid_request_error", message: "bad key")),
    ]

    @Test(arguments: networkKinds)
    func everyOutcomeMatchesTheStreamedCall(kind: ProviderKind) async throws {
        for (name, script) in Self.scripts {
            let (streamed, direct) = try await withProvider(kind, scripts: [script, script]) { _, provider in
                (await drive(provider), await Self.driveDirect(provider))
            }
            #expect(direct.text == streamed.text, "\(name)")
            #expect(direct.texts == streamed.texts, "\(name)")
            #expect(direct.finish == streamed.finish, "\(name)")
            #expect(direct.usage == streamed.usage, "\(name)")
            #expect(direct.failure?.kind == streamed.failure?.kind, "\(name)")
            #expect(direct.failure?.disposition == streamed.failure?.disposition, "\(name)")
            #expect(direct.otherError == nil && streamed.otherError == nil, "\(name)")
            #expect(direct.eventsAfterFinish == 0, "\(name)")
            // Each script ends as it should, so the comparison is not of two empty outcomes.
            if name == "answer" || name == "length" {
                #expect(direct.finish != nil && direct.failure == nil && !direct.text.isEmpty, "\(name)")
            } else {
                #expect(direct.failure != nil && direct.finish == nil, "\(name)")
            }
        }
    }

    @Test(arguments: networkKinds)
    func theCallersOwnErrorComesBackUnchanged(kind: ProviderKind) async throws {
        try await withProvider(kind, scripts: [.answer(ProviderStreamingTests.answerText, chunkSize: 5)]) { _, provider in
            let seen = Mutex(0)
            await #expect(throws: CallerLeft.self) {
                try await provider.complete(sampleRequest) { _ in
                    seen.withLock { $0 += 1 }
                    throw CallerLeft()
                }
            }
            #expect(seen.withLock { $0 } == 1)
        }
    }
}
