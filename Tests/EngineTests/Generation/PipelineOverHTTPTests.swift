import AsyncHTTPClient
import Foundation
import Protocol
import Testing
import VectortTesting

@testable import Engine
@testable import Generation
import VectortCore

@testable import Storage

/// The pipeline over the real provider clients and the loopback fakes: wire-level failures
/// become the right chain decisions.
@Suite("Generation over HTTP providers")
struct PipelineOverHTTPTests {
    static let key = "sk-test-pipeline-7c1e"

    /// Fakes of the given flavours behind real clients, chained in that order.
    func withChain<T>(
        _ kinds: [ProviderKind], retry: RetryPolicy = RetryPolicy(maxRetries: 2, base: .seconds(1), cap: .seconds(8)),
        _ body: ([FakeLLMServer], PipelineHarness) async throws -> T
    ) async throws -> T {
        let client = HTTPClient(
            eventLoopGroup: HTTPClient.defaultEventLoopGroup,
            configuration: ProviderClient.configuration(for: .relaxed))
        var servers: [FakeLLMServer] = []
        do {
            var entries: [(ProviderSettings, any LLMProvider)] = []
            for kind in kinds {
                let server = try await FakeLLMServer.start(kind.fakeFlavour, apiKey: Self.key)
                servers.append(server)
                let settings = ProviderSettings(
                    name: kind.rawValue, kind: kind, model: kind.sampleModel, baseURL: server.baseURL, apiKey: Self.key,
                    timeouts: .relaxed, retry: retry)
                entries.append((settings, ProviderFactory.make(settings, httpClient: client)))
            }
            let result = try await withPipeline(entries: entries) { h in try await body(servers, h) }
            for server in servers { try await server.shutdown() }
            try await client.shutdown()
            return result
        } catch {
            for server in servers { try? await server.shutdown() }
            try? await client.shutdown()
            throw error
        }
    }

    @Test func aRateLimitedOpenAIIsRetriedAfterItsRetryAfterMs() async throws {
        try await withChain([.openai]) { servers, h in
            servers[0].enqueue(
                .rateLimited(headers: [("retry-after-ms", "1500"), ("retry-after", "2")]),
                .answer(SampleApp.answer(), chunkSize: 64, usage: FakeLLMUsage(inputTokens: 321, outputTokens: 654)))
            let (user, project) = try await h.project()
            let result = try await h.generate(project)
            #expect(result.provider == "openai")
            #expect(result.files == ["app.js", "index.html", "styles.css"])
            #expect(result.usage == GenerationUsage(inputTokens: 321, outputTokens: 654))
            #expect(h.time.sleeps == [.milliseconds(1500)])
            #expect(servers[0].callCount == 2)
            #expect(try await h.balance(user) == 8)
        }
    }

    @Test func anAnthropicOverloadInTheStreamIsRetriedNotTakenForAnAnswer() async throws {
        try await withChain([.anthropic]) { servers, h in
            servers[0].enqueue(
                .inStreamError(afterChunks: 3, text: SampleApp.answer()), .answer(SampleApp.answer(), chunkSize: 64))
            let (user, project) = try await h.project()
            let result = try await h.generate(project)
            #expect(result.provider == "anthropic")
            #expect(h.events.all.first { $0.event == .retry }?.reason == "in_stream_error")
            let record = try await h.pipeline.store.get(result.generation)
            #expect(record.attempts.map(\.outcome) == ["failed", "success"])
            #expect(try await h.balance(user) == 8)
            let request = try #require(servers[0].lastRequest?.json)
            #expect(request["system"]?.stringValue?.contains("<file path=") == true)
        }
    }

    @Test func aCutGeminiStreamIsRetriedThenAnUnauthorizedOpenAIFallsBackToGemini() async throws {
        try await withChain([.openai, .gemini]) { servers, h in
            servers[0].enqueue(.unauthorized)
            servers[1].enqueue(.cut(afterChunks: 2, text: SampleApp.answer()), .answer(SampleApp.answer(), chunkSize: 64))
            let (user, project) = try await h.project()
            let result = try await h.generate(project)
            #expect(result.provider == "gemini")
            #expect(servers[0].callCount == 1)
            #expect(servers[1].callCount == 2)
            let kinds = h.events.all.compactMap { event -> String? in
                switch event.event {
                case .fallback: "fallback:\(event.reason ?? "")"
                case .retry: "retry:\(event.reason ?? "")"
                default: nil
                }
            }
            #expect(kinds == ["fallback:authentication", "retry:stream_cut"])
            #expect(try await h.balance(user) == 8)
        }
    }

    @Test func anAnswerCutAtTheOutputLimitIsContinuedOverTheWire() async throws {
        try await withChain([.openai]) { servers, h in
            let full = SampleApp.answer()
            let cut = full.index(full.startIndex, offsetBy: full.count / 2)
            servers[0].enqueue(
                .answer(String(full[..<cut]), chunkSize: 64, finishReason: "length"),
                .answer(String(full[cut...]), chunkSize: 64))
            let (_, project) = try await h.project()
            let result = try await h.generate(project)
            #expect(result.files == ["app.js", "index.html", "styles.css"])
            let second = try #require(servers[0].requests.last?.json?["messages"]?.arrayValue)
            #expect(second.dropLast().last?["role"] == .string("assistant"))
            #expect(second.last?["content"]?.stringValue?.contains("cut off") == true)
        }
    }
}
