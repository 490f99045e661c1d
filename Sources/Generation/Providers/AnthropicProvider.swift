package import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Protocol

/// Anthropic Messages: `POST {baseURL}/v1/messages` with `x-api-key`, `anthropic-version:
/// 2023-06-01`, the system prompt top-level and `max_tokens`, streamed as named events.
///
/// An answer is complete only at `message_stop`; `event: error` (such as `overloaded_error`
/// after the 200) is an in-stream error.
package typealias AnthropicProvider = HTTPProvider<AnthropicWire>

/// Anthropic's wire format: the request of a call, and `AnthropicStreamDecoder` for its answer.
package enum AnthropicWire: ProviderWireFormat {
    package static let apiVersion = "2023-06-01"

    package static func makeDecoder() -> AnthropicStreamDecoder { AnthropicStreamDecoder() }

    package static func request(for request: CompletionRequest, settings: ProviderSettings) -> HTTPClientRequest {
        let body = Body(
            model: settings.model, maxTokens: request.maxTokens, system: request.system.isEmpty ? nil : request.system,
            messages: request.messages.map { Body.Message(role: $0.role.rawValue, content: $0.text) }, stream: true,
            temperature: request.temperature)
        let base = settings.baseURL.hasSuffix("/v1") ? String(settings.baseURL.dropLast(3)) : settings.baseURL
        var http = HTTPClientRequest(url: ProviderURL.join(base, "v1/messages"))
        http.method = .POST
        http.headers.add(name: "content-type", value: "application/json")
        http.headers.add(name: "accept", value: "text/event-stream")
        http.headers.add(name: "anthropic-version", value: Self.apiVersion)
        if let key = settings.apiKey, !key.isEmpty { http.headers.add(name: "x-api-key", value: key) }
        http.body = .bytes(ByteBuffer(bytes: ProviderJSON.encode(body)))
        return http
    }

    struct Body: Encodable {
        struct Message: Encodable {
            var role: String
            var content: String
        }
        var model: String
        var maxTokens: Int
        var system: String?
        var messages: [Message]
        var stream: Bool
        var temperature: Double?

        enum CodingKeys: String, CodingKey {
            case model, system, messages, stream, temperature
            case maxTokens = "max_tokens"
        }
    }
}

