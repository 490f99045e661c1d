public import AsyncHTTPClient
import Foundation
public import Logging
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
public struct OpenAIProvider: LLMProvider {
    public let name: String
    public let kind: ProviderKind
    public let model: String
    private let settings: ProviderSettings
    private let httpClient: HTTPClient
    private let logger: Logger

    /// `settings.kind` is `.openai` or `.openaiCompatible`; `settings.baseURL` ends in `/v1`.
    public init(_ settings: ProviderSettings, httpClient: HTTPClient, logger: Logger = ProviderFactory.silentLogger) {
        name = settings.name
        kind = settings.kind
        model = settings.model
        self.settings = settings
        self.httpClient = httpClient
        var logger = logger
        logger[metadataKey: "provider"] = "\(settings.name)"
        self.logger = logger
    }

    public func stream(_ request: CompletionRequest) -> AsyncThrowingStream<CompletionEvent, any Error> {
        ProviderHTTPStream(
            httpClient: httpClient, request: httpRequest(for: request), decoder: OpenAIStreamDecoder(), provider: kind,
            timeouts: settings.timeouts, secret: settings.apiKey, logger: logger
        ).start()
    }

    func httpRequest(for request: CompletionRequest) -> HTTPClientRequest {
        var messages: [Body.Message] = []
        if !request.system.isEmpty { messages.append(Body.Message(role: "system", content: request.system)) }
        messages += request.messages.map { Body.Message(role: $0.role.rawValue, content: $0.text) }
        let compatible = kind == .openaiCompatible
        let body = Body(
            model: model, messages: messages, stream: true, streamOptions: Body.StreamOptions(includeUsage: true),
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
struct OpenAIStreamDecoder: ProviderEventDecoder {
    private var finishReason: String?
    private var usage: TokenUsage?
    private(set) var isComplete = false

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
            var promptTokens: Int?
            var completionTokens: Int?
            enum CodingKeys: String, CodingKey {
                case promptTokens = "prompt_tokens"
                case completionTokens = "completion_tokens"
            }
        }
        var choices: [Choice]?
        var usage: Usage?
        var error: JSONValue?
    }

    mutating func decode(_ event: ServerSentEvent) throws -> [CompletionEvent] {
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
        let chunk = try ProviderJSON.decode(Chunk.self, from: data, provider: "OpenAI")
        if chunk.error != nil { throw ProviderErrorClassifier.classifyInStream(data, provider: .openai) }
        if let usage = chunk.usage {
            self.usage = TokenUsage(inputTokens: usage.promptTokens ?? 0, outputTokens: usage.completionTokens ?? 0)
        }
        guard let choice = chunk.choices?.first(where: { ($0.index ?? 0) == 0 }) else { return [] }
        if let reason = choice.finishReason { finishReason = reason }
        if let text = choice.delta?.content, !text.isEmpty { return [.text(text)] }
        return []
    }

    func decodeWhole(_ body: [UInt8]) throws -> [CompletionEvent]? {
        let completion = try ProviderJSON.decode(Chunk.self, from: String(decoding: body, as: UTF8.self), provider: "OpenAI")
        guard let choice = completion.choices?.first, let reason = choice.finishReason else {
            throw ProviderFailure(.malformedResponse, .retry, message: "a completion without choices or finish_reason")
        }
        let usage = completion.usage.map {
            TokenUsage(inputTokens: $0.promptTokens ?? 0, outputTokens: $0.completionTokens ?? 0)
        }
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
