package import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Protocol

/// OpenAI Chat Completions, and any server that imitates it (`openai-compatible`: Ollama, vLLM,
/// llama.cpp, LM Studio): `POST {baseURL}/chat/completions` with `stream: true` and
/// `stream_options.include_usage`.
///
/// An answer is complete only with a `finish_reason` and `data: [DONE]`. Servers that send no
/// usage chunk finish without usage; error bodies that are not OpenAI's shape (plain text,
/// `{"error":"…"}`) are classified by status.
package typealias OpenAIProvider = HTTPProvider<OpenAIWire>

/// OpenAI's wire format: the request of a call, and `OpenAIStreamDecoder` for its answer.
package enum OpenAIWire: ProviderWireFormat {
    package static func makeDecoder() -> OpenAIStreamDecoder { OpenAIStreamDecoder() }

    package static func request(for request: CompletionRequest, settings: ProviderSettings) -> HTTPClientRequest {
        var messages: [Body.Message] = []
        if !request.system.isEmpty { messages.append(Body.Message(role: "system", content: request.system)) }
        messages += request.messages.map { Body.Message(role: $0.role.rawValue, content: $0.text) }
        let compatible = settings.kind == .openaiCompatible
        let body = Body(
            model: settings.model, messages: messages, stream: true, streamOptions: Body.StreamOptions(includeUsage: true),
            maxCompletionTokens: compatible ? nil : request.maxTokens, maxTokens: compatible ? request.maxTokens : nil,
            temperature: request.temperature)
        var http = HTTPClientRequest(url: ProviderURL.join(settings.baseURL, "chat/completions"))
        http.method = .POST
        http.headers.add(name: "content-type", value: "application/json")
        http.headers.add(name: "accept", value: "text/event-stream")
        if let key = settings.apiKey, !key.isEmpty { http.headers.add(name: "authorization", value: "Bearer \(key)") }
        http.body = .bytes(ByteBuffer(bytes: ProviderJSON.encode(body)))
        return http
    }

    struct Body: Encodable {
        struct Message: Encodable {
            var role: String
            var content: String
        }

        struct StreamOptions: Encodable {
            var includeUsage: Bool
            enum CodingKeys: String, CodingKey { case includeUsage = "include_usage" }
        }

        var model: String
        var messages: [Message]
        var stream: Bool
        var streamOptions: StreamOptions
        var maxCompletionTokens: Int?
        var maxTokens: Int?
        var temperature: Double?

        enum CodingKeys: String, CodingKey {
            case model, messages, stream, temperature
            case streamOptions = "stream_options"
            case maxCompletionTokens = "max_completion_tokens"
            case maxTokens = "max_tokens"
        }
    }
}

/// `chat.completion.chunk` events: text from `choices[0].delta.content`, the finish reason from
/// the chunk that carries it, usage from the chunk with empty `choices`, done at `[DONE]`.
package struct OpenAIStreamDecoder: ProviderEventDecoder, Equatable {
    private var finishReason: String?
    private var usage: TokenUsage?
    /// Only the last chunk carries usage.
    package var usageSoFar: TokenUsage? { usage }
    package private(set) var isComplete = false

    struct Chunk: Decodable {
        struct Choice: Decodable {
            struct Delta: Decodable {
                var content: String?
            }
            struct Message: Decodable {
                var content: String?
            }
            var index: Int?
            var delta: Delta?
            var message: Message?
            var finishReason: String?
            enum CodingKeys: String, CodingKey {
                case index, delta, message
                case finishReason = "finish_reason"
            }
        }
        struct Usage: Decodable {
            struct PromptDetails: Decodable {
                var cachedTokens: Int?
                enum CodingKeys: String, CodingKey { case cachedTokens = "cached_tokens" }
            }
            var promptTokens: Int?
            var completionTokens: Int?
            var promptTokensDetails: PromptDetails?
            enum CodingKeys: String, CodingKey {
                case promptTokens = "prompt_tokens"
                case completionTokens = "completion_tokens"
                case promptTokensDetails = "prompt_tokens_details"
            }

            var tokens: TokenUsage {
                TokenUsage(
                    inputTokens: promptTokens ?? 0, outputTokens: completionTokens ?? 0,
                    cachedInputTokens: promptTokensDetails?.cachedTokens ?? 0)
            }
        }
        var choices: [Choice]?
        var usage: Usage?
        var error: JSONValue?
    }

    /// What `decode` takes from a chunk: its usage, and from the first choice with index 0 (or
    /// none) the finish reason and text.
    struct ChunkFields: Equatable {
        var usage: TokenUsage?
        var finishReason: String?
        var text: String?
    }

    package mutating func decode(_ event: ServerSentEvent) throws -> [CompletionEvent] {
        try decode(event, scanning: true)
    }

    /// `decode` as it was before the scanner: every chunk through `JSONDecoder`.
    mutating func decodeWithJSONDecoder(_ event: ServerSentEvent) throws -> [CompletionEvent] {
        try decode(event, scanning: false)
    }

    private mutating func decode(_ event: ServerSentEvent, scanning: Bool) throws -> [CompletionEvent] {
        // Called for every chunk: a byte-level check instead of Foundation's trimming, which goes
        // through UTF-16 and was the largest cost of a streamed answer.
        let data = event.data
        if Self.isDone(data) {
            guard let finishReason else {
                throw ProviderFailure(.streamCut, .retry, message: "[DONE] arrived without a finish_reason")
            }
            isComplete = true
            return [.finished(Self.finishReason(finishReason), usage)]
        }
        let scanned = scanning ? Self.scanFields(data) : nil
        let fields = try scanned ?? Self.decodeFields(data)
        if let usage = fields.usage { self.usage = usage }
        if let reason = fields.finishReason { finishReason = reason }
        if let text = fields.text, !text.isEmpty { return [.text(text)] }
        return []
    }

    /// The fields through `JSONDecoder`; throws for malformed data and for an in-stream error.
    static func decodeFields(_ data: String) throws -> ChunkFields {
        let chunk = try ProviderJSON.decode(Chunk.self, from: data, provider: "OpenAI")
        if chunk.error != nil { throw ProviderErrorClassifier.classifyInStream(data, provider: .openai) }
        let usage = chunk.usage.map(\.tokens)
        let choice = chunk.choices?.first(where: { ($0.index ?? 0) == 0 })
        return ChunkFields(usage: usage, finishReason: choice?.finishReason, text: choice?.delta?.content)
    }

    package func decodeWhole(_ body: [UInt8]) throws -> [CompletionEvent]? {
        let completion = try ProviderJSON.decode(Chunk.self, from: String(decoding: body, as: UTF8.self), provider: "OpenAI")
        guard let choice = completion.choices?.first, let reason = choice.finishReason else {
            throw ProviderFailure(.malformedResponse, .retry, message: "a completion without choices or finish_reason")
        }
        let usage = completion.usage.map(\.tokens)
        let text = choice.message?.content ?? ""
        return (text.isEmpty ? [] : [.text(text)]) + [.finished(Self.finishReason(reason), usage)]
    }

    /// `[DONE]`, with any spaces or tabs around it.
    static func isDone(_ data: String) -> Bool {
        var bytes = Substring(data).utf8[...]
        while let first = bytes.first, first == 0x20 || first == 0x09 { bytes = bytes.dropFirst() }
        while let last = bytes.last, last == 0x20 || last == 0x09 { bytes = bytes.dropLast() }
        return bytes.elementsEqual("[DONE]".utf8)
    }

    static func finishReason(_ raw: String) -> FinishReason {
        switch raw {
        case "stop": .stop
        case "length": .length
        default: .other(raw)
        }
    }
}

