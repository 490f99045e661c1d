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
        prices: [ProviderKind: TokenPrice] = [:], _ body: ([FakeLLMServer], PipelineHarness) async throws -> T
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
                    timeouts: .relaxed, retry: retry, price: prices[kind])
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

    /// Spend across a retry and a fallback: Anthropic's cut streams still spent their input (its
    /// `message_start` said how much), OpenAI's answer is priced with its cached input; the
    /// generation costs the sum, and `Usage.Summary` adds up to the records.
    @Test func everyCallIsPricedAcrossRetriesAndFallbacksAndTheSummaryMatchesTheRecords() async throws {
        let prices: [ProviderKind: TokenPrice] = [
            .anthropic: TokenPrice(currency: "usd", inputPerMTok: 300, outputPerMTok: 1500, cachedInputPerMTok: 30),
            .openai: TokenPrice(currency: "usd", inputPerMTok: 250, outputPerMTok: 1000, cachedInputPerMTok: 125),
        ]
        try await withChain([.anthropic, .openai], retry: RetryPolicy(maxRetries: 1, base: .zero, cap: .zero), prices: prices) {
            servers, h in
            servers[0].enqueue(
                .cut(afterChunks: 2, text: SampleApp.answer()), .cut(afterChunks: 2, text: SampleApp.answer()))
            servers[1].enqueue(
                .answer(SampleApp.answer(), chunkSize: 64, usage: FakeLLMUsage(inputTokens: 4_000, outputTokens: 2_000, cachedInputTokens: 1_000)))
            let (user, project) = try await h.project()
            let result = try await h.generate(project)
            #expect(result.provider == "openai")
            let record = try await h.pipeline.store.get(result.generation)
            #expect(record.attempts.map(\.provider) == ["anthropic", "anthropic", "openai"])
            let anthropic = record.attempts.filter { $0.provider == "anthropic" }
            for attempt in anthropic {
                let usage = try #require(attempt.usage, "the cut call's reported input is lost")
                #expect(attempt.cost == prices[.anthropic]!.cost(of: TokenUsage(inputTokens: usage.inputTokens, outputTokens: usage.outputTokens)))
            }
            // 3,000 × 250 + 1,000 × 125 + 2,000 × 1,000 = 2,875,000 cent-tokens per million = 28,750 micros.
            let openai = try #require(record.attempts.last)
            #expect(openai.cost == Cost(amountMicros: 28_750, currency: "usd"))
            let total = record.attempts.compactMap(\.cost).reduce(Int64(0)) { $0 + $1.amountMicros }
            #expect(record.cost == Cost(amountMicros: total, currency: "usd"))
            #expect(result.cost == record.cost)
            #expect(total > 28_750)

            let byProvider = try await h.pipeline.store.usage(user: user, since: nil, until: nil, groupBy: "provider")
            let rows = Dictionary(uniqueKeysWithValues: byProvider.rows.map { ($0.key, $0) })
            #expect(rows["anthropic"]?.calls == 2)
            #expect(rows["anthropic"]?.generations == 0, "generations count by the provider that answered")
            #expect(rows["anthropic"]?.cost?.amountMicros == anthropic.compactMap(\.cost).reduce(0) { $0 + $1.amountMicros })
            #expect(rows["openai"]?.generations == 1)
            #expect(rows["openai"]?.cost == openai.cost)
            #expect(rows["openai"]?.cachedInputTokens == 1_000)
            #expect(byProvider.total.cost == record.cost)
            #expect(byProvider.total.creditsCharged == record.creditsCharged)
            #expect(byProvider.total.inputTokens == record.usage.inputTokens)
            let byDay = try await h.pipeline.store.usage(user: nil, since: nil, until: nil, groupBy: "day")
            #expect(byDay.rows.count == 1)
            #expect(byDay.total == UsageRow(
                key: "total", generations: 1, completed: 1, creditsCharged: record.creditsCharged, calls: 3,
                inputTokens: record.usage.inputTokens, outputTokens: record.usage.outputTokens, cachedInputTokens: 1_000,
                cost: record.cost))
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
