package import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Protocol

/// Google Gemini: `POST {baseURL}/v1beta/models/{model}:streamGenerateContent?alt=sse` with
/// `x-goog-api-key`, roles `user`/`model`, `systemInstruction` and
/// `generationConfig.maxOutputTokens`.
///
/// Gemini's stream has no terminator: the answer is complete at the frame that carries a
/// `finishReason`. A blocked prompt (`promptFeedback.blockReason`, HTTP 200) is `contentBlocked`.
package typealias GeminiProvider = HTTPProvider<GeminiWire>

/// Gemini's wire format: the request of a call, and `GeminiStreamDecoder` for its answer.
package enum GeminiWire: ProviderWireFormat {
    package static func makeDecoder() -> GeminiStreamDecoder { GeminiStreamDecoder() }

    package static func request(for request: CompletionRequest, settings: ProviderSettings) -> HTTPClientRequest {
        let body = Body(
            contents: request.messages.map {
                Body.Content(role: $0.role == .assistant ? "model" : "user", parts: [Body.Part(text: $0.text)])
            },
            systemInstruction: request.system.isEmpty ? nil : Body.Content(role: nil, parts: [Body.Part(text: request.system)]),
            generationConfig: Body.GenerationConfig(maxOutputTokens: request.maxTokens, temperature: request.temperature))
        let modelName = settings.model.hasPrefix("models/") ? String(settings.model.dropFirst("models/".count)) : settings.model
        let escaped = modelName.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? modelName
        let base = settings.baseURL.hasSuffix("/v1beta") ? String(settings.baseURL.dropLast(7)) : settings.baseURL
        var http = HTTPClientRequest(
            url: ProviderURL.join(base, "v1beta/models/\(escaped):streamGenerateContent?alt=sse"))
        http.method = .POST
        http.headers.add(name: "content-type", value: "application/json")
        http.headers.add(name: "accept", value: "text/event-stream")
        if let key = settings.apiKey, !key.isEmpty { http.headers.add(name: "x-goog-api-key", value: key) }
        http.body = .bytes(ByteBuffer(bytes: ProviderJSON.encode(body)))
        return http
    }

    struct Body: Encodable {
        struct Part: Encodable {
            var text: String
        }
        struct Content: Encodable {
            var role: String?
            var parts: [Part]
        }
        struct GenerationConfig: Encodable {
            var maxOutputTokens: Int
            var temperature: Double?
        }
        var contents: [Content]
        var systemInstruction: Content?
        var generationConfig: GenerationConfig
    }
}

/// `GenerateContentResponse` frames: text from the first candidate's parts (parts without text,
/// such as a lone `thoughtSignature`, and thought summaries are skipped), usage from
/// `usageMetadata`, complete at the frame with a `finishReason`.
package struct GeminiStreamDecoder: ProviderEventDecoder {
    package private(set) var isComplete = false
    private var usage: TokenUsage?
    /// Gemini sends its running counts with every frame.
    package var usageSoFar: TokenUsage? { usage }

    struct Frame: Decodable {
        struct Candidate: Decodable {
            struct Content: Decodable {
                struct Part: Decodable {
                    var text: String?
                    var thought: Bool?
                }
                var parts: [Part]?
            }
            var content: Content?
            var finishReason: String?
            var index: Int?
        }
        struct Usage: Decodable {
            var promptTokenCount: Int?
            var candidatesTokenCount: Int?
            var thoughtsTokenCount: Int?
            var cachedContentTokenCount: Int?
        }
        struct PromptFeedback: Decodable {
            var blockReason: String?
            var blockReasonMessage: String?
        }
        var candidates: [Candidate]?
        var usageMetadata: Usage?
        var promptFeedback: PromptFeedback?
        var error: JSONValue?
    }

    package mutating func decode(_ event: ServerSentEvent) throws -> [CompletionEvent] {
        let frame = try ProviderJSON.decode(Frame.self, from: event.data, provider: "Gemini")
        if frame.error != nil { throw ProviderErrorClassifier.classifyInStream(event.data, provider: .gemini) }
        if let reason = frame.promptFeedback?.blockReason {
            let detail = frame.promptFeedback?.blockReasonMessage.map { ": \($0)" } ?? ""
            throw ProviderFailure(.contentBlocked, .fallback, message: "the prompt was blocked (\(reason))\(detail)")
        }
        if let counts = frame.usageMetadata {
            usage = TokenUsage(
                inputTokens: counts.promptTokenCount ?? 0,
                outputTokens: (counts.candidatesTokenCount ?? 0) + (counts.thoughtsTokenCount ?? 0),
                cachedInputTokens: counts.cachedContentTokenCount ?? 0)
        }
        guard let candidate = frame.candidates?.first(where: { ($0.index ?? 0) == 0 }) else { return [] }
        var events: [CompletionEvent] = []
        let text = (candidate.content?.parts ?? []).filter { $0.thought != true }.compactMap(\.text).joined()
        if !text.isEmpty { events.append(.text(text)) }
        if let reason = candidate.finishReason {
            isComplete = true
            events.append(.finished(Self.finishReason(reason), usage))
        }
        return events
    }

    static func finishReason(_ raw: String) -> FinishReason {
        switch raw {
        case "STOP": .stop
        case "MAX_TOKENS": .length
        default: .other(raw)
        }
    }
}