/// The per-chunk fast path: the same fields read by `StreamChunkScanner`, without `JSONDecoder`.
extension OpenAIStreamDecoder {
    private typealias Scanner = StreamChunkScanner
    private typealias Unsupported = StreamChunkScanner.Unsupported

    private struct ScannedChoice {
        var index: Int?
        var content: String?
        var finishReason: String?
    }

    /// The fields `decodeFields` gives, with the types `Chunk` gives them; nil for a chunk the
    /// scanner does not fully understand, and for one with an `error`.
    static func scanFields(_ data: String) -> ChunkFields? {
        var choice = Scanner.Field<ScannedChoice>()
        var usage = Scanner.Field<TokenUsage>()
        let understood = Scanner.scanObject(data) { scanner, key throws(Unsupported) in
            switch key {
            case "choices": try choice.read(scanner.nullOr(scanChoices) ?? nil)
            case "usage": try usage.read(scanner.nullOr(scanUsage))
            case "error": throw Unsupported()
            default: try scanner.skipValue()
            }
        }
        guard understood else { return nil }
        return ChunkFields(usage: usage.value, finishReason: choice.value?.finishReason, text: choice.value?.content)
    }

    /// The first choice with index 0 (or none), every choice read all the same.
    private static func scanChoices(_ scanner: inout Scanner) throws(Unsupported) -> ScannedChoice? {
        var first: ScannedChoice?
        try scanner.array { scanner throws(Unsupported) in
            let choice = try scanChoice(&scanner)
            if first == nil, (choice.index ?? 0) == 0 { first = choice }
        }
        return first
    }

    private static func scanChoice(_ scanner: inout Scanner) throws(Unsupported) -> ScannedChoice {
        var index = Scanner.Field<Int>()
        var delta = Scanner.Field<String>()
        var finishReason = Scanner.Field<String>()
        try scanner.object { scanner, key throws(Unsupported) in
            switch key {
            case "index": try index.read(scanner.integerOrNull())
            case "delta": try delta.read(scanner.nullOr(scanContent) ?? nil)
            case "message": _ = try scanner.nullOr(scanContent)
            case "finish_reason": try finishReason.read(scanner.stringOrNull())
            default: try scanner.skipValue()
            }
        }
        return ScannedChoice(index: index.value, content: delta.value, finishReason: finishReason.value)
    }

    /// The `content` of a delta or message.
    private static func scanContent(_ scanner: inout Scanner) throws(Unsupported) -> String? {
        var content = Scanner.Field<String>()
        try scanner.object { scanner, key throws(Unsupported) in
            switch key {
            case "content": try content.read(scanner.stringOrNull())
            default: try scanner.skipValue()
            }
        }
        return content.value
    }

    private static func scanUsage(_ scanner: inout Scanner) throws(Unsupported) -> TokenUsage {
        var prompt = Scanner.Field<Int>()
        var completion = Scanner.Field<Int>()
        var cached = Scanner.Field<Int>()
        try scanner.object { scanner, key throws(Unsupported) in
            switch key {
            case "prompt_tokens": try prompt.read(scanner.integerOrNull())
            case "completion_tokens": try completion.read(scanner.integerOrNull())
            case "prompt_tokens_details":
                // {"cached_tokens": N, …} or null.
                _ = try scanner.nullOr { scanner throws(Unsupported) in
                    try scanner.object { scanner, key throws(Unsupported) in
                        switch key {
                        case "cached_tokens": try cached.read(scanner.integerOrNull())
                        default: try scanner.skipValue()
                        }
                    }
                }
            default: try scanner.skipValue()
            }
        }
        return TokenUsage(inputTokens: prompt.value ?? 0, outputTokens: completion.value ?? 0, cachedInputTokens: cached.value ?? 0)
    }
}
