import AsyncHTTPClient
import Foundation
import NIOHTTP1
import Testing

@testable import Generation

/// Error bodies that the fakes do not send: other servers' shapes, in-stream payloads,
/// transport failures.
@Suite("Provider error classifier")
struct ProviderErrorClassifierTests {
    private func classify(
        _ status: Int, _ body: String, headers: [(String, String)] = [], provider: ProviderKind = .openaiCompatible
    ) -> ProviderFailure {
        ProviderErrorClassifier.classify(
            status: status, headers: HTTPHeaders(headers), body: Array(body.utf8), provider: provider, secret: testKey)
    }

    @Test func fastAPIValidationDetailIsAnInvalidRequest() {
        let failure = classify(422, #"{"detail":[{"loc":["body","messages"],"msg":"field required","type":"missing"}]}"#)
        #expect(failure.kind == .invalidRequest)
        #expect(failure.disposition == .fail)
        #expect(failure.message.contains("field required"))
    }

    @Test func geminiErrorWrappedInAnArrayIsRead() {
        let body = #"[{"error":{"code":429,"message":"quota","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"7s"}]}}]"#
        let failure = classify(429, body, provider: .gemini)
        #expect(failure.kind == .rateLimited)
        #expect(failure.retryAfter == .seconds(7))
    }

    @Test func paymentRequiredIsExhaustedQuota() {
        #expect(classify(402, #"{"error":{"message":"Insufficient credits"}}"#).kind == .quotaExhausted)
    }

    @Test func shouldRetryTrueMakesAFailARetry() {
        let failure = classify(400, "{}", headers: [("x-should-retry", "true")])
        #expect(failure.kind == .invalidRequest)
        #expect(failure.disposition == .retry)
    }

    @Test func anthropicOverloadedTypeUnderAnotherStatusIsOverloaded() {
        let failure = classify(500, #"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#, provider: .anthropic)
        #expect(failure.kind == .overloaded)
        #expect(failure.disposition == .retry)
    }

    @Test func inStreamPayloadsTakeTheDispositionOfTheirStatus() {
        let anthropicOverloaded = ProviderErrorClassifier.classifyInStream(
            #"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#, provider: .anthropic)
        #expect(anthropicOverloaded.kind == .inStreamError)
        #expect(anthropicOverloaded.disposition == .retry)
        let anthropicAPIError = ProviderErrorClassifier.classifyInStream(
            #"{"type":"error","error":{"type":"api_error","message":"Internal server error"}}"#, provider: .anthropic)
        #expect(anthropicAPIError.disposition == .retry)
        let invalid = ProviderErrorClassifier.classifyInStream(
            #"{"error":{"message":"bad","type":"invalid_request_error","param":null,"code":null}}"#, provider: .openai)
        #expect(invalid.disposition == .fail)
        let geminiUnavailable = ProviderErrorClassifier.classifyInStream(
            #"{"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}}"#, provider: .gemini)
        #expect(geminiUnavailable.disposition == .retry)
        #expect(geminiUnavailable.message.contains("overloaded"))
    }

    @Test func transportFailuresBeforeAndAfterTheHead() {
        let connect = ProviderErrorClassifier.classifyTransport(HTTPClientError.connectTimeout, responseStarted: false)
        #expect(connect.kind == .connectTimeout)
        #expect(connect.disposition == .retry)
        let closed = ProviderErrorClassifier.classifyTransport(HTTPClientError.remoteConnectionClosed, responseStarted: false)
        #expect(closed.kind == .connection)
        let cut = ProviderErrorClassifier.classifyTransport(HTTPClientError.remoteConnectionClosed, responseStarted: true)
        #expect(cut.kind == .streamCut)
        #expect(cut.disposition == .retry)
    }

    @Test func theKeyIsRedactedFromEveryMessage() {
        let failure = classify(401, "invalid key \(testKey) for org")
        #expect(failure.message == "invalid key [redacted] for org")
        struct Leaky: Error, CustomStringConvertible { var description: String }
        let transport = ProviderErrorClassifier.classifyTransport(
            Leaky(description: "header value \(testKey) rejected"), responseStarted: false, secret: testKey)
        #expect(!transport.message.contains(testKey))
    }

    @Test func longBodiesAreShortenedInTheMessage() {
        let failure = classify(500, String(repeating: "x", count: 5000))
        #expect(failure.message.count <= 501)
    }
}
