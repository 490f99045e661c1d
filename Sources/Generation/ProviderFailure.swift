/// A provider call that did not produce a complete answer, classified so that the chain knows
/// whether to retry the same provider, fall back to the next one at once, or fail the call.
public struct ProviderFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// What the chain does about it.
    public enum Disposition: String, Sendable, Equatable {
        /// Transient: retry with backoff, then fall back (429 rate limit, 5xx, 529, timeouts,
        /// resets, a stream cut or an in-stream error before completion).
        case retry
        /// This provider cannot serve the call: fall back without retrying (401/403, unknown
        /// model, exhausted quota, spend limit, context too long).
        case fallback
        /// The request itself is wrong; no provider will take it.
        case fail
    }

    public enum Kind: String, Sendable, Equatable {
        case rateLimited = "rate_limited"
        case overloaded
        case serverError = "server_error"
        case connectTimeout = "connect_timeout"
        case firstTokenTimeout = "first_token_timeout"
        case idleTimeout = "idle_timeout"
        case totalTimeout = "total_timeout"
        case connection
        case streamCut = "stream_cut"
        case inStreamError = "in_stream_error"
        case malformedResponse = "malformed_response"
        case authentication
        case permission
        case modelNotFound = "model_not_found"
        case quotaExhausted = "quota_exhausted"
        case spendLimit = "spend_limit"
        case contextTooLong = "context_too_long"
        case contentBlocked = "content_blocked"
        case invalidRequest = "invalid_request"
        /// The answer held no files (the model answered in prose).
        case noFiles = "no_files"
        /// The answer's files were over the version's limits (size or count), so none was kept.
        case tooLarge = "too_large"
        /// Still cut off after the allowed continuations.
        case truncated
        /// Files that failed validation (after the repair turn, in advanced mode).
        case invalidOutput = "invalid_output"
    }

    /// Whether the failure counts for the provider's breaker. A provider that is down, or whose
    /// answers are broken (no files, still cut off after the continuations, syntax errors), is
    /// failing; a request it cannot serve (too long, refused, blocked, over the limits, or an app
    /// the platform does not build: unresolved packages, a server framework, no entry point) is
    /// not, so one user's request never opens a provider's breaker for everyone.
    public var countsAgainstProvider: Bool {
        if let blamesProvider { return blamesProvider }
        switch kind {
        case .tooLarge, .invalidRequest, .contentBlocked, .contextTooLong: return false
        default: return true
        }
    }

    /// The provider answered, but nothing usable came of it (or the request was refused): the
    /// caller hears `GenerationFailed` with the reason rather than `Unavailable`.
    public var isAnswerOrRequestProblem: Bool {
        switch kind {
        case .noFiles, .tooLarge, .truncated, .invalidOutput, .invalidRequest, .contextTooLong: true
        default: false
        }
    }

    public var kind: Kind
    public var disposition: Disposition
    /// HTTP status, when the failure came with one.
    public var status: Int?
    /// The provider's own message (never contains the key).
    public var message: String
    /// How long the provider asked us to wait (Retry-After, retry-after-ms, Gemini RetryInfo, or
    /// a rate-limit reset header).
    public var retryAfter: Duration?
    /// Tokens the provider had reported before the call failed (Anthropic counts the input at
    /// the start of its stream): what the failed call still costs.
    public var usage: TokenUsage?
    /// Overrides what the kind says about the breaker (`invalidOutput` whose every issue is the
    /// request's fault does not count).
    public var blamesProvider: Bool?

    public init(_ kind: Kind, _ disposition: Disposition, status: Int? = nil, message: String, retryAfter: Duration? = nil) {
        self.kind = kind
        self.disposition = disposition
        self.status = status
        self.message = message
        self.retryAfter = retryAfter
    }

    public var description: String {
        var text = kind.rawValue
        if let status { text += " (HTTP \(status))" }
        if !message.isEmpty { text += ": \(message)" }
        return text
    }
}
