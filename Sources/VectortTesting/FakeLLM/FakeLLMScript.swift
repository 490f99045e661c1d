/// Which provider's API a `FakeLLMServer` speaks.
public enum FakeLLMFlavour: String, Sendable, CaseIterable {
    /// `POST /v1/chat/completions`, `Authorization: Bearer`.
    case openai
    /// `POST /v1/messages`, `x-api-key` and `anthropic-version`.
    case anthropic
    /// `POST /v1beta/models/{model}:streamGenerateContent?alt=sse` and `:generateContent`, `x-goog-api-key`.
    case gemini
}

/// Token counts a fake reports. Unset counts default to 20 input tokens and one output token per
/// text chunk.
public struct FakeLLMUsage: Sendable, Equatable {
    /// Every input token, cached ones included (each API reports the cached part its own way).
    public var inputTokens: Int
    public var outputTokens: Int
    /// The part of the input read from the provider's prompt cache.
    public var cachedInputTokens: Int

    public init(inputTokens: Int, outputTokens: Int, cachedInputTokens: Int = 0) {
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.cachedInputTokens = cachedInputTokens
    }
}

/// What a fake does with one call. Scripts are queued on the server (first in, first out); a
/// call that finds the queue empty gets the server's default script.
///
/// "Chunks" are the text deltas of an answer: `afterChunks: 2` means that two text deltas went
/// out before the fault, whatever framing events (role chunk, `message_start`, `ping`) preceded them.
public struct FakeLLMScript: Sendable {
    enum Reply: Sendable {
        case answer(Answer)
        case error(FakeLLMError)
        /// Close the TCP connection (with a reset) before any response byte.
        case reset
        /// Exactly this status, headers and body, in no provider's envelope.
        case raw(status: Int, headers: [(name: String, value: String)], body: String)
    }

    /// How a streamed answer ends.
    enum Ending: Sendable {
        case complete
        /// Stop after `afterChunks` text deltas: abruptly (TCP close in the middle of the chunked
        /// body) or cleanly (a well-formed end of the HTTP body, but no provider terminator).
        case cut(afterChunks: Int, cleanly: Bool)
        case inStreamError(afterChunks: Int, FakeLLMError)
        /// A `data:` line that is not JSON after `afterChunks` text deltas; the stream then goes on.
        case malformed(afterChunks: Int)
    }

    struct Answer: Sendable {
        var chunks: [String]
        var firstTokenDelay: Duration = .zero
        var interChunkDelay: Duration = .zero
        /// Extra silence before the text delta with this index.
        var stalls: [Int: Duration] = [:]
        var finishReason: String?
        var usage: FakeLLMUsage?
        var ending: Ending = .complete
        /// Leave out OpenAI's usage chunk even when `stream_options.include_usage` asked for it.
        var omitUsage = false
    }

    var reply: Reply
    var delayBeforeHeaders: Duration = .zero
    var extraHeaders: [(name: String, value: String)] = []

    init(_ reply: Reply) { self.reply = reply }

    /// The text sent when a fault script does not say: long enough for a few chunks.
    public static let defaultText = "The quick brown fox jumps over the lazy dog, twice over."

    // MARK: Answers

    /// A complete answer streamed in pieces of `chunkSize` characters. `finishReason` is the
    /// provider's own word ("stop"/"length", "end_turn"/"max_tokens", "STOP"/"MAX_TOKENS"); nil
    /// means the flavour's normal end.
    public static func answer(
        _ text: String, chunkSize: Int = 8, firstTokenDelay: Duration = .zero, interChunkDelay: Duration = .zero,
        finishReason: String? = nil, usage: FakeLLMUsage? = nil
    ) -> FakeLLMScript {
        answer(
            chunks: split(text, size: chunkSize), firstTokenDelay: firstTokenDelay,
            interChunkDelay: interChunkDelay, finishReason: finishReason, usage: usage)
    }

    /// A complete answer streamed as exactly these text deltas.
    public static func answer(
        chunks: [String], firstTokenDelay: Duration = .zero, interChunkDelay: Duration = .zero,
        finishReason: String? = nil, usage: FakeLLMUsage? = nil
    ) -> FakeLLMScript {
        FakeLLMScript(
            .answer(
                Answer(
                    chunks: chunks, firstTokenDelay: firstTokenDelay, interChunkDelay: interChunkDelay,
                    finishReason: finishReason, usage: usage)))
    }

    /// A fixed answer at fixed pacing, for load tests: `text` in `chunks` nearly equal deltas,
    /// `interval` apart (the first one too).
    public static func paced(_ text: String, chunks: Int, interval: Duration) -> FakeLLMScript {
        answer(chunks: split(text, into: chunks), firstTokenDelay: interval, interChunkDelay: interval)
    }

