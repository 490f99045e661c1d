import AsyncHTTPClient
import Foundation
import Testing
import VectortTesting

@testable import Generation
import VectortCore

/// HTTP error replies in each provider's own envelope, classified into what the chain does.
@Suite("Provider errors")
struct ProviderErrorTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var kind: ProviderKind
        var script: FakeLLMScript
        var label: String
        var expected: ProviderFailure.Kind
        var disposition: ProviderFailure.Disposition
        var status: Int
        var testDescription: String { "\(kind.rawValue) \(label)" }
    }

    static var cases: [Case] {
        var cases: [Case] = []
        for kind in networkKinds {
            let overloadedStatus = kind == .anthropic ? 529 : 503
            let quotaStatus = kind == .anthropic ? 400 : 429
            let badKeyStatus = kind == .gemini ? 400 : 401
            let spend: (ProviderFailure.Kind, Int) =
                switch kind {
                case .anthropic: (.spendLimit, 429)
                case .gemini: (.quotaExhausted, 429)
                default: (.spendLimit, 400)
                }
            cases += [
                Case(kind: kind, script: .rateLimited(), label: "rate limited", expected: .rateLimited, disposition: .retry, status: 429),
                Case(kind: kind, script: .insufficientQuota, label: "insufficient quota", expected: .quotaExhausted, disposition: .fallback, status: quotaStatus),
                Case(kind: kind, script: .overloaded, label: "overloaded", expected: .overloaded, disposition: .retry, status: overloadedStatus),
                Case(kind: kind, script: .serverError, label: "server error", expected: .serverError, disposition: .retry, status: 500),
                Case(kind: kind, script: .status(502), label: "bad gateway", expected: .serverError, disposition: .retry, status: 502),
                Case(kind: kind, script: .status(408), label: "request timeout", expected: .serverError, disposition: .retry, status: 408),
                Case(kind: kind, script: .unauthorized, label: "bad key", expected: .authentication, disposition: .fallback, status: badKeyStatus),
                Case(kind: kind, script: .status(403), label: "forbidden", expected: .permission, disposition: .fallback, status: 403),
                Case(kind: kind, script: .modelNotFound, label: "unknown model", expected: .modelNotFound, disposition: .fallback, status: 404),
                Case(kind: kind, script: .contextTooLong, label: "context too long", expected: .contextTooLong, disposition: .fallback, status: 400),
                Case(kind: kind, script: .spendLimit, label: "spend limit", expected: spend.0, disposition: .fallback, status: spend.1),
                Case(kind: kind, script: .dailyQuota, label: "daily quota", expected: kind == .anthropic ? .spendLimit : .quotaExhausted, disposition: .fallback, status: 429),
                Case(kind: kind, script: .status(400, message: "messages: roles must alternate"), label: "invalid request", expected: .invalidRequest, disposition: .fail, status: 400),
            ]
        }
        cases.append(
            Case(kind: .anthropic, script: .status(413, type: "request_too_large"), label: "request too large", expected: .contextTooLong, disposition: .fallback, status: 413))
        cases.append(
            Case(kind: .openai, script: .status(429, type: "insufficient_quota", code: "credit_balance_exhausted"), label: "credit balance exhausted", expected: .quotaExhausted, disposition: .fallback, status: 429))
        cases.append(
            Case(kind: .gemini, script: .status(400, status: "FAILED_PRECONDITION", message: "User location is not supported for the API use."), label: "region", expected: .permission, disposition: .fallback, status: 400))
        return cases
    }

    @Test(arguments: cases)
    func errorReplyIsClassified(_ c: Case) async throws {
        let result = try await outcome(c.kind, c.script)
        let failure = try #require(result.failure)
        #expect(failure.kind == c.expected)
        #expect(failure.disposition == c.disposition)
        #expect(failure.status == c.status)
        #expect(!failure.message.isEmpty)
        #expect(result.texts.isEmpty)
    }

    @Test(arguments: [ProviderKind.openai, .anthropic])
    func retryAfterSecondsIsTheHint(kind: ProviderKind) async throws {
        let result = try await outcome(kind, .rateLimited(retryAfter: .seconds(2)))
        #expect(result.failure?.retryAfter == .seconds(2))
    }

    @Test func geminiRetryInfoIsTheHint() async throws {
        let result = try await outcome(.gemini, .rateLimited(retryAfter: .milliseconds(1500)))
        #expect(result.failure?.kind == .rateLimited)
        #expect(result.failure?.retryAfter == .milliseconds(1500))
    }

    @Test func geminiDailyQuotaFallsBackDespiteItsShortRetryDelay() async throws {
        let result = try await outcome(.gemini, .dailyQuota)
        #expect(result.failure?.kind == .quotaExhausted)
        #expect(result.failure?.disposition == .fallback)
        #expect(result.failure?.retryAfter == .seconds(42))
    }

    @Test(arguments: networkKinds)
    func retryAfterMillisecondsWinsOverRetryAfter(kind: ProviderKind) async throws {
        let result = try await outcome(
            kind, .status(429, headers: [("retry-after-ms", "1500"), ("retry-after", "9")]))
        #expect(result.failure?.retryAfter == .milliseconds(1500))
    }

    @Test func retryAfterAsHTTPDateIsTheTimeUntilThen() async throws {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        let date = formatter.string(from: Date().addingTimeInterval(40))
        let result = try await outcome(.openai, .status(503, headers: [("retry-after", date)]))
        let wait = try #require(result.failure?.retryAfter)
        // Whole seconds on the wire, and the call itself takes a moment on a loaded machine.
        #expect(wait > .seconds(20) && wait <= .seconds(40))
    }

    @Test func openAIResetDurationIsTheHintWhenNoRetryAfter() async throws {
        let result = try await outcome(.openai, .rateLimited(resetIn: .seconds(360)))
        #expect(result.failure?.retryAfter == .seconds(360))
    }

    @Test func anthropicResetTimestampIsTheHintWhenNoRetryAfter() async throws {
        // The fake writes its reset timestamp from the same (stopped) wall clock the provider
        // reads, so the hint does not depend on how long the call took.
        let clock = TestClock()
        let wait = try await withFakeLLMServer(.anthropic, apiKey: testKey, clock: clock) { server in
            server.enqueue(.rateLimited(resetIn: .seconds(30)))
            let client = HTTPClient(configuration: ProviderClient.configuration(for: .relaxed))
            let settings = ProviderSettings(
                name: "test-anthropic", kind: .anthropic, model: ProviderKind.anthropic.sampleModel, baseURL: server.baseURL,
                apiKey: testKey, timeouts: .relaxed)
            let result = await drive(try #require(ProviderClient.provider(settings, httpClient: client, clock: clock)))
            try await client.shutdown()
            return result.failure?.retryAfter
        }
        // RFC 3339 carries whole seconds: the reset reads 29 to 31 seconds away, however slow the call.
        #expect(wait.map { $0 > .seconds(29) && $0 <= .seconds(31) } == true, "\(String(describing: wait))")
    }

    @Test func shouldRetryFalseTurnsARetryIntoAFallback() async throws {
        let result = try await outcome(.openai, .status(500, headers: [("x-should-retry", "false")]))
        #expect(result.failure?.kind == .serverError)
        #expect(result.failure?.disposition == .fallback)
    }

    @Test(arguments: networkKinds)
    func keyEchoedByTheServerNeverReachesTheError(kind: ProviderKind) async throws {
        let result = try await outcome(kind, .status(401, message: "The key \(testKey) was revoked"))
        let failure = try #require(result.failure)
        #expect(failure.kind == .authentication)
        #expect(!failure.message.contains(testKey))
        #expect(!failure.description.contains(testKey))
        #expect(!String(reflecting: failure).contains(testKey))
        #expect(failure.message.contains("[redacted]"))
    }

    @Test(arguments: networkKinds)
    func wrongKeyIsRejectedByTheFakeAsAnAuthenticationFallback(kind: ProviderKind) async throws {
        let wrongKey = "sk-wrong-0123456789abcdef"
        try await withProvider(kind, serverKey: testKey, providerKey: wrongKey) { server, provider in
            let result = await drive(provider)
            let failure = try #require(result.failure)
            #expect(failure.kind == .authentication)
            #expect(failure.disposition == .fallback)
            #expect(!failure.description.contains(wrongKey))
            #expect(server.pendingScripts == 0)
        }
    }
}
