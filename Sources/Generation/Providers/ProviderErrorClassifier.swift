import AsyncHTTPClient
public import Foundation
public import NIOHTTP1
import Protocol

/// Maps what went wrong with a provider call (an HTTP error status and body, an error inside the
/// stream, a transport failure) to a `ProviderFailure` whose disposition tells the chain to
/// retry, fall back, or fail the call.
///
/// | Signal | Kind | Disposition |
/// |---|---|---|
/// | 429 rate limit (OpenAI `rate_limit_exceeded`, Anthropic `rate_limit_error`, Gemini per-minute `RESOURCE_EXHAUSTED`) | rateLimited | retry |
/// | 429/402 `insufficient_quota`, `credit_balance_exhausted`, Anthropic "credit balance is too low" (400) | quotaExhausted | fallback |
/// | Gemini 429 with a per-day `QuotaFailure` (whatever its `RetryInfo`) | quotaExhausted | fallback |
/// | Anthropic `enforced_spend_limit_reached`, OpenAI `billing_hard_limit_reached` | spendLimit | fallback |
/// | 400 `context_length_exceeded` / "prompt is too long" / token count exceeds maximum; 413 | contextTooLong | fallback |
/// | 401; Gemini 400 `API_KEY_INVALID` | authentication | fallback |
/// | 403; Gemini 400 `FAILED_PRECONDITION` (region, billing) | permission | fallback |
/// | 404 | modelNotFound | fallback |
/// | 408, 409, 500, 502, 504, other 5xx | serverError | retry |
/// | 503, 529, `overloaded_error` | overloaded | retry |
/// | other 4xx | invalidRequest | fail |
/// | `x-should-retry: false` turns a retry into a fallback; `true` turns a fail into a retry | | |
public enum ProviderErrorClassifier {
    /// An HTTP response that was not 200.
    public static func classify(
        status: Int, headers: HTTPHeaders, body: [UInt8], provider: ProviderKind, secret: String? = nil,
        now: Date = Date()
    ) -> ProviderFailure {
        let envelope = ProviderErrorEnvelope(body: body)
        let (kind, disposition) = verdict(status: status, envelope: envelope)
        var failure = ProviderFailure(
            kind, disposition, status: status, message: redact(envelope.summary, secret: secret),
            retryAfter: RetryHints.retryAfter(
                status: status, headers: headers, retryDelay: envelope.retryDelay, now: now))
        switch RetryHints.shouldRetry(headers) {
        case false? where failure.disposition == .retry: failure.disposition = .fallback
        case true? where failure.disposition == .fail: failure.disposition = .retry
        default: break
        }
        return failure
    }

    /// An error object inside a stream that had already answered 200 (OpenAI `data:
    /// {"error":…}`, Anthropic `event: error`, a Gemini error frame). The kind is always
    /// `inStreamError`; the disposition is what the same error as an HTTP status would get, so
    /// Anthropic's `overloaded_error` is retried and an in-stream `insufficient_quota` falls back.
    public static func classifyInStream(_ payload: String, provider: ProviderKind, secret: String? = nil)
        -> ProviderFailure
    {
        let envelope = ProviderErrorEnvelope(body: Array(payload.utf8))
        let status = envelope.impliedStatus
        let (_, disposition) = verdict(status: status, envelope: envelope)
        return ProviderFailure(
            .inStreamError, disposition, message: redact(envelope.summary, secret: secret),
            retryAfter: envelope.retryDelay.flatMap(RetryHints.protobufDuration))
    }

    /// A failure below HTTP: no connection, a reset, a close in the middle of the body. Once the
    /// response head has arrived, any of these is a stream cut.
    public static func classifyTransport(_ error: any Error, responseStarted: Bool, secret: String? = nil)
        -> ProviderFailure
    {
        if let failure = error as? ProviderFailure { return failure }
        let description = redact(String(describing: error), secret: secret)
        if let client = error as? HTTPClientError {
            if client == .connectTimeout || client == .tlsHandshakeTimeout {
                return ProviderFailure(.connectTimeout, .retry, message: description)
            }
            if client == .deadlineExceeded {
                return ProviderFailure(.totalTimeout, .retry, message: description)
            }
        }
        if responseStarted {
            return ProviderFailure(.streamCut, .retry, message: "the stream broke off: \(description)")
        }
        return ProviderFailure(.connection, .retry, message: description)
    }

    /// The key must never reach a message, a description or a log.
    static func redact(_ text: String, secret: String?) -> String {
        guard let secret, secret.count >= 4 else { return text }
        return text.replacingOccurrences(of: secret, with: "[redacted]")
    }

