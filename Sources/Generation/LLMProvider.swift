public import Protocol
import VectortCore

/// One turn of a conversation sent to a provider.
public struct ChatMessage: Sendable, Equatable {
    public enum Role: String, Sendable, Equatable { case user, assistant }
    public var role: Role
    public var text: String

    public init(_ role: Role, _ text: String) {
        self.role = role
        self.text = text
    }
}

/// Why the pipeline calls a provider: the template provider answers each purpose differently;
/// network providers only see the messages.
public enum CompletionPurpose: String, Sendable, Equatable {
    /// `advanced` mode's first turn: a short plan, no files.
    case plan
    /// The files of the app.
    case generate
    /// Resume an answer that was cut off (`finish_reason=length` or an unterminated file).
    case `continue`
    /// Fix the files named by validation errors.
    case repair
}

/// What the app is about, for providers that build from it without a model (`template`).
public struct AppBrief: Sendable, Equatable {
    public var prompt: String
    public var title: String
    public var description: String?
    /// The project's type, when it names a kind of app ("shop", "blog", ...).
    public var type: String?

    public init(prompt: String, title: String, description: String? = nil, type: String? = nil) {
        self.prompt = prompt
        self.title = title
        self.description = description
        self.type = type
    }
}

/// A request to one provider. The model, base URL and key come from the provider's configuration.
public struct CompletionRequest: Sendable, Equatable {
    public var system: String
    public var messages: [ChatMessage]
    public var maxTokens: Int
    public var temperature: Double?
    public var purpose: CompletionPurpose
    public var brief: AppBrief?
    /// The files of the version being edited, for providers that edit without a model
    /// (`template`); nil on a fresh generation. Network providers read the messages.
    public var base: [ProjectFile]?

    public init(
        system: String, messages: [ChatMessage], maxTokens: Int = 16_384, temperature: Double? = nil,
        purpose: CompletionPurpose = .generate, brief: AppBrief? = nil, base: [ProjectFile]? = nil
    ) {
        self.base = base
        self.system = system
        self.messages = messages
        self.maxTokens = maxTokens
        self.temperature = temperature
        self.purpose = purpose
        self.brief = brief
    }
}

/// Why a provider stopped.
public enum FinishReason: Sendable, Equatable {
    /// The model ended its answer (OpenAI `stop`, Anthropic `end_turn`/`stop_sequence`, Gemini `STOP`).
    case stop
    /// Cut at the output limit (OpenAI `length`, Anthropic `max_tokens`, Gemini `MAX_TOKENS`).
    case length
    /// Anything else the provider reported (content filter, safety, refusal, ...), verbatim.
    case other(String)
}

/// Token counts reported by a provider.
public struct TokenUsage: Sendable, Codable, Equatable {
    /// Every input token, cached ones included.
    public var inputTokens: Int
    public var outputTokens: Int
    /// The part of `inputTokens` read from the provider's prompt cache (priced apart).
    public var cachedInputTokens: Int

    public init(inputTokens: Int = 0, outputTokens: Int = 0, cachedInputTokens: Int = 0) {
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.cachedInputTokens = cachedInputTokens
    }

    public static func + (a: TokenUsage, b: TokenUsage) -> TokenUsage {
        TokenUsage(
            inputTokens: a.inputTokens + b.inputTokens, outputTokens: a.outputTokens + b.outputTokens,
            cachedInputTokens: a.cachedInputTokens + b.cachedInputTokens)
    }

    enum CodingKeys: String, CodingKey {
        case inputTokens = "input_tokens"
        case outputTokens = "output_tokens"
        case cachedInputTokens = "cached_input_tokens"
    }

    public init(from decoder: any Decoder) throws {
        let values = try decoder.container(keyedBy: CodingKeys.self)
        inputTokens = try values.decode(Int.self, forKey: .inputTokens)
        outputTokens = try values.decode(Int.self, forKey: .outputTokens)
        cachedInputTokens = try values.decodeIfPresent(Int.self, forKey: .cachedInputTokens) ?? 0
    }
}

/// What a provider's stream yields: text deltas, then exactly one `finished` as the last element
/// on a complete answer. A stream that ends without `finished` was cut, and the provider throws
/// `ProviderFailure` (kind `streamCut`) instead of ending quietly.
public enum CompletionEvent: Sendable, Equatable {
    case text(String)
    case finished(FinishReason, TokenUsage?)
}

/// A model provider. Implementations never retry: the chain owns retries, fall-backs and the
/// breaker. Every error thrown from the stream is a `ProviderFailure` (or `CancellationError`).
public protocol LLMProvider: Sendable {
    var name: String { get }
    var kind: ProviderKind { get }
    var model: String { get }

    /// Starts one streaming call. The stream honours the timeouts (connect, first token, idle,
    /// total) and ends by cancellation when its consumer stops.
    func stream(_ request: CompletionRequest) -> AsyncThrowingStream<CompletionEvent, any Error>

    /// The same call, with each event handed to `onEvent` in the calling task, in order. What
    /// `onEvent` throws comes back unchanged. The default reads `stream`; the HTTP providers
    /// skip the stream's buffer and its task switch per chunk.
    func complete(_ request: CompletionRequest, onEvent: @escaping @Sendable (CompletionEvent) async throws -> Void)
        async throws
}

extension LLMProvider {
    public func complete(
        _ request: CompletionRequest, onEvent: @escaping @Sendable (CompletionEvent) async throws -> Void
    ) async throws {
        for try await event in stream(request) { try await onEvent(event) }
    }
}

/// The kinds of provider the engine can speak to.
public enum ProviderKind: String, Sendable, Codable, Equatable, CaseIterable {
    case openai
    case anthropic
    case gemini
    case openaiCompatible = "openai-compatible"
    case template
}
