import Observability
import Protocol
import Synchronization
import VectortCore

/// What one generation reports as it runs: its lifecycle on the event bus
/// (`generation.started|file|completed|failed`) and its figures in the metrics (outcome,
/// duration, time to the first file, retries, fallbacks, every provider call's tokens and spend).
final class GenerationWatch: Sendable {
    let generation: String
    let project: String
    let mode: GenerationMode
    let observer: Observer
    let clock: any VectortClock
    let startedAt: ContinuousClock.Instant
    private let state = Mutex(State())

    private struct State {
        var user: String?
        var sawFile = false
    }

    init(
        generation: String, project: String, mode: GenerationMode, observer: Observer, clock: any VectortClock,
        started: ContinuousClock.Instant
    ) {
        self.generation = generation
        self.project = project
        self.mode = mode
        self.observer = observer
        self.clock = clock
        self.startedAt = started
    }

    /// The start is committed: the hold is taken.
    func started(user: String) {
        state.withLock { $0.user = user }
        observer.events.publish(
            "generation.started",
            [
                "generation": .string(generation), "project": .string(project), "user": .string(user),
                "mode": .string(mode.rawValue),
            ])
    }

    /// An event on its way to the caller.
    func saw(_ event: GenerationEvent) {
        switch event.event {
        case .file:
            let first = state.withLock { state in
                defer { state.sawFile = true }
                return !state.sawFile
            }
            if first { observer.metrics.record(Metric.generationFirstFile, [mode.rawValue], clock.now - startedAt) }
            guard observer.events.hasSubscribers else { return }
            var fields: [String: JSONValue] = ["generation": .string(generation), "path": .string(event.path ?? "")]
            if let bytes = event.bytes { fields["bytes"] = .int(Int64(bytes)) }
            if event.deleted == true { fields["deleted"] = true }
            observer.events.publish("generation.file", fields)
        case .retry:
            observer.metrics.increment(Metric.providerRetries, [event.provider ?? "unknown", event.reason ?? "unknown"])
        case .fallback:
            observer.metrics.increment(Metric.providerFallbacks, [event.provider ?? "unknown", event.reason ?? "unknown"])
        default:
            break
        }
    }

    func completed(_ result: GenerationResult, attempts: [GenerationAttempt]) {
        finish(outcome: "completed", provider: result.provider, attempts: attempts)
        var fields: [String: JSONValue] = [
            "generation": .string(generation), "project": .string(project), "version": .string(result.version),
            "provider": .string(result.provider), "model": .string(result.model),
            "credits_charged": .int(Int64(result.creditsCharged)),
        ]
        if let cost = result.cost { fields["cost"] = Self.value(cost) }
        observer.events.publish("generation.completed", fields)
    }

    func ended(status: GenerationRecord.Status, error: String, message: String, attempts: [GenerationAttempt], cost: Cost?) {
        finish(outcome: status.rawValue, provider: "none", attempts: attempts)
        var fields: [String: JSONValue] = [
            "generation": .string(generation), "project": .string(project), "status": .string(status.rawValue),
            "error": .string(error), "message": .string(String(message.prefix(500))),
        ]
        if let cost { fields["cost"] = Self.value(cost) }
        observer.events.publish("generation.failed", fields)
    }

    private func finish(outcome: String, provider: String, attempts: [GenerationAttempt]) {
        let metrics = observer.metrics
        guard metrics.enabled else { return }
        metrics.increment(Metric.generations, [mode.rawValue, provider, outcome])
        metrics.record(Metric.generationDuration, [mode.rawValue, outcome], clock.now - startedAt)
        for attempt in attempts {
            metrics.increment(Metric.providerAttempts, [attempt.provider, attempt.purpose, attempt.outcome])
            if let usage = attempt.usage {
                let labels = [attempt.provider, attempt.model]
                metrics.increment(Metric.providerTokens, labels + ["input"], by: usage.inputTokens)
                metrics.increment(Metric.providerTokens, labels + ["output"], by: usage.outputTokens)
                if let cached = usage.cachedInputTokens, cached > 0 {
                    metrics.increment(Metric.providerTokens, labels + ["cached_input"], by: cached)
                }
            }
            if let cost = attempt.cost, cost.amountMicros > 0 {
                metrics.add(Metric.providerSpend, [attempt.provider, attempt.model, cost.currency], Double(cost.amountMicros) / 1e6)
            }
        }
    }

    static func value(_ cost: Cost) -> JSONValue {
        .object(["amount_micros": .int(cost.amountMicros), "currency": .string(cost.currency)])
    }
}
