import Foundation

/// Anthropic Messages as the fake speaks it: named SSE events `message_start`,
/// `content_block_start`, `ping`, `content_block_delta`…, `content_block_stop`, `message_delta`
/// (stop reason, cumulative output tokens), `message_stop`; no `[DONE]`.
struct AnthropicFraming: FakeLLMStreamFraming {
    var context: FakeLLMCallContext
    var answer: FakeLLMScript.Answer

    private var id: String { "msg_fake\(context.callIndex)" }
    /// Anthropic's `input_tokens` leaves out what was read from (or written to) the cache.
    private var inputTokens: Int { (answer.usage?.inputTokens ?? context.defaultInputTokens) - cachedTokens }
    private var cachedTokens: Int { answer.usage?.cachedInputTokens ?? 0 }
    private var outputTokens: Int { answer.usage?.outputTokens ?? answer.chunks.count }

    private func event(_ name: String, _ json: String) -> String {
        "event: \(name)\ndata: \(json)\n\n"
    }

    func prologue() -> [String] {
        [
            event(
                "message_start",
                #"{"type":"message_start","message":{"id":"\#(id)","type":"message","role":"assistant","model":\#(FakeJSON.quote(context.model)),"content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":\#(inputTokens),"cache_creation_input_tokens":0,"cache_read_input_tokens":\#(cachedTokens),"output_tokens":1}}}"#
            ),
            event(
                "content_block_start",
                #"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#),
            event("ping", #"{"type": "ping"}"#),
        ]
    }

    func text(_ text: String, index: Int, isLast: Bool) -> String {
        event(
            "content_block_delta",
            #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":\#(FakeJSON.quote(text))}}"#)
    }

    func epilogue(textChunks: Int) -> [String] {
        [
            event("content_block_stop", #"{"type":"content_block_stop","index":0}"#),
            event(
                "message_delta",
                #"{"type":"message_delta","delta":{"stop_reason":\#(FakeJSON.quote(answer.finishReason ?? "end_turn")),"stop_sequence":null},"usage":{"output_tokens":\#(outputTokens)}}"#
            ),
            event("message_stop", #"{"type":"message_stop"}"#),
        ]
    }

    func inStreamError(_ error: FakeLLMError) -> String {
        let rendered = Self.render(error, model: context.model, requestID: "req_fake\(context.callIndex)", now: context.now)
        return event("error", rendered.inStreamBody ?? rendered.body)
    }

    func malformed() -> String {
        "event: content_block_delta\n"
            + #"data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"tru"#
            + "\n\n"
    }

    /// The non-streaming `message` object.
    func message() -> String {
        #"{"id":"\#(id)","type":"message","role":"assistant","model":\#(FakeJSON.quote(context.model)),"content":[{"type":"text","text":\#(FakeJSON.quote(answer.chunks.joined()))}],"stop_reason":\#(FakeJSON.quote(answer.finishReason ?? "end_turn")),"stop_sequence":null,"usage":{"input_tokens":\#(inputTokens),"cache_creation_input_tokens":0,"cache_read_input_tokens":\#(cachedTokens),"output_tokens":\#(outputTokens)}}"#
    }

    static func commonHeaders(callIndex: Int, now: Date) -> [(name: String, value: String)] {
        let reset = FakeJSON.rfc3339(now.addingTimeInterval(60))
        return [
            ("request-id", "req_fake\(callIndex)"), ("anthropic-organization-id", "org-fake"),
            ("anthropic-ratelimit-requests-limit", "4000"), ("anthropic-ratelimit-requests-remaining", "3999"),
            ("anthropic-ratelimit-requests-reset", reset),
            ("anthropic-ratelimit-tokens-limit", "400000"), ("anthropic-ratelimit-tokens-remaining", "399000"),
            ("anthropic-ratelimit-tokens-reset", reset),
        ]
    }

    static func defaultType(forStatus status: Int) -> String {
        switch status {
        case 400: "invalid_request_error"
        case 401: "authentication_error"
        case 402: "billing_error"
        case 403: "permission_error"
        case 404: "not_found_error"
        case 413: "request_too_large"
        case 429: "rate_limit_error"
        case 504: "timeout_error"
        case 529: "overloaded_error"
        default: "api_error"
        }
    }

    /// `{"type":"error","error":{"type","message"},"request_id"}` with Anthropic's status and headers.
    static func render(_ error: FakeLLMError, model: String, requestID: String, now: Date) -> FakeLLMRenderedError {
        var status = 500
        var message = "Internal server error"
        var code: String?
        var headers: [(name: String, value: String)] = []
        switch error.preset {
        case .rateLimited:
            status = 429
            message =
                "This request would exceed the rate limit for your organization (org-fake) of 50 requests per minute. For details, refer to: https://docs.claude.com/en/api/rate-limits. You can see the response headers for current usage. Please reduce the prompt length or the maximum tokens requested, or try again later. You may also contact sales at https://www.anthropic.com/contact-sales to discuss your options for a rate limit increase."
            if let wait = error.retryAfter { headers.append(("retry-after", String(FakeJSON.wholeSecondsRoundedUp(wait)))) }
            let reset = error.resetIn ?? error.retryAfter ?? .seconds(1)
            let resetSeconds = Double(reset.components.seconds) + Double(reset.components.attoseconds) / 1e18
            headers += [
                ("anthropic-ratelimit-requests-limit", "50"), ("anthropic-ratelimit-requests-remaining", "0"),
                ("anthropic-ratelimit-requests-reset", FakeJSON.rfc3339(now.addingTimeInterval(resetSeconds))),
            ]
        case .insufficientQuota:
            status = 400
            message =
                "Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits."
        case .spendLimit, .dailyQuota:
            status = 429
            code = "enforced_spend_limit_reached"
            message = "You have reached your specified API usage limits. You will regain access on 2026-12-01 at 00:00 UTC."
        case .overloaded:
            status = 529
            message = "Overloaded"
        case .serverError, nil:
            break
        case .unauthorized:
            status = 401
            message = "invalid x-api-key"
        case .modelNotFound:
            status = 404
            message = "model: \(model)"
        case .contextTooLong:
            status = 400
            message = "prompt is too long: 215000 tokens > 200000 maximum"
        }
        if error.preset == nil, let explicit = error.status { message = "Error \(explicit)" }
        status = error.status ?? status
        let type = error.type ?? defaultType(forStatus: status)
        let details = (error.code ?? code).map { #","details":{"error_code":\#(FakeJSON.quote($0))}"# } ?? ""
        let inner = #"{"type":\#(FakeJSON.quote(type)),"message":\#(FakeJSON.quote(error.message ?? message))\#(details)}"#
        let body = #"{"type":"error","error":\#(inner),"request_id":"\#(requestID)"}"#
        var rendered = FakeLLMRenderedError(status: status, headers: headers + error.headers, body: body)
        rendered.inStreamBody = #"{"type":"error","error":\#(inner)}"#
        return rendered
    }
}