    static func verdict(status: Int, envelope: ProviderErrorEnvelope) -> (ProviderFailure.Kind, ProviderFailure.Disposition) {
        if envelope.saysQuotaExhausted { return (.quotaExhausted, .fallback) }
        if envelope.saysSpendLimit { return (.spendLimit, .fallback) }
        switch status {
        case 400, 413, 422:
            if envelope.saysContextTooLong || status == 413 { return (.contextTooLong, .fallback) }
            if envelope.saysKeyInvalid { return (.authentication, .fallback) }
            if envelope.grpcStatus == "FAILED_PRECONDITION" { return (.permission, .fallback) }
            return (.invalidRequest, .fail)
        case 401:
            return (.authentication, .fallback)
        case 402:
            return (.quotaExhausted, .fallback)
        case 403:
            return (.permission, .fallback)
        case 404:
            return (.modelNotFound, .fallback)
        case 429:
            return (.rateLimited, .retry)
        case 503, 529:
            return (.overloaded, .retry)
        case 408, 409, 500...599:
            return envelope.type == "overloaded_error" ? (.overloaded, .retry) : (.serverError, .retry)
        case 400..<500:
            return (.invalidRequest, .fail)
        default:
            return (.serverError, .retry)
        }
    }
}

/// The fields of any provider's error body that classification reads: OpenAI
/// `{"error":{message,type,param,code}}`, Anthropic `{"type":"error","error":{type,message,details}}`,
/// Gemini google.rpc.Status (also inside an array), and what local servers send instead
/// (`{"error":"…"}`, `{"detail":…}`, `{"object":"error",…}`, plain text).
struct ProviderErrorEnvelope {
    var type: String?
    var code: String?
    var numericCode: Int?
    var grpcStatus: String?
    var message: String?
    /// Anthropic `error.details.error_code`.
    var detailCode: String?
    var retryDelay: String?
    var quotaIDs: [String] = []
    var reasons: [String] = []
    /// The body is JSON shaped like an error (not, say, a whole answer).
    var isErrorObject = false

    init(body: [UInt8]) {
        let json = try? JSONDecoder().decode(JSONValue.self, from: Data(body))
        var root = json
        if let first = json?.arrayValue?.first { root = first }
        guard let root, root.objectValue != nil else {
            let text = String(decoding: body.prefix(600), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            message = text.isEmpty ? nil : text
            return
        }
        isErrorObject =
            root["error"] != nil || root["detail"] != nil || root["type"] == "error" || root["object"] == "error"
        let error = root["error"]?.objectValue != nil ? root["error"]! : root
        if let text = root["error"]?.stringValue { message = text }
        type = error["type"]?.stringValue
        if let code = error["code"] {
            self.code = code.stringValue ?? code.intValue.map { String($0) }
            numericCode = code.intValue.map { Int($0) }
        }
        grpcStatus = error["status"]?.stringValue
        message = message ?? error["message"]?.stringValue ?? Self.detailText(root["detail"])
        detailCode = error["details"]?["error_code"]?.stringValue
        for detail in error["details"]?.arrayValue ?? [] {
            let kind = detail["@type"]?.stringValue ?? ""
            if kind.hasSuffix("google.rpc.RetryInfo") { retryDelay = detail["retryDelay"]?.stringValue }
            if kind.hasSuffix("google.rpc.QuotaFailure") {
                quotaIDs += (detail["violations"]?.arrayValue ?? []).compactMap { $0["quotaId"]?.stringValue }
            }
            if let reason = detail["reason"]?.stringValue { reasons.append(reason) }
        }
    }

    private static func detailText(_ detail: JSONValue?) -> String? {
        if let text = detail?.stringValue { return text }
        return detail?.arrayValue?.compactMap { $0["msg"]?.stringValue }.joined(separator: "; ")
    }

    private var lowerMessage: String { message?.lowercased() ?? "" }

    private func hasCode(_ values: String...) -> Bool {
        values.contains { $0 == code || $0 == type || $0 == detailCode }
    }

    var saysQuotaExhausted: Bool {
        hasCode("insufficient_quota", "credit_balance_exhausted")
            || lowerMessage.contains("credit balance is too low")
            || quotaIDs.contains { $0.contains("PerDay") }
    }

    var saysSpendLimit: Bool {
        hasCode("enforced_spend_limit_reached", "billing_hard_limit_reached")
    }

    var saysContextTooLong: Bool {
        if hasCode("context_length_exceeded", "request_too_large", "string_above_max_length") { return true }
        let text = lowerMessage
        return [
            "prompt is too long", "maximum context length", "context length", "context window",
            "exceeds the maximum number of tokens", "too many tokens",
        ].contains { text.contains($0) }
    }

    var saysKeyInvalid: Bool {
        reasons.contains("API_KEY_INVALID") || hasCode("invalid_api_key") || lowerMessage.contains("api key not valid")
    }

    /// For an error object without an HTTP status (in a stream): the status it stands for.
    var impliedStatus: Int {
        if let numericCode, (400...599).contains(numericCode) { return numericCode }
        switch type ?? code ?? "" {
        case "invalid_request_error": return 400
        case "authentication_error": return 401
        case "permission_error": return 403
        case "not_found_error": return 404
        case "request_too_large": return 413
        case "rate_limit_error", "rate_limit_exceeded", "requests", "tokens", "insufficient_quota": return 429
        case "overloaded_error": return 529
        default: return 500
        }
    }

    /// "type: message", short enough for a log line.
    var summary: String {
        let label = type ?? grpcStatus ?? code
        var text = [label, message].compactMap { $0 }.joined(separator: ": ")
        if text.count > 500 { text = String(text.prefix(500)) + "…" }
        return text
    }
}
