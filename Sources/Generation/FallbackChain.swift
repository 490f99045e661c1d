public import VectortCore

/// Runs one step of a generation through the providers of the chain: each provider is tried
/// with retries (backoff with full jitter, honouring the provider's wait hints, never past the
/// deadline), skipped while its breaker is open, and given up for the next one on a failure
/// that retrying cannot fix.
public struct FallbackChain: Sendable {
    /// What the chain does, for the caller's event stream.
    public enum Event: Sendable {
        case attempt(provider: String, model: String, attempt: Int)
        case retry(provider: String, failure: ProviderFailure, delay: Duration)
        /// `to` is the next provider, if any.
        case fallback(provider: String, to: String?, reason: String, message: String)
        case skipped(provider: String, model: String)
    }

    /// Every provider failed or was skipped.
    public struct Exhausted: Error, Sendable {
        /// The last real failure, if any provider was called.
        public var lastFailure: ProviderFailure?
        /// When an open breaker lets calls through again.
        public var retryAfterSeconds: Double?
        /// No provider is configured at all.
        public var emptyChain = false
    }

    /// The call ran out of time between attempts.
    public struct DeadlineReached: Error, Sendable {}

    public let registry: ProviderRegistry
    let clock: any VectortClock
    let random: @Sendable (ClosedRange<Double>) -> Double

    /// `clock` measures attempts and waits out the backoff between them.
    public init(
        registry: ProviderRegistry, clock: any VectortClock = SystemClock(),
        random: @escaping @Sendable (ClosedRange<Double>) -> Double = { Double.random(in: $0) }
    ) {
        self.registry = registry
        self.clock = clock
        self.random = random
    }

    /// Runs `body` against the providers named (default: the configured chain) until one
    /// returns. `body` makes the provider calls of one attempt and throws `ProviderFailure`.
    public func run<T: Sendable>(
        providers requested: [String]? = nil, deadline: ContinuousClock.Instant,
        observe: @Sendable (Event) async throws -> Void,
        body: @Sendable (any LLMProvider, ProviderSettings) async throws -> T
    ) async throws -> (value: T, provider: String) {
        let names: [String]
        if let requested { names = requested } else { names = await registry.chain }
        guard !names.isEmpty else { throw Exhausted(lastFailure: nil, retryAfterSeconds: nil, emptyChain: true) }
        var lastFailure: ProviderFailure?
        for (index, name) in names.enumerated() {
            guard let (provider, settings) = await registry.provider(name) else { continue }
            let next = index + 1 < names.count ? names[index + 1] : nil
            var retries = 0
            attempts: while true {
                try Task.checkCancellation()
                guard clock.now < deadline else { throw DeadlineReached() }
                let admission = await registry.admit(name)
                if case .rejected = admission {
                    try await observe(.skipped(provider: name, model: settings.model))
                    try await observe(
                        .fallback(provider: name, to: next, reason: "breaker_open", message: "circuit breaker is open"))
                    break attempts
                }
                try await observe(.attempt(provider: name, model: settings.model, attempt: retries + 1))
                let started = clock.now
                do {
                    let value = try await body(provider, settings)
                    await registry.recordSuccess(name, admission, latency: clock.now - started)
                    return (value, name)
                } catch let failure as ProviderFailure where !Task.isCancelled {
                    await registry.recordFailure(name, admission, failure)
                    lastFailure = failure
                    switch failure.disposition {
                    case .fail:
                        throw failure
                    case .fallback:
                        try await observe(
                            .fallback(provider: name, to: next, reason: failure.kind.rawValue, message: failure.message))
                        break attempts
                    case .retry:
                        let decision = settings.retry.decide(
                            beforeRetry: retries, hint: failure.retryAfter, remaining: deadline - clock.now, random: random)
                        switch decision {
                        case .retry(let delay):
                            try await observe(.retry(provider: name, failure: failure, delay: delay))
                            try await clock.sleep(for: delay)
                            retries += 1
                        case .giveUp(let reason):
                            try await observe(.fallback(provider: name, to: next, reason: failure.kind.rawValue, message: reason.description))
                            break attempts
                        }
                    }
                } catch {
                    await registry.recordCancelled(name, admission)
                    throw error
                }
            }
        }
        throw Exhausted(lastFailure: lastFailure, retryAfterSeconds: await registry.soonestRetry(among: names))
    }
}
