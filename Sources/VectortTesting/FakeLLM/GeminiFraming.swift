import Foundation

/// Gemini generateContent as the fake speaks it. With `alt=sse`: `data:` frames separated by
/// CRLF, each a partial `GenerateContentResponse`, the last with `finishReason` and full
/// `usageMetadata`, and no terminator. Without it: one JSON array streamed element by element.
struct GeminiFraming: FakeLLMStreamFraming {
    var context: FakeLLMCallContext
    var answer: FakeLLMScript.Answer
    var sse: Bool

    private var inputTokens: Int { answer.usage?.inputTokens ?? context.defaultInputTokens }
    private var outputTokens: Int { answer.usage?.outputTokens ?? answer.chunks.count }
    /// `cachedContentTokenCount`, part of `promptTokenCount`, only when some were cached.
    private var cachedJSON: String {
        guard let cached = answer.usage?.cachedInputTokens, cached > 0 else { return "" }
        return #""cachedContentTokenCount":\#(cached),"#
    }

    private func response(_ text: String, final: Bool) -> String {
        let finish = final ? #","finishReason":\#(FakeJSON.quote(answer.finishReason ?? "STOP"))"# : ""
        let usage =
            final
            ? #"{"promptTokenCount":\#(inputTokens),"candidatesTokenCount":\#(outputTokens),"totalTokenCount":\#(inputTokens + outputTokens),\#(cachedJSON)"promptTokensDetails":[{"modality":"TEXT","tokenCount":\#(inputTokens)}]}"#
            : #"{"promptTokenCount":\#(inputTokens),"totalTokenCount":\#(inputTokens),"promptTokensDetails":[{"modality":"TEXT","tokenCount":\#(inputTokens)}]}"#
        return
            #"{"candidates":[{"content":{"parts":[{"text":\#(FakeJSON.quote(text))}],"role":"model"}\#(finish),"index":0}],"usageMetadata":\#(usage),"modelVersion":\#(FakeJSON.quote(context.model)),"responseId":"fake\#(context.callIndex)"}"#
    }

    private func frame(_ json: String, first: Bool) -> String {
        sse ? "data: \(json)\r\n\r\n" : (first ? "[" : "\r\n,") + json
    }

    func prologue() -> [String] { [] }

    func text(_ text: String, index: Int, isLast: Bool) -> String {
        frame(response(text, final: isLast), first: index == 0)
    }

    func epilogue(textChunks: Int) -> [String] {
        var events: [String] = []
        if textChunks == 0 { events.append(frame(response("", final: true), first: true)) }
        if !sse { events.append("\r\n]") }
        return events
    }

    func inStreamError(_ error: FakeLLMError) -> String {
        frame(Self.render(error, model: context.model).body, first: false)
    }

    func malformed() -> String {
        sse ? "data: {\"candidates\": [{\"content\": \r\n\r\n" : "\r\n,{\"candidates\": [{"
    }

    /// The non-streaming `GenerateContentResponse`.
    func whole() -> String {
        response(answer.chunks.joined(), final: true)
    }

    static func defaultStatus(forCode code: Int) -> String {
        switch code {
        case 400: "INVALID_ARGUMENT"
        case 401: "UNAUTHENTICATED"
        case 403: "PERMISSION_DENIED"
        case 404: "NOT_FOUND"
        case 409: "ABORTED"
        case 429: "RESOURCE_EXHAUSTED"
        case 499: "CANCELLED"
        case 500: "INTERNAL"
        case 501: "UNIMPLEMENTED"
        case 503: "UNAVAILABLE"
        case 504: "DEADLINE_EXCEEDED"
        default: "UNKNOWN"
        }
    }

    /// google.rpc.Status: `{"error":{"code","message","status","details":[…]}}`; the wait
    /// hint lives in a `RetryInfo` detail, not in a header.
    static func render(_ error: FakeLLMError, model: String) -> FakeLLMRenderedError {
        var code = 500
        var message = "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting"
        var details: [String] = []
        var quotaId: String?
        var retryDelay = error.retryDelay
        let quotaMessage =
            "You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits."
        switch error.preset {
        case .rateLimited:
            code = 429
            message = quotaMessage
            quotaId = "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"
            if retryDelay == nil, let wait = error.retryAfter { retryDelay = FakeJSON.protobufDuration(wait) }
        case .dailyQuota, .insufficientQuota, .spendLimit:
            code = 429
            message = quotaMessage
            quotaId = "GenerateRequestsPerDayPerProjectPerModel-FreeTier"
            // Gemini sends a short RetryInfo even on a per-day quota; retrying does not help.
            if retryDelay == nil { retryDelay = "42s" }
        case .overloaded:
            code = 503
            message = "The model is overloaded. Please try again later."
        case .serverError, nil:
            break
        case .unauthorized:
            code = 400
            message = "API key not valid. Please pass a valid API key."
            details.append(
                #"{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID","domain":"googleapis.com","metadata":{"service":"generativelanguage.googleapis.com"}}"#
            )
            details.append(
                #"{"@type":"type.googleapis.com/google.rpc.LocalizedMessage","locale":"en-US","message":"API key not valid. Please pass a valid API key."}"#
            )
        case .modelNotFound:
            code = 404
            message =
                "models/\(model) is not found for API version v1beta, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods."
        case .contextTooLong:
            code = 400
            message = "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576)."
        }
        if error.preset == nil, let explicit = error.status { message = "Error \(explicit)" }
        code = error.status ?? code
        if let id = error.quotaId ?? quotaId {
            details.append(
                #"{"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[{"quotaMetric":"generativelanguage.googleapis.com/generate_content_free_tier_requests","quotaId":\#(FakeJSON.quote(id)),"quotaDimensions":{"location":"global","model":\#(FakeJSON.quote(model))},"quotaValue":"10"}]}"#
            )
            details.append(
                #"{"@type":"type.googleapis.com/google.rpc.Help","links":[{"description":"Learn more about Gemini API quotas","url":"https://ai.google.dev/gemini-api/docs/rate-limits"}]}"#
            )
        }
        if let retryDelay {
            details.append(#"{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":\#(FakeJSON.quote(retryDelay))}"#)
        }
        let status = error.grpcStatus ?? defaultStatus(forCode: code)
        let detailsJSON = details.isEmpty ? "" : #","details":[\#(details.joined(separator: ","))]"#
        let body =
            #"{"error":{"code":\#(code),"message":\#(FakeJSON.quote(error.message ?? message)),"status":\#(FakeJSON.quote(status))\#(detailsJSON)}}"#
        return FakeLLMRenderedError(status: code, headers: error.headers, body: body)
    }
}
