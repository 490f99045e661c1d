/// Per-provider timeouts. The call's own deadline (generation.deadline_seconds) bounds them all.
public struct ProviderTimeouts: Sendable, Equatable {
    /// TCP (and TLS) connection establishment.
    public var connect: Duration
    /// From sending the request to the first text token.
    public var firstToken: Duration
    /// Longest silence between two chunks once the answer streams.
    public var idle: Duration
    /// One attempt from start to finish.
    public var total: Duration

    public init(
        connect: Duration = .seconds(10), firstToken: Duration = .seconds(60), idle: Duration = .seconds(30),
        total: Duration = .seconds(180)
    ) {
        self.connect = connect
        self.firstToken = firstToken
        self.idle = idle
        self.total = total
    }
}

/// Everything the engine knows about one configured provider entry.
public struct ProviderSettings: Sendable, Equatable {
    public var name: String
    public var kind: ProviderKind
    public var model: String
    /// For openai: ".../v1"; anthropic: the host root; gemini: the host root; template: unused.
    public var baseURL: String
    /// The API key, from credentials; nil for keyless local servers and the template provider.
    public var apiKey: String?
    public var timeouts: ProviderTimeouts
    public var retry: RetryPolicy
    public var breaker: BreakerPolicy
    /// What its tokens cost (`providers.<name>.price`); nil: spend is not recorded.
    public var price: TokenPrice?

    public init(
        name: String, kind: ProviderKind, model: String, baseURL: String, apiKey: String? = nil,
        timeouts: ProviderTimeouts = ProviderTimeouts(), retry: RetryPolicy = RetryPolicy(),
        breaker: BreakerPolicy = BreakerPolicy(), price: TokenPrice? = nil
    ) {
        self.price = price
        self.name = name
        self.kind = kind
        self.model = model
        self.baseURL = baseURL
        self.apiKey = apiKey
        self.timeouts = timeouts
        self.retry = retry
        self.breaker = breaker
    }
}

/// Retries of one provider within a call: exponential backoff with full jitter.
public struct RetryPolicy: Sendable, Equatable {
    /// Retries after the first attempt (so `max + 1` attempts at most).
    public var maxRetries: Int
    /// Backoff of the first retry before jitter; doubles per retry.
    public var base: Duration
    /// Ceiling of one backoff (and of a provider's wait hint we are willing to honour).
    public var cap: Duration

    public init(maxRetries: Int = 3, base: Duration = .seconds(1), cap: Duration = .seconds(8)) {
        self.maxRetries = maxRetries
        self.base = base
        self.cap = cap
    }
}

/// Thresholds of a provider's circuit breaker.
public struct BreakerPolicy: Sendable, Equatable {
    /// Failures within `window` that open the breaker.
    public var failures: Int
    public var window: Duration
    /// Also open when at least `minimumCalls` calls in the window failed at this rate (0...1).
    public var failureRate: Double
    public var minimumCalls: Int
    /// First cool-down; each failed probe doubles it, up to `maxCooldown`.
    public var cooldown: Duration
    public var maxCooldown: Duration
    /// Calls let through while HALF_OPEN.
    public var probes: Int

    public init(
        failures: Int = 5, window: Duration = .seconds(60), failureRate: Double = 0.5, minimumCalls: Int = 10,
        cooldown: Duration = .seconds(30), maxCooldown: Duration = .seconds(600), probes: Int = 1
    ) {
        self.failures = failures
        self.window = window
        self.failureRate = failureRate
        self.minimumCalls = minimumCalls
        self.cooldown = cooldown
        self.maxCooldown = maxCooldown
        self.probes = probes
    }
}
