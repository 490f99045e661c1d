import AsyncHTTPClient
import Foundation
import Testing
import VectortTesting

@testable import Generation

/// Provider-specific behaviour: what OpenAI-compatible servers get wrong, Gemini's blocked
/// prompts and text-less parts, Anthropic's named events.
@Suite("Provider quirks")
struct ProviderQuirkTests {
    private static func eventStream(_ body: String) -> FakeLLMScript {
        .raw(status: 200, body: body, contentType: "text/event-stream")
    }

    @Test func compatibleServerWithoutUsageChunkFinishesWithoutUsage() async throws {
        let result = try await outcome(.openaiCompatible, FakeLLMScript.answer("no usage here").omittingUsage())
        #expect(result.text == "no usage here")
        #expect(result.finish == .stop)
        #expect(result.usage == nil)
    }

    @Test func compatibleServerPlainTextErrorIsClassifiedByStatus() async throws {
        let result = try await outcome(.openaiCompatible, .raw(status: 502, body: "upstream connect error"))
        #expect(result.failure?.kind == .serverError)
        #expect(result.failure?.disposition == .retry)
        #expect(result.failure?.message.contains("upstream connect error") == true)
    }

    @Test func compatibleServerStringErrorIsClassifiedByStatus() async throws {
        let result = try await outcome(
            .openaiCompatible,
            .raw(status: 404, body: #"{"error":"model \"llama9\" not found, try pulling it first"}"#, contentType: "application/json"))
        #expect(result.failure?.kind == .modelNotFound)
        #expect(result.failure?.disposition == .fallback)
        #expect(result.failure?.message.contains("try pulling it first") == true)
    }

    @Test func compatibleServerValidationErrorFailsTheCall() async throws {
        let body = #"{"object":"error","message":"temperature must be in [0, 2]","type":"BadRequestError","param":null,"code":400}"#
        let result = try await outcome(.openaiCompatible, .raw(status: 400, body: body, contentType: "application/json"))
        #expect(result.failure?.kind == .invalidRequest)
        #expect(result.failure?.disposition == .fail)
    }

    @Test func compatibleServerThatIgnoresStreamingAnswersWhole() async throws {
        let body =
            #"{"id":"x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"whole answer"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":2}}"#
        let result = try await outcome(.openaiCompatible, .raw(status: 200, body: body, contentType: "application/json"))
        #expect(result.text == "whole answer")
        #expect(result.finish == .stop)
        #expect(result.usage == TokenUsage(inputTokens: 3, outputTokens: 2))
    }

    @Test func openAIDoneWithoutFinishReasonIsStreamCut() async throws {
        let result = try await outcome(
            .openai,
            Self.eventStream(#"data: {"choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":null}]}"# + "\n\ndata: [DONE]\n\n"))
        #expect(result.text == "hi")
        #expect(result.failure?.kind == .streamCut)
    }

    @Test func openAIErrorJSONWithStatus200IsAnInStreamError() async throws {
        let result = try await outcome(
            .openai,
            .raw(status: 200, body: #"{"error":{"message":"boom","type":"server_error","param":null,"code":null}}"#, contentType: "application/json"))
        #expect(result.failure?.kind == .inStreamError)
        #expect(result.failure?.disposition == .retry)
    }

    @Test func geminiBlockedPromptIsContentBlocked() async throws {
        let result = try await outcome(
            .gemini,
            Self.eventStream(#"data: {"promptFeedback":{"blockReason":"PROHIBITED_CONTENT"},"usageMetadata":{"promptTokenCount":8}}"# + "\r\n\r\n"))
        #expect(result.failure?.kind == .contentBlocked)
        #expect(result.failure?.message.contains("PROHIBITED_CONTENT") == true)
    }

    @Test func geminiPartsWithoutTextAndThoughtsAreSkipped() async throws {
        let frames = [
            #"data: {"candidates":[{"content":{"role":"model","parts":[{"thoughtSignature":"abc"}]},"index":0}]}"#,
            #"data: {"candidates":[{"content":{"role":"model","parts":[{"text":"thinking…","thought":true},{"text":"Hello"}]},"index":0}]}"#,
            #"data: {"candidates":[{"content":{"role":"model","parts":[{"text":" world"}]},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":4,"candidatesTokenCount":2,"thoughtsTokenCount":3}}"#,
        ]
        let result = try await outcome(.gemini, Self.eventStream(frames.joined(separator: "\r\n\r\n") + "\r\n\r\n"))
        #expect(result.texts == ["Hello", " world"])
        #expect(result.finish == .stop)
        #expect(result.usage == TokenUsage(inputTokens: 4, outputTokens: 5))
    }

    @Test func anthropicUnknownEventsAndNonTextDeltasAreSkipped() async throws {
        let events = [
            "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":9,\"output_tokens\":1}}}",
            "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"thinking\",\"thinking\":\"\"}}",
            "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\"hmm\"}}",
            "event: brand_new_event\ndata: {\"type\":\"brand_new_event\"}",
            "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"text_delta\",\"text\":\"ok\"}}",
            "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":12}}",
            "event: message_stop\ndata: {\"type\":\"message_stop\"}",
        ]
        let result = try await outcome(.anthropic, Self.eventStream(events.joined(separator: "\n\n") + "\n\n"))
        #expect(result.texts == ["ok"])
        #expect(result.finish == .stop)
        #expect(result.usage == TokenUsage(inputTokens: 9, outputTokens: 12))
    }

    @Test func anthropicMissingMessageStopIsStreamCut() async throws {
        let events = [
            "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":9,\"output_tokens\":1}}}",
            "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"ok\"}}",
            "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":12}}",
        ]
        let result = try await outcome(.anthropic, Self.eventStream(events.joined(separator: "\n\n") + "\n\n"))
        #expect(result.finish == nil)
        #expect(result.failure?.kind == .streamCut)
    }
}