    // MARK: Faults

    /// An HTTP error status with the flavour's error envelope.
    public static func error(_ error: FakeLLMError) -> FakeLLMScript { FakeLLMScript(.error(error)) }

    /// An HTTP error with explicit envelope fields: `type` is OpenAI's and Anthropic's
    /// `error.type`, `code` OpenAI's `error.code` (Anthropic: `error.details.error_code`),
    /// `status` Gemini's `error.status`; `retryDelay` adds a Gemini `RetryInfo` ("37s").
    public static func status(
        _ code: Int, type: String? = nil, code errorCode: String? = nil, status: String? = nil,
        message: String? = nil, headers: [(name: String, value: String)] = [], retryDelay: String? = nil
    ) -> FakeLLMScript {
        .error(
            FakeLLMError(
                status: code, type: type, code: errorCode, grpcStatus: status, message: message, headers: headers,
                retryDelay: retryDelay))
    }

    /// 429 rate limit. `retryAfter` becomes `retry-after` (whole seconds, rounded up) for OpenAI
    /// and Anthropic and `RetryInfo.retryDelay` for Gemini; `resetIn` becomes the rate-limit
    /// reset headers (OpenAI `x-ratelimit-reset-requests` duration, Anthropic
    /// `anthropic-ratelimit-requests-reset` RFC 3339 time).
    public static func rateLimited(
        retryAfter: Duration? = nil, resetIn: Duration? = nil, headers: [(name: String, value: String)] = []
    ) -> FakeLLMScript {
        var error = FakeLLMError(.rateLimited)
        error.retryAfter = retryAfter
        error.resetIn = resetIn
        error.headers = headers
        return .error(error)
    }

    /// 429 `insufficient_quota` (OpenAI); Anthropic's credit-balance 400; Gemini's per-day quota.
    public static var insufficientQuota: FakeLLMScript { .error(FakeLLMError(.insufficientQuota)) }
    /// 529 `overloaded_error` for Anthropic, 503 for the others.
    public static var overloaded: FakeLLMScript { .error(FakeLLMError(.overloaded)) }
    /// 500 with the flavour's internal error.
    public static var serverError: FakeLLMScript { .error(FakeLLMError(.serverError)) }
    /// The flavour's bad-key answer (401; Gemini answers 400 `API_KEY_INVALID`).
    public static var unauthorized: FakeLLMScript { .error(FakeLLMError(.unauthorized)) }
    /// 404 for an unknown model.
    public static var modelNotFound: FakeLLMScript { .error(FakeLLMError(.modelNotFound)) }
    /// 400 prompt longer than the context window (OpenAI `context_length_exceeded`).
    public static var contextTooLong: FakeLLMScript { .error(FakeLLMError(.contextTooLong)) }
    /// Anthropic 429 `enforced_spend_limit_reached`; OpenAI 400 `billing_hard_limit_reached`;
    /// Gemini per-day quota.
    public static var spendLimit: FakeLLMScript { .error(FakeLLMError(.spendLimit)) }
    /// Gemini 429 on a per-day quota (no useful retry delay); the others' quota exhaustion.
    public static var dailyQuota: FakeLLMScript { .error(FakeLLMError(.dailyQuota)) }

    /// After `afterChunks` text deltas, the flavour's in-stream error (OpenAI `data: {"error":…}`,
    /// Anthropic `event: error`, Gemini an error frame), then the end of the stream.
    public static func inStreamError(
        afterChunks: Int, error: FakeLLMError = FakeLLMError(.overloaded), text: String = defaultText
    ) -> FakeLLMScript {
        fault(text, atLeast: afterChunks + 1, ending: .inStreamError(afterChunks: afterChunks, error))
    }

    /// After `afterChunks` text deltas the connection closes without the provider's terminator:
    /// abruptly (mid chunked body) by default, or with a clean end of the HTTP body.
    public static func cut(afterChunks: Int, cleanly: Bool = false, text: String = defaultText) -> FakeLLMScript {
        fault(text, atLeast: afterChunks + 1, ending: .cut(afterChunks: afterChunks, cleanly: cleanly))
    }

    /// Headers (and Anthropic's `message_start`/`ping`, OpenAI's role chunk) go out at once, the
    /// first text delta only after `delay`.
    public static func stall(beforeFirstToken delay: Duration, text: String = defaultText) -> FakeLLMScript {
        var script = answer(text)
        script.modifyAnswer { $0.firstTokenDelay = delay }
        return script
    }

