import Foundation
import Protocol
import Testing
import VectortTesting

@testable import Generation

/// What each provider puts on the wire, as its fake recorded it.
@Suite("Provider requests")
struct ProviderRequestTests {
    private func recorded(
        _ kind: ProviderKind, providerKey: String? = testKey, serverKey: String? = testKey,
        request: CompletionRequest = sampleRequest
    ) async throws -> FakeLLMRequest {
        try await withProvider(kind, serverKey: serverKey, providerKey: providerKey) { server, provider in
            let result = await drive(provider, request)
            #expect(result.finish == .stop)
            return try #require(server.lastRequest)
        }
    }

    private func roles(_ messages: JSONValue?) -> [String] {
        (messages?.arrayValue ?? []).compactMap { $0["role"]?.stringValue }
    }

    @Test func openAISendsBearerKeyStreamWithUsageAndMaxCompletionTokens() async throws {
        let request = try await recorded(.openai)
        #expect(request.method == "POST")
        #expect(request.path == "/v1/chat/completions")
        #expect(request.header("authorization") == "Bearer \(testKey)")
        #expect(request.header("content-type") == "application/json")
        let body = try #require(request.json)
        #expect(body["model"] == "gpt-4o-mini")
        #expect(body["stream"] == true)
        #expect(body["stream_options"]?["include_usage"] == true)
        #expect(body["max_completion_tokens"] == 1234)
        #expect(body["max_tokens"] == nil)
        #expect(body["temperature"] == 0.25)
        #expect(roles(body["messages"]) == ["system", "user", "assistant", "user"])
        #expect(body["messages"]?.arrayValue?.first?["content"] == "You write small web apps.")
        #expect(body["messages"]?.arrayValue?.last?["content"] == "Minimal.")
    }

    @Test func openAICompatibleSendsMaxTokensAndNoAuthorizationWithoutAKey() async throws {
        let request = try await recorded(.openaiCompatible, providerKey: nil, serverKey: nil)
        #expect(request.header("authorization") == nil)
        let body = try #require(request.json)
        #expect(body["max_tokens"] == 1234)
        #expect(body["max_completion_tokens"] == nil)
        #expect(body["stream_options"]?["include_usage"] == true)
    }

    @Test func anthropicPutsTheSystemPromptTopLevelWithKeyAndVersionHeaders() async throws {
        let request = try await recorded(.anthropic)
        #expect(request.path == "/v1/messages")
        #expect(request.header("x-api-key") == testKey)
        #expect(request.header("anthropic-version") == "2023-06-01")
        #expect(request.header("authorization") == nil)
        let body = try #require(request.json)
        #expect(body["model"] == "claude-sonnet-4-5")
        #expect(body["system"] == "You write small web apps.")
        #expect(body["max_tokens"] == 1234)
        #expect(body["stream"] == true)
        #expect(roles(body["messages"]) == ["user", "assistant", "user"])
    }

    @Test func anthropicLeavesOutAnEmptySystemPrompt() async throws {
        var plain = sampleRequest
        plain.system = ""
        let request = try await recorded(.anthropic, request: plain)
        #expect(request.json?["system"] == nil)
    }

    @Test func geminiUsesTheSSEEndpointKeyHeaderModelRoleAndSystemInstruction() async throws {
        let request = try await recorded(.gemini)
        #expect(request.path == "/v1beta/models/gemini-2.5-flash:streamGenerateContent")
        #expect(request.query == ["alt": "sse"])
        #expect(request.header("x-goog-api-key") == testKey)
        let body = try #require(request.json)
        #expect(roles(body["contents"]) == ["user", "model", "user"])
        #expect(body["contents"]?.arrayValue?.first?["parts"]?.arrayValue?.first?["text"] == "Make a todo app.")
        #expect(body["systemInstruction"]?["parts"]?.arrayValue?.first?["text"] == "You write small web apps.")
        #expect(body["generationConfig"]?["maxOutputTokens"] == 1234)
        #expect(body["generationConfig"]?["temperature"] == 0.25)
    }

    @Test func geminiAcceptsAModelNameWithItsResourcePrefix() async throws {
        try await withProvider(.gemini, model: "models/gemini-2.0-flash") { server, provider in
            _ = await drive(provider)
            #expect(server.lastRequest?.path == "/v1beta/models/gemini-2.0-flash:streamGenerateContent")
        }
    }

    @Test(arguments: networkKinds)
    func theKeyTravelsOnlyInItsHeaderNeverInTheURL(kind: ProviderKind) async throws {
        let request = try await recorded(kind)
        #expect(!request.uri.contains(testKey))
        #expect(!request.bodyText.contains(testKey))
    }
}
