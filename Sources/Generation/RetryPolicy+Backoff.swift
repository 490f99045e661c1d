/// What to do after a failure that retrying might fix.
public enum RetryDecision: Sendable, Equatable {
    /// Wait this long, then call the same provider again.
    case retry(after: Duration)
    /// Stop retrying this provider and fall back to the next one.
    case giveUp(GiveUpReason)
}

/// Why a provider is not retried any more.
public enum GiveUpReason: Sendable, Equatable, CustomStringConvertible {
    /// Every retry the policy allows was made.
    case retriesExhausted(maxRetries: Int)
    /// The provider asked for a longer wait than one backoff may last: another provider is
    /// likely to answer sooner than this one recovers (Portkey fails fast the same way).
    case hintAboveCap(hint: Duration, cap: Duration)
    /// The wait would use up the time the call has left.
    case deadline(wait: Duration, remaining: Duration)

    public var description: String {
        switch self {
        case .retriesExhausted(let maxRetries):
            "no retries left after \(maxRetries)"
        case .hintAboveCap(let hint, let cap):
            "the provider asks to wait \(hint), longer than the \(cap) backoff cap"
        case .deadline(let wait, let remaining):
            "a wait of \(wait) would reach the call's deadline (\(remaining) left)"
        }
    }
}

extension RetryPolicy {
    /// The longest backoff before retry `n` (0-based): `min(cap, base · 2ⁿ)`.
    public func backoffCeiling(beforeRetry n: Int) -> Duration {
        let cap = max(cap, .zero)
        var ceiling = max(base, .zero)
        var doublings = max(n, 0)
        while doublings > 0, ceiling > .zero, ceiling < cap {
            ceiling *= 2
            doublings -= 1
        }
        return min(ceiling, cap)
    }

    /// The backoff before retry `n` with full jitter: uniform in `0 ... backoffCeiling(n)`.
    /// `random` returns a uniform value within the range it is given (`Double.random(in:)`).
    public func backoff(beforeRetry n: Int, random: (ClosedRange<Double>) -> Double) -> Duration {
        jitter(upTo: backoffCeiling(beforeRetry: n), random: random)
    }

    /// Whether and when to make retry `n` (0-based) after a retryable failure.
    ///
    /// - The provider's `hint` (Retry-After and the like) is a minimum wait. A hint above `cap`
    ///   gives up at once so the chain falls back instead of idling.
    /// - The jitter is drawn within `remaining`, the time the call has left to start another
    ///   attempt (callers subtract whatever an attempt needs at least); when even the hint does
    ///   not fit, or no time is left, it gives up.
    public func decide(
        beforeRetry n: Int, hint: Duration?, remaining: Duration, random: (ClosedRange<Double>) -> Double
    ) -> RetryDecision {
        guard n < maxRetries else { return .giveUp(.retriesExhausted(maxRetries: maxRetries)) }
        let hinted = max(hint ?? .zero, .zero)
        guard hinted <= cap else { return .giveUp(.hintAboveCap(hint: hinted, cap: cap)) }
        let jittered = jitter(upTo: min(backoffCeiling(beforeRetry: n), remaining), random: random)
        let wait = max(jittered, hinted)
        guard wait < remaining else { return .giveUp(.deadline(wait: wait, remaining: remaining)) }
        return .retry(after: wait)
    }

    private func jitter(upTo ceiling: Duration, random: (ClosedRange<Double>) -> Double) -> Duration {
        guard ceiling > .zero else { return .zero }
        let fraction = min(max(random(0...1), 0), 1)
        return min(ceiling * fraction, ceiling)
    }
}
