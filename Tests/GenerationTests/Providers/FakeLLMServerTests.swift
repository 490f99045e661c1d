import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Protocol
import Testing

@testable import Generation
import VectortTesting

/// The fakes themselves, read with a plain HTTP client: framing, envelopes, validation,
/// recording, queueing and load.
@Suite("Fake LLM servers")
struct FakeLLMServerTests {
    struct Reply {
        var status: Int
        var headers: HTTPHeaders
        var body: String
    }

    private func post(
        _ server: FakeLLMServer, _ path: String, headers: [(String, String)] = [], json: String,
        client: HTTPClient = .shared
    ) async throws -> Reply {
        let base = server.flavour == .openai ? String(server.baseURL.dropLast(3)) : server.baseURL
        var request = HTTPClientRequest(url: base + path)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(string: json))
        let response = try await client.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 20)
        return Reply(status: Int(response.status.code), headers: response.headers, body: String(buffer: body))
    }

    private func dataLines(_ body: String) -> [String] {
        body.components(separatedBy: "\n").filter { $0.hasPrefix("data: ") }.map { String($0.dropFirst(6)) }
    }

    private func json(_ text: String) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
    }

    @Test func openAIStreamHasRoleChunkTextFinishUsageAndDone() async throws {
        try await withFakeLLMServer(.openai, apiKey: "k") { server in
            server.enqueue(.answer(chunks: ["Hel", "lo"], usage: FakeLLMUsage(inputTokens: 5, outputTokens: 2)))
            let reply = try await post(
                server, "/v1/chat/completions", headers: [("authorization", "Bearer k")],
                json: #"{"model":"gpt-x","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":true}}"#)
            #expect(reply.status == 200)
            #expect(reply.headers.first(name: "content-type")?.hasPrefix("text/event-stream") == true)
            #expect(reply.headers.first(name: "transfer-encoding") == "chunked")
            #expect(reply.headers.first(name: "x-ratelimit-reset-requests") != nil)
            let lines = dataLines(reply.body)
            #expect(lines.count == 6)
            #expect(lines.last == "[DONE]")
            let chunks = try lines.dropLast().map(json)
            #expect(chunks.allSatisfy { $0["object"] == "chat.completion.chunk" && $0["model"] == "gpt-x" })
            #expect(Set(chunks.compactMap { $0["id"]?.stringValue }).count == 1)
            #expect(chunks[0]["choices"]?.arrayValue?.first?["delta"]?["role"] == "assistant")
            #expect(chunks[1]["choices"]?.arrayValue?.first?["delta"]?["content"] == "Hel")
            #expect(chunks[2]["choices"]?.arrayValue?.first?["delta"]?["content"] == "lo")
            #expect(chunks[3]["choices"]?.arrayValue?.first?["finish_reason"] == "stop")
            #expect(chunks[0]["usage"] == .null)
            #expect(chunks[4]["choices"] == [])
            #expect(chunks[4]["usage"]?["prompt_tokens"] == 5)
            #expect(chunks[4]["usage"]?["completion_tokens"] == 2)
        }
    }

    @Test func openAIStreamWithoutIncludeUsageHasNoUsageChunk() async throws {
        try await withFakeLLMServer(.openai) { server in
            let reply = try await post(
                server, "/v1/chat/completions", json: #"{"model":"m","messages":[],"stream":true}"#)
            let lines = dataLines(reply.body)
            #expect(lines.last == "[DONE]")
            #expect(try lines.dropLast().map(json).allSatisfy { $0["usage"] == nil && $0["choices"] != [] })
        }
    }

    @Test func openAINonStreamingAnswerIsOneCompletionObject() async throws {
        try await withFakeLLMServer(.openai, defaultScript: .answer("whole", finishReason: "length")) { server in
            let reply = try await post(server, "/v1/chat/completions", json: #"{"model":"m","messages":[]}"#)
            #expect(reply.headers.first(name: "content-type") == "application/json")
            let body = try json(reply.body)
            #expect(body["object"] == "chat.completion")
            #expect(body["choices"]?.arrayValue?.first?["message"]?["content"] == "whole")
            #expect(body["choices"]?.arrayValue?.first?["finish_reason"] == "length")
            #expect(body["usage"]?["total_tokens"] != nil)
        }
    }

    @Test func openAIRejectsAMissingOrWrongKeyWithItsEnvelope() async throws {
        try await withFakeLLMServer(.openai, apiKey: "right") { server in
            let missing = try await post(server, "/v1/chat/completions", json: #"{"model":"m","messages":[]}"#)
            #expect(missing.status == 401)
            let wrong = try await post(
                server, "/v1/chat/completions", headers: [("authorization", "Bearer nope")],
                json: #"{"model":"m","messages":[]}"#)
            #expect(wrong.status == 401)
            let error = try json(wrong.body)["error"]
            #expect(error?["code"] == "invalid_api_key")
            #expect(error?["type"] == "invalid_request_error")
            #expect(error?["param"] == .null)
            #expect(server.callCount == 2)
        }
    }

    @Test func anthropicStreamFollowsTheNamedEventOrder() async throws {
        try await withFakeLLMServer(.anthropic, apiKey: "k") { server in
            server.enqueue(.answer(chunks: ["a", "b"], usage: FakeLLMUsage(inputTokens: 7, outputTokens: 2)))
            let reply = try await post(
                server, "/v1/messages", headers: [("x-api-key", "k"), ("anthropic-version", "2023-06-01")],
                json: #"{"model":"claude-x","max_tokens":10,"messages":[{"role":"user","content":"hi"}],"stream":true}"#)
            let names = reply.body.components(separatedBy: "\n").filter { $0.hasPrefix("event: ") }.map { $0.dropFirst(7) }
            #expect(
                names == [
                    "message_start", "content_block_start", "ping", "content_block_delta", "content_block_delta",
                    "content_block_stop", "message_delta", "message_stop",
                ])
            let payloads = try dataLines(reply.body).map(json)
            #expect(payloads[0]["message"]?["usage"]?["input_tokens"] == 7)
            #expect(payloads[3]["delta"]?["text"] == "a")
            #expect(payloads[6]["delta"]?["stop_reason"] == "end_turn")
            #expect(payloads[6]["usage"]?["output_tokens"] == 2)
            #expect(!reply.body.contains("[DONE]"))
        }
    }

    @Test func anthropicRequiresVersionMaxTokensAndTheKey() async throws {
        try await withFakeLLMServer(.anthropic, apiKey: "k") { server in
            let body = #"{"model":"c","messages":[{"role":"user","content":"hi"}]}"#
            let noVersion = try await post(server, "/v1/messages", headers: [("x-api-key", "k")], json: body)
            #expect(noVersion.status == 400)
            let noMax = try await post(
                server, "/v1/messages", headers: [("x-api-key", "k"), ("anthropic-version", "2023-06-01")], json: body)
            #expect(noMax.status == 400)
            let envelope = try json(noMax.body)
            #expect(envelope["type"] == "error")
            #expect(envelope["error"]?["type"] == "invalid_request_error")
            #expect(envelope["error"]?["message"] == "max_tokens: Field required")
            #expect(envelope["request_id"]?.stringValue?.hasPrefix("req_") == true)
            let badKey = try await post(
                server, "/v1/messages", headers: [("x-api-key", "x"), ("anthropic-version", "2023-06-01")], json: body)
            #expect(badKey.status == 401)
            #expect(try json(badKey.body)["error"]?["type"] == "authentication_error")
            #expect(server.pendingScripts == 0)
        }
    }

    @Test func anthropicInStreamErrorIsAnErrorEvent() async throws {
        try await withFakeLLMServer(.anthropic) { server in
            server.enqueue(.inStreamError(afterChunks: 1))
            let reply = try await post(
                server, "/v1/messages", headers: [("anthropic-version", "2023-06-01")],
                json: #"{"model":"c","max_tokens":5,"messages":[],"stream":true}"#)
            #expect(reply.body.contains("event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n"))
            #expect(!reply.body.contains("message_stop"))
        }
    }

    @Test func anthropicOverloadedIs529WithItsEnvelope() async throws {
        try await withFakeLLMServer(.anthropic, defaultScript: .overloaded) { server in
            let reply = try await post(
                server, "/v1/messages", headers: [("anthropic-version", "2023-06-01")],
                json: #"{"model":"c","max_tokens":5,"messages":[]}"#)
            #expect(reply.status == 529)
            #expect(try json(reply.body)["error"]?["type"] == "overloaded_error")
        }
    }

    @Test func geminiSSEFramesAreCRLFSeparatedWithFinishOnTheLast() async throws {
        try await withFakeLLMServer(.gemini, apiKey: "g") { server in
            server.enqueue(.answer(chunks: ["x", "y"], usage: FakeLLMUsage(inputTokens: 3, outputTokens: 2)))
            let reply = try await post(
                server, "/v1beta/models/gemini-pro:streamGenerateContent?alt=sse", headers: [("x-goog-api-key", "g")],
                json: #"{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}"#)
            #expect(reply.status == 200)
            #expect(reply.body.hasSuffix("\r\n\r\n"))
            let frames = reply.body.components(separatedBy: "\r\n\r\n").filter { !$0.isEmpty }
            #expect(frames.count == 2)
            let last = try json(String(frames[1].dropFirst(6)))
            let candidate = last["candidates"]?.arrayValue?.first
            #expect(candidate?["content"]?["role"] == "model")
            #expect(candidate?["content"]?["parts"]?.arrayValue?.first?["text"] == "y")
            #expect(candidate?["finishReason"] == "STOP")
            #expect(last["usageMetadata"]?["candidatesTokenCount"] == 2)
            let first = try json(String(frames[0].dropFirst(6)))
            #expect(first["candidates"]?.arrayValue?.first?["finishReason"] == nil)
        }
    }

    @Test func geminiWithoutAltSSEStreamsOneJSONArray() async throws {
        try await withFakeLLMServer(.gemini) { server in
            server.enqueue(.answer(chunks: ["x", "y"]))
            let reply = try await post(
                server, "/v1beta/models/gemini-pro:streamGenerateContent", json: #"{"contents":[]}"#)
            let array = try json(reply.body).arrayValue
            #expect(array?.count == 2)
        }
    }

    @Test func geminiNonStreamingAndErrorEnvelopes() async throws {
        try await withFakeLLMServer(.gemini, apiKey: "g") { server in
            server.enqueue(.answer("all"), .rateLimited(retryAfter: .seconds(37)))
            let whole = try await post(
                server, "/v1beta/models/m:generateContent", headers: [("x-goog-api-key", "g")], json: #"{"contents":[]}"#)
            #expect(try json(whole.body)["candidates"]?.arrayValue?.first?["finishReason"] == "STOP")
            let limited = try await post(
                server, "/v1beta/models/m:generateContent?key=g", json: #"{"contents":[]}"#)
            #expect(limited.status == 429)
            let error = try json(limited.body)["error"]
            #expect(error?["status"] == "RESOURCE_EXHAUSTED")
            #expect(error?["code"] == 429)
            let details = error?["details"]?.arrayValue ?? []
            #expect(details.contains { $0["retryDelay"] == "37s" })
            #expect(details.contains { $0["@type"] == "type.googleapis.com/google.rpc.QuotaFailure" })
            let badKey = try await post(
                server, "/v1beta/models/m:generateContent", headers: [("x-goog-api-key", "bad")], json: #"{"contents":[]}"#)
            #expect(badKey.status == 400)
            #expect(badKey.body.contains("API_KEY_INVALID"))
        }
    }

    @Test func scriptsAreUsedFirstInFirstOutThenTheDefault() async throws {
        try await withFakeLLMServer(.openai, defaultScript: .answer("default")) { server in
            server.enqueue(.answer("one"), .serverError, .answer("three"))
            var statuses: [Int] = []
            var texts: [String] = []
            for _ in 0..<4 {
                let reply = try await post(server, "/v1/chat/completions", json: #"{"model":"m","messages":[]}"#)
                statuses.append(reply.status)
                texts.append(
                    (try? json(reply.body)["choices"]?.arrayValue?.first?["message"]?["content"]?.stringValue ?? "") ?? "")
            }
            #expect(statuses == [200, 500, 200, 200])
            #expect(texts == ["one", "", "three", "default"])
            #expect(server.callCount == 4)
            #expect(server.requests.map(\.path) == Array(repeating: "/v1/chat/completions", count: 4))
            #expect(server.requests.first?.json?["model"] == "m")
        }
    }

    @Test func rateLimitHeadersAreThoseOfTheProvider() async throws {
        try await withFakeLLMServer(.openai) { server in
            server.enqueue(.rateLimited(retryAfter: .seconds(2), resetIn: .seconds(360)))
            let reply = try await post(server, "/v1/chat/completions", json: #"{"model":"m","messages":[]}"#)
            #expect(reply.status == 429)
            #expect(reply.headers.first(name: "retry-after") == "2")
            #expect(reply.headers.first(name: "x-ratelimit-reset-requests") == "6m0s")
            #expect(reply.headers["x-ratelimit-remaining-requests"] == ["0"])
            #expect(try json(reply.body)["error"]?["code"] == "rate_limit_exceeded")
        }
    }

    @Test func sixtyFourConcurrentPacedStreamsAllComplete() async throws {
        let client = HTTPClient(
            configuration: HTTPClient.Configuration(
                connectionPool: .init(idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: 128)))
        let server = try await FakeLLMServer.start(
            .openai, defaultScript: .paced(String(repeating: "z", count: 40), chunks: 20, interval: .milliseconds(150)),
            recordsRequests: false)
        let start = ContinuousClock.now
        let bodies = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<64 {
                group.addTask {
                    try await post(
                        server, "/v1/chat/completions",
                        json: #"{"model":"m","messages":[],"stream":true}"#, client: client
                    ).body
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let elapsed = ContinuousClock.now - start
        try await server.shutdown()
        try await client.shutdown()
        #expect(bodies.count == 64)
        #expect(bodies.allSatisfy { dataLines($0).count == 20 + 3 })
        #expect(server.counters.peakActiveResponses == 64)
        #expect(server.counters.completed == 64)
        #expect(server.requests.isEmpty)
        // 20 chunks 150 ms apart: 3 s when the streams run side by side, 3 minutes one after another.
        #expect(elapsed < .seconds(60))
    }

    @Test func shutdownClosesOpenStreams() async throws {
        let server = try await FakeLLMServer.start(.openai, defaultScript: .stall(beforeFirstToken: .seconds(30)))
        let call = Task {
            try await post(server, "/v1/chat/completions", json: #"{"model":"m","messages":[],"stream":true}"#)
        }
        #expect(await server.waitUntil { $0.activeResponses == 1 })
        try await server.shutdown()
        let result = await call.result
        #expect(throws: (any Error).self) { try result.get() }
        #expect(await server.waitUntil { $0.openConnections == 0 })
    }
}
