/// Every metric vectortd exports. Names and labels are contract: dashboards depend on them, and
/// docs/operations.md lists them. Label values come from bounded sets only.
public enum Metric {
    private static let fast: [Double] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
    private static let slow: [Double] = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 90, 120, 300]
    private static let deploys: [Double] = [1, 5, 10, 30, 60, 120, 300, 600, 1200, 3600]

    // Accounts
    public static let registrations = MetricSpec(
        "vectortd_registrations_total", .counter, "Users created, by how they signed up.", labels: ["via"])

    // Generations
    public static let generations = MetricSpec(
        "vectortd_generations_total", .counter,
        "Generations that ended, by mode, the provider that answered (none when none did) and outcome.",
        labels: ["mode", "provider", "outcome"])
    public static let generationsRunning = MetricSpec(
        "vectortd_generations_running", .gauge, "Generations running on this node now.")
    public static let generationDuration = MetricSpec(
        "vectortd_generation_duration_seconds", .seconds(slow), "Time from the start of a generation to its end.",
        labels: ["mode", "outcome"])
    public static let generationFirstFile = MetricSpec(
        "vectortd_generation_first_file_seconds", .seconds(slow), "Time from the start of a generation to its first file.",
        labels: ["mode"])

    // Providers
    public static let providerAttempts = MetricSpec(
        "vectortd_provider_attempts_total", .counter, "Provider calls, by provider, purpose and outcome.",
        labels: ["provider", "purpose", "outcome"])
    public static let providerRetries = MetricSpec(
        "vectortd_provider_retries_total", .counter, "Provider calls retried, by provider and failure kind.",
        labels: ["provider", "reason"])
    public static let providerFallbacks = MetricSpec(
        "vectortd_provider_fallbacks_total", .counter, "Providers given up for the next in the chain, by reason.",
        labels: ["provider", "reason"])
    public static let providerBreakerState = MetricSpec(
        "vectortd_provider_breaker_state", .gauge, "Circuit breaker state: 0 closed, 1 half open, 2 open.",
        labels: ["provider"])
    public static let providerBreakerTransitions = MetricSpec(
        "vectortd_provider_breaker_transitions_total", .counter, "Circuit breaker state changes, by the state entered.",
        labels: ["provider", "state"])
    public static let providerTokens = MetricSpec(
        "vectortd_provider_tokens_total", .counter,
        "Tokens the providers reported, by kind (input includes cached_input).", labels: ["provider", "model", "kind"])
    public static let providerSpend = MetricSpec(
        "vectortd_provider_spend_total", .counter, "What the provider calls cost at the configured prices, in currency units.",
        labels: ["provider", "model", "currency"])

    // Credits and payments
    public static let credits = MetricSpec(
        "vectortd_credits_total", .counter,
        "Credits moved, by operation (granted, held, released, spent, reversed, expired) and bucket.",
        labels: ["operation", "bucket"])
    public static let checkoutCreated = MetricSpec(
        "vectortd_checkout_sessions_created_total", .counter, "Checkout sessions created.", labels: ["package"])
    public static let checkoutPaid = MetricSpec(
        "vectortd_checkout_sessions_paid_total", .counter, "Checkout sessions paid (credits granted).", labels: ["package"])
    public static let webhookEvents = MetricSpec(
        "vectortd_webhook_events_total", .counter, "Stripe webhook deliveries, by event type and outcome.",
        labels: ["type", "outcome"])

    // Deployments and builds
    public static let deployments = MetricSpec(
        "vectortd_deployments_total", .counter, "Deploy jobs that ended, by platform and outcome.",
        labels: ["platform", "outcome"])
    public static let deploymentTimeToLive = MetricSpec(
        "vectortd_deployment_time_to_live_seconds", .seconds(deploys), "Time from a deploy job's start to live.",
        labels: ["platform"])
    public static let builds = MetricSpec(
        "vectortd_builds_total", .counter, "esbuild builds of versions, by outcome.", labels: ["outcome"])
    public static let buildDuration = MetricSpec(
        "vectortd_build_duration_seconds", .seconds(fast), "Time to build one version.", labels: ["outcome"])

    // Interfaces
    public static let httpRequests = MetricSpec(
        "vectortd_http_requests_total", .counter, "Web API requests, by route template, method and status.",
        labels: ["route", "method", "status"])
    public static let httpDuration = MetricSpec(
        "vectortd_http_request_duration_seconds", .seconds(fast), "Web API response times, by route template and method.",
        labels: ["route", "method"])
    public static let controlCalls = MetricSpec(
        "vectortd_control_calls_total", .counter, "Control socket calls, by method and error (none on success).",
        labels: ["method", "error"])

    // Ledger writer
    public static let ledgerBatchSize = MetricSpec(
        "vectortd_ledger_batch_size", .values([1, 2, 4, 8, 16, 32, 64, 128, 256, 512]),
        "Write requests committed per transaction by the group-commit writer.")
    public static let ledgerCommit = MetricSpec(
        "vectortd_ledger_commit_seconds", .seconds(fast), "Time to run and commit one group-commit transaction.")

    // Events
    public static let eventSubscribers = MetricSpec(
        "vectortd_event_subscribers", .gauge, "Events.Subscribe streams open now.")
    public static let eventsDropped = MetricSpec(
        "vectortd_events_dropped_total", .counter, "Domain events a slow subscriber did not get (it was told lagged).")

    public static let all: [MetricSpec] = [
        registrations, generations, generationsRunning, generationDuration, generationFirstFile, providerAttempts,
        providerRetries, providerFallbacks, providerBreakerState, providerBreakerTransitions, providerTokens,
        providerSpend, credits, checkoutCreated, checkoutPaid, webhookEvents, deployments, deploymentTimeToLive,
        builds, buildDuration, httpRequests, httpDuration, controlCalls, ledgerBatchSize, ledgerCommit,
        eventSubscribers, eventsDropped,
    ]

    static let byName: [String: MetricSpec] = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })
}