    /// Silence of `delay` after `afterChunks` text deltas, then the rest of the answer.
    public static func stall(afterChunks: Int, for delay: Duration, text: String = defaultText) -> FakeLLMScript {
        var script = fault(text, atLeast: afterChunks + 1, ending: .complete)
        script.modifyAnswer { $0.stalls[afterChunks] = delay }
        return script
    }

    /// After `afterChunks` text deltas, a `data:` line that is not JSON.
    public static func malformed(afterChunks: Int, text: String = defaultText) -> FakeLLMScript {
        fault(text, atLeast: afterChunks + 1, ending: .malformed(afterChunks: afterChunks))
    }

    /// The connection is reset before any response byte.
    public static var reset: FakeLLMScript { FakeLLMScript(.reset) }

    /// A reply outside every provider's envelope, as local OpenAI-compatible servers send
    /// (`{"error":"model not found"}`, plain text, an HTML proxy page).
    public static func raw(
        status: Int, body: String, contentType: String = "text/plain; charset=utf-8",
        headers: [(name: String, value: String)] = []
    ) -> FakeLLMScript {
        FakeLLMScript(.raw(status: status, headers: [("content-type", contentType)] + headers, body: body))
    }

    // MARK: Modifiers

    /// The same script with its response head held back for `delay`.
    public func delayingHeaders(by delay: Duration) -> FakeLLMScript {
        var copy = self
        copy.delayBeforeHeaders = delay
        return copy
    }

    /// The same script with these response headers added.
    public func addingHeaders(_ headers: [(name: String, value: String)]) -> FakeLLMScript {
        var copy = self
        copy.extraHeaders += headers
        return copy
    }

    /// The same answer without OpenAI's usage chunk, as servers that ignore
    /// `stream_options.include_usage` send it.
    public func omittingUsage() -> FakeLLMScript {
        var copy = self
        copy.modifyAnswer { $0.omitUsage = true }
        return copy
    }

    private mutating func modifyAnswer(_ body: (inout Answer) -> Void) {
        if case .answer(var answer) = reply {
            body(&answer)
            reply = .answer(answer)
        }
    }

    private static func fault(_ text: String, atLeast count: Int, ending: Ending) -> FakeLLMScript {
        var chunks = split(text, size: 8)
        if chunks.count < count { chunks = split(text, into: count) }
        while chunks.count < count { chunks.append(" more") }
        var script = answer(chunks: chunks)
        script.modifyAnswer { $0.ending = ending }
        return script
    }

    static func split(_ text: String, size: Int) -> [String] {
        let size = max(1, size)
        var chunks: [String] = []
        var index = text.startIndex
        while index < text.endIndex {
            let end = text.index(index, offsetBy: size, limitedBy: text.endIndex) ?? text.endIndex
            chunks.append(String(text[index..<end]))
            index = end
        }
        return chunks
    }

    static func split(_ text: String, into count: Int) -> [String] {
        let characters = Array(text)
        let count = max(1, count)
        guard !characters.isEmpty else { return Array(repeating: "", count: count) }
        return (0..<count).map { i in
            String(characters[(characters.count * i / count)..<(characters.count * (i + 1) / count)])
        }
    }
}

/// An error reply of a fake: a preset (rendered in each flavour's own words and status) and
/// optional overrides of the status and envelope fields.
public struct FakeLLMError: Sendable {
    public enum Preset: Sendable, Equatable {
        case rateLimited, insufficientQuota, overloaded, serverError, unauthorized, modelNotFound
        case contextTooLong, spendLimit, dailyQuota
    }

    public var preset: Preset?
    public var status: Int?
    /// OpenAI and Anthropic `error.type`.
    public var type: String?
    /// OpenAI `error.code`; Anthropic `error.details.error_code`.
    public var code: String?
    /// Gemini `error.status` (`RESOURCE_EXHAUSTED`, ...).
    public var grpcStatus: String?
    public var message: String?
    public var headers: [(name: String, value: String)]
    /// Gemini `RetryInfo.retryDelay` ("37s").
    public var retryDelay: String?
    /// Gemini `QuotaFailure` violation `quotaId`.
    public var quotaId: String?
    /// `rateLimited`: the wait to advertise.
    public var retryAfter: Duration?
    /// `rateLimited`: when the rate-limit window resets.
    public var resetIn: Duration?

    public init(
        _ preset: Preset? = nil, status: Int? = nil, type: String? = nil, code: String? = nil,
        grpcStatus: String? = nil, message: String? = nil, headers: [(name: String, value: String)] = [],
        retryDelay: String? = nil, quotaId: String? = nil
    ) {
        self.preset = preset
        self.status = status
        self.type = type
        self.code = code
        self.grpcStatus = grpcStatus
        self.message = message
        self.headers = headers
        self.retryDelay = retryDelay
        self.quotaId = quotaId
    }
}
