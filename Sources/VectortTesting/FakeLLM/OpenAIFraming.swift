import Foundation

/// OpenAI Chat Completions as the fake speaks it: `chat.completion.chunk` SSE with a role
/// chunk, a finish chunk, an optional usage chunk with empty `choices`, and `data: [DONE]`.
struct OpenAIFraming: FakeLLMStreamFraming {
    var context: FakeLLMCallContext
    var answer: FakeLLMScript.Answer

    private var id: String { "chatcmpl-fake\(context.callIndex)" }
    private var withUsage: Bool { context.includeUsage && !answer.omitUsage }

    private func chunk(_ choices: String, usage: String? = nil) -> String {
        var json =
            #"{"id":"\#(id)","object":"chat.completion.chunk","created":\#(context.created),"model":\#(FakeJSON.quote(context.model)),"system_fingerprint":"fp_fake","choices":\#(choices)"#
        if let usage {
            json += #","usage":\#(usage)"#
        } else if withUsage {
            json += #","usage":null"#
        }
        return "data: \(json)}\n\n"
    }

    private func choice(delta: String, finishReason: String?) -> String {
        #"[{"index":0,"delta":\#(delta),"logprobs":null,"finish_reason":\#(FakeJSON.quote(finishReason))}]"#
    }

    private var usageJSON: String {
        let input = answer.usage?.inputTokens ?? context.defaultInputTokens
        let output = answer.usage?.outputTokens ?? answer.chunks.count
        let cached = answer.usage?.cachedInputTokens ?? 0
        return
            #"{"prompt_tokens":\#(input),"completion_tokens":\#(output),"total_tokens":\#(input + output),"prompt_tokens_details":{"cached_tokens":\#(cached),"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}"#
    }

    func prologue() -> [String] {
        [chunk(choice(delta: #"{"role":"assistant","content":"","refusal":null}"#, finishReason: nil))]
    }

    func text(_ text: String, index: Int, isLast: Bool) -> String {
        chunk(choice(delta: #"{"content":\#(FakeJSON.quote(text))}"#, finishReason: nil))
    }

    func epilogue(textChunks: Int) -> [String] {
        var events = [chunk(choice(delta: "{}", finishReason: answer.finishReason ?? "stop"))]
        if withUsage { events.append(chunk("[]", usage: usageJSON)) }
        events.append("data: [DONE]\n\n")
        return events
    }

    func inStreamError(_ error: FakeLLMError) -> String {
        "data: \(Self.render(error, model: context.model).body)\n\n"
    }

    func malformed() -> String {
        #"data: {"id":"\#(id)","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"tru"#
            + "\n\n"
    }

    /// The non-streaming `chat.completion` object.
    func completion() -> String {
        let text = FakeJSON.quote(answer.chunks.joined())
        return
            #"{"id":"\#(id)","object":"chat.completion","created":\#(context.created),"model":\#(FakeJSON.quote(context.model)),"system_fingerprint":"fp_fake","choices":[{"index":0,"message":{"role":"assistant","content":\#(text),"refusal":null,"annotations":[]},"logprobs":null,"finish_reason":\#(FakeJSON.quote(answer.finishReason ?? "stop"))}],"usage":\#(usageJSON),"service_tier":"default"}"#
    }

    /// Headers on every OpenAI response.
    static func commonHeaders(callIndex: Int) -> [(name: String, value: String)] {
        [
            ("x-request-id", "req_fake\(callIndex)"), ("openai-processing-ms", "12"), ("openai-version", "2020-10-01"),
            ("x-ratelimit-limit-requests", "10000"), ("x-ratelimit-limit-tokens", "30000000"),
            ("x-ratelimit-remaining-requests", "9999"), ("x-ratelimit-remaining-tokens", "29999000"),
            ("x-ratelimit-reset-requests", "6ms"), ("x-ratelimit-reset-tokens", "2ms"),
        ]
    }

    /// `{"error":{"message","type","param","code"}}` with the status and headers OpenAI sends.
    static func render(_ error: FakeLLMError, model: String) -> FakeLLMRenderedError {
        var status = 500
        var type = "server_error"
        var code: String?
        var param: String?
        var message = "The server had an error while processing your request. Sorry about that!"
        var headers: [(name: String, value: String)] = []
        switch error.preset {
        case .rateLimited:
            status = 429
            type = "requests"
            code = "rate_limit_exceeded"
            message =
                "Rate limit reached for \(model) in organization org-fake on requests per min (RPM): Limit 500, Used 500, Requested 1. Please try again later."
            if let wait = error.retryAfter { headers.append(("retry-after", String(FakeJSON.wholeSecondsRoundedUp(wait)))) }
            let reset = error.resetIn ?? error.retryAfter ?? .seconds(1)
            headers += [
                ("x-ratelimit-limit-requests", "500"), ("x-ratelimit-remaining-requests", "0"),
                ("x-ratelimit-reset-requests", FakeJSON.goDuration(reset)),
                ("x-ratelimit-limit-tokens", "30000"), ("x-ratelimit-remaining-tokens", "29000"),
                ("x-ratelimit-reset-tokens", "120ms"),
            ]
        case .insufficientQuota, .dailyQuota:
            status = 429
            type = "insufficient_quota"
            code = "insufficient_quota"
            message =
                "You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors."
        case .overloaded:
            status = 503
            message = "The engine is currently overloaded, please try again later"
        case .serverError, nil:
            break
        case .unauthorized:
            status = 401
            type = "invalid_request_error"
            code = "invalid_api_key"
            message =
                "Incorrect API key provided: sk-fake***. You can find your API key at https://platform.openai.com/account/api-keys."
        case .modelNotFound:
            status = 404
            type = "invalid_request_error"
            code = "model_not_found"
            message = "The model `\(model)` does not exist or you do not have access to it."
        case .contextTooLong:
            status = 400
            type = "invalid_request_error"
            code = "context_length_exceeded"
            param = "messages"
            message =
                "This model's maximum context length is 128000 tokens. However, your messages resulted in 131072 tokens. Please reduce the length of the messages."
        case .spendLimit:
            status = 400
            type = "invalid_request_error"
            code = "billing_hard_limit_reached"
            message = "Billing hard limit has been reached"
        }
        if error.preset == nil, let explicit = error.status {
            type = explicit >= 500 ? "server_error" : "invalid_request_error"
            message = "Error \(explicit)"
        }
        status = error.status ?? status
        let body =
            #"{"error":{"message":\#(FakeJSON.quote(error.message ?? message)),"type":\#(FakeJSON.quote(error.type ?? type)),"param":\#(FakeJSON.quote(param)),"code":\#(FakeJSON.quote(error.code ?? code))}}"#
        return FakeLLMRenderedError(status: status, headers: headers + error.headers, body: body)
    }
}

/// An error reply in a flavour's words.
struct FakeLLMRenderedError {
    var status: Int
    var headers: [(name: String, value: String)]
    var body: String
    /// The payload of the in-stream form, when it differs from `body` (Anthropic's has no request id).
    var inStreamBody: String?
}
