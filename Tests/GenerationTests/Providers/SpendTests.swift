import Foundation
import Protocol
import Testing
import VectortTesting

@testable import Generation

/// What provider calls cost: each API's usage (with its own way of reporting cached input) read
/// into tokens, then priced in integer millionths of the currency, never in floating point.
@Suite("Spend from each provider's usage")
struct SpendTests {
    /// $3.00 input, $0.30 cached input, $15.00 output per million tokens.
    static let price = TokenPrice(currency: "USD", inputPerMTok: 300, outputPerMTok: 1500, cachedInputPerMTok: 30)

    @Test(arguments: networkKinds)
    func cachedInputIsReadFromEachAPIAndPricedExactly(kind: ProviderKind) async throws {
        let result = try await outcome(
            kind, .answer("<file path=\"a.txt\">x</file>", usage: FakeLLMUsage(inputTokens: 12_345, outputTokens: 6_789, cachedInputTokens: 10_000)))
        let usage = try #require(result.usage)
        #expect(usage == TokenUsage(inputTokens: 12_345, outputTokens: 6_789, cachedInputTokens: 10_000))
        // 2,345 × 300 + 10,000 × 30 + 6,789 × 1,500 = 11,187,000 cent-tokens per million:
        // 11,187,000 / 10⁶ cents = $0.111870 = 111,870 micros.
        #expect(Self.price.cost(of: usage) == Cost(amountMicros: 111_870, currency: "usd"))
    }

    /// A stream cut after Anthropic's `message_start` has already spent its input tokens; the
    /// failure carries them, so the failed attempt is priced too. OpenAI reports usage only at
    /// the end: its cut call has none.
    @Test(arguments: [ProviderKind.anthropic, .openai])
    func aCutStreamKeepsTheUsageReportedBeforeTheCut(kind: ProviderKind) async throws {
        let result = try await outcome(kind, .cut(afterChunks: 3))
        let failure = try #require(result.failure)
        #expect(failure.kind == .streamCut)
        if kind == .anthropic {
            let usage = try #require(failure.usage, "the input message_start reported is lost")
            #expect(usage.inputTokens > 0)
            #expect(Self.price.cost(of: usage).amountMicros > 0)
        } else {
            #expect(failure.usage == nil)
        }
    }

    @Test func roundingIsHalfUpToTheMicroAndCurrenciesKeepTheirMinorUnits() {
        // 1 input token at 1 cent per million = 0.01 micro: rounds to 0; 50 tokens = 0.5 → 1.
        let cent = TokenPrice(currency: "usd", inputPerMTok: 1, outputPerMTok: 1)
        #expect(cent.cost(of: TokenUsage(inputTokens: 1)).amountMicros == 0)
        #expect(cent.cost(of: TokenUsage(inputTokens: 50)).amountMicros == 1)
        #expect(cent.cost(of: TokenUsage(inputTokens: 49)).amountMicros == 0)
        // Yen have no minor unit: 450 yen per million tokens × 1,000 tokens = 0.45 yen.
        let yen = TokenPrice(currency: "jpy", inputPerMTok: 450, outputPerMTok: 450)
        #expect(yen.cost(of: TokenUsage(inputTokens: 1_000)) == Cost(amountMicros: 450_000, currency: "jpy"))
        // Without a cached price, cached input costs as much as other input.
        let plain = TokenPrice(currency: "eur", inputPerMTok: 300, outputPerMTok: 1500)
        #expect(
            plain.cost(of: TokenUsage(inputTokens: 1_000_000, outputTokens: 0, cachedInputTokens: 400_000))
                == Cost(amountMicros: 3_000_000, currency: "eur"))
        // A million output tokens of a large model: no overflow, exact.
        let large = TokenPrice(currency: "usd", inputPerMTok: 1_500, outputPerMTok: 7_500)
        #expect(large.cost(of: TokenUsage(inputTokens: 200_000_000, outputTokens: 10_000_000)).amountMicros == 3_750_000_000)
    }

    @Test func theAttemptLogPricesEveryCallAndSumsThem() {
        let log = AttemptLog()
        let now = Date()
        log.record(
            provider: "openai", model: "gpt-4o", purpose: .generate, outcome: "failed",
            failure: ProviderFailure(.streamCut, .retry, message: "cut"), started: now, duration: .milliseconds(5), price: Self.price)
        log.record(
            provider: "openai", model: "gpt-4o", purpose: .generate, outcome: "success", started: now, duration: .seconds(1),
            usage: TokenUsage(inputTokens: 1_000, outputTokens: 2_000), price: Self.price)
        log.record(
            provider: "anthropic", model: "claude", purpose: .repair, outcome: "success", started: now, duration: .seconds(1),
            usage: TokenUsage(inputTokens: 3_000, outputTokens: 500, cachedInputTokens: 1_000), price: Self.price)
        let attempts = log.attempts
        #expect(attempts[0].cost == nil, "a call cut before the provider reported usage has no cost")
        #expect(attempts[1].cost == Cost(amountMicros: 33_000, currency: "usd"))
        #expect(attempts[2].cost == Cost(amountMicros: 13_800, currency: "usd"))
        #expect(log.cost == Cost(amountMicros: 46_800, currency: "usd"))
        #expect(log.usage == GenerationUsage(inputTokens: 4_000, outputTokens: 2_500, cachedInputTokens: 1_000))
    }
}