/// Named events: input tokens from `message_start`, text from `text_delta`s, the stop reason and
/// cumulative output tokens from `message_delta`, done at `message_stop`. Unknown events and
/// non-text deltas (thinking, tool input) are skipped, as the API asks.
package struct AnthropicStreamDecoder: ProviderEventDecoder, Equatable {
    private var usage = TokenUsage()
    /// `message_start` counts the input before any text: a cut stream still spent it.
    package var usageSoFar: TokenUsage? { usage == TokenUsage() ? nil : usage }
    private var stopReason: String?
    package private(set) var isComplete = false

    struct Payload: Decodable {
        struct Usage: Decodable {
            var inputTokens: Int?
            var outputTokens: Int?
            var cacheCreationInputTokens: Int?
            var cacheReadInputTokens: Int?
            enum CodingKeys: String, CodingKey {
                case inputTokens = "input_tokens"
                case outputTokens = "output_tokens"
                case cacheCreationInputTokens = "cache_creation_input_tokens"
                case cacheReadInputTokens = "cache_read_input_tokens"
            }
        }
        struct Message: Decodable {
            var usage: Usage?
        }
        struct Delta: Decodable {
            var type: String?
            var text: String?
            var stopReason: String?
            enum CodingKeys: String, CodingKey {
                case type, text
                case stopReason = "stop_reason"
            }
        }
        struct Block: Decodable {
            var type: String?
            var text: String?
        }
        var type: String?
        var message: Message?
        var delta: Delta?
        var usage: Usage?
        var contentBlock: Block?

        enum CodingKeys: String, CodingKey {
            case type, message, delta, usage
            case contentBlock = "content_block"
        }
    }

    package mutating func decode(_ event: ServerSentEvent) throws -> [CompletionEvent] {
        if let events = Self.scanContentBlockDelta(event) { return events }
        return try decodeWithJSONDecoder(event)
    }

    /// `decode` as it was before the scanner: every event through `JSONDecoder`.
    mutating func decodeWithJSONDecoder(_ event: ServerSentEvent) throws -> [CompletionEvent] {
        if event.event == "error" { throw ProviderErrorClassifier.classifyInStream(event.data, provider: .anthropic) }
        let payload = try ProviderJSON.decode(Payload.self, from: event.data, provider: "Anthropic")
        switch event.event ?? payload.type ?? "" {
        case "message_start":
            if let start = payload.message?.usage { apply(start) }
        case "content_block_start":
            if payload.contentBlock?.type == "text", let text = payload.contentBlock?.text, !text.isEmpty {
                return [.text(text)]
            }
        case "content_block_delta":
            if payload.delta?.type == "text_delta", let text = payload.delta?.text, !text.isEmpty { return [.text(text)] }
        case "message_delta":
            if let reason = payload.delta?.stopReason { stopReason = reason }
            if let delta = payload.usage { apply(delta) }
        case "message_stop":
            isComplete = true
            return [.finished(Self.finishReason(stopReason), usage)]
        case "error":
            throw ProviderErrorClassifier.classifyInStream(event.data, provider: .anthropic)
        default:
            break
        }
        return []
    }

    /// `message_start` carries the input tokens; `message_delta` the cumulative output (and,
    /// lately, cumulative input too), so later counts replace earlier ones.
    private mutating func apply(_ counts: Payload.Usage) {
        if let input = counts.inputTokens {
            usage.inputTokens = input + (counts.cacheCreationInputTokens ?? 0) + (counts.cacheReadInputTokens ?? 0)
            usage.cachedInputTokens = counts.cacheReadInputTokens ?? 0
        }
        if let output = counts.outputTokens { usage.outputTokens = output }
    }

    static func finishReason(_ raw: String?) -> FinishReason {
        switch raw {
        case "end_turn", "stop_sequence": .stop
        case "max_tokens", "model_context_window_exceeded": .length
        case let other: .other(other ?? "unknown")
        }
    }
}

/// The per-token event, `content_block_delta`, read by `StreamChunkScanner`; other events are
/// rare enough to go through `JSONDecoder`.
extension AnthropicStreamDecoder {
    private typealias Scanner = StreamChunkScanner
    private typealias Unsupported = StreamChunkScanner.Unsupported

    private struct ScannedDelta {
        var type: String?
        var text: String?
    }

    /// What `decode` returns for a `content_block_delta`; nil for any other event and for one
    /// the scanner does not fully understand (one with `message`, `usage` or `content_block`
    /// included, which `Payload` would decode).
    static func scanContentBlockDelta(_ event: ServerSentEvent) -> [CompletionEvent]? {
        guard event.event == nil || event.event == "content_block_delta" else { return nil }
        var type = Scanner.Field<String>()
        var delta = Scanner.Field<ScannedDelta>()
        let understood = Scanner.scanObject(event.data) { scanner, key throws(Unsupported) in
            switch key {
            case "type": try type.read(scanner.stringOrNull())
            case "delta": try delta.read(scanner.nullOr(scanDelta))
            case "message", "usage", "content_block": throw Unsupported()
            default: try scanner.skipValue()
            }
        }
        guard understood, (event.event ?? type.value) == "content_block_delta" else { return nil }
        if delta.value?.type == "text_delta", let text = delta.value?.text, !text.isEmpty { return [.text(text)] }
        return []
    }

    private static func scanDelta(_ scanner: inout Scanner) throws(Unsupported) -> ScannedDelta {
        var type = Scanner.Field<String>()
        var text = Scanner.Field<String>()
        try scanner.object { scanner, key throws(Unsupported) in
            switch key {
            case "type": try type.read(scanner.stringOrNull())
            case "text": try text.read(scanner.stringOrNull())
            case "stop_reason": _ = try scanner.stringOrNull()
            default: try scanner.skipValue()
            }
        }
        return ScannedDelta(type: type.value, text: text.value)
    }
}
