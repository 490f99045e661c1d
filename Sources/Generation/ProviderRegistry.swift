public import Foundation
public import Protocol
public import VectortCore

/// The configured providers with their breakers and recent outcomes, shared by every
/// generation. Reconfiguring (on reload) keeps the breaker and statistics of a provider whose
/// identity (kind, model, base URL) did not change.
public actor ProviderRegistry {
    /// A breaker state change, for the journal.
    public struct TransitionEvent: Sendable {
        public var provider: String
        public var transition: CircuitBreaker.Transition
        public var wallUntil: Date?
    }

    struct Entry {
        var settings: ProviderSettings
        var provider: any LLMProvider
        var breaker: CircuitBreaker
        var stats: ProviderStats
    }

    private var entries: [String: Entry] = [:]
    private var order: [String] = []
    public private(set) var chain: [String] = []
    private let clock: any VectortClock
    private let onTransition: @Sendable (TransitionEvent) -> Void

    /// `clock` times the breakers (its monotonic time) and dates their reopening for the
    /// journal (its wall time).
    public init(
        providers: [(ProviderSettings, any LLMProvider)], chain: [String], clock: any VectortClock = SystemClock(),
        onTransition: @escaping @Sendable (TransitionEvent) -> Void = { _ in }
    ) {
        self.clock = clock
        self.onTransition = onTransition
        var entries: [String: Entry] = [:]
        var order: [String] = []
        for (settings, provider) in providers {
            entries[settings.name] = Entry(
                settings: settings, provider: provider, breaker: CircuitBreaker(policy: settings.breaker),
                stats: ProviderStats())
            order.append(settings.name)
        }
        self.entries = entries
        self.order = order
        self.chain = chain.filter { entries[$0] != nil }
    }

    /// Replaces the providers and the chain (configuration reload).
    public func configure(providers: [(ProviderSettings, any LLMProvider)], chain: [String]) {
        var next: [String: Entry] = [:]
        var nextOrder: [String] = []
        for (settings, provider) in providers {
            var entry = Entry(
                settings: settings, provider: provider, breaker: CircuitBreaker(policy: settings.breaker),
                stats: ProviderStats())
            if let old = entries[settings.name], old.settings.kind == settings.kind, old.settings.model == settings.model,
                old.settings.baseURL == settings.baseURL
            {
                entry.stats = old.stats
                if old.settings.breaker == settings.breaker { entry.breaker = old.breaker }
            }
            next[settings.name] = entry
            nextOrder.append(settings.name)
        }
        entries = next
        order = nextOrder
        self.chain = chain.filter { next[$0] != nil }
    }

    /// Whether `name` is a configured provider (it has its settings and, for a hosted one, its key).
    public func isConfigured(_ name: String) -> Bool {
        provider(name) != nil
    }

    func provider(_ name: String) -> (any LLMProvider, ProviderSettings)? {
        entries[name].map { ($0.provider, $0.settings) }
    }

    func admit(_ name: String) -> CircuitBreaker.Admission {
        guard var entry = entries[name] else { return .rejected(retryAt: nil) }
        let (admission, transition) = entry.breaker.admit(now: clock.now)
        entries[name] = entry
        report(name, transition)
        return admission
    }

    func recordSuccess(_ name: String, _ admission: CircuitBreaker.Admission, latency: Duration) {
        guard var entry = entries[name] else { return }
        let transition = entry.breaker.recordSuccess(admission, now: clock.now)
        entry.stats.recordSuccess(latency: latency, at: clock.date)
        entries[name] = entry
        report(name, transition)
    }

    func recordFailure(_ name: String, _ admission: CircuitBreaker.Admission, _ failure: ProviderFailure) {
        guard var entry = entries[name] else { return }
        let transition: CircuitBreaker.Transition?
        if failure.countsAgainstProvider {
            // An exhausted quota or spend limit will not heal in seconds: keep the provider out
            // for the longest cool-down instead of probing it every few seconds.
            let hint = failure.kind == .quotaExhausted || failure.kind == .spendLimit
                ? entry.settings.breaker.maxCooldown : failure.retryAfter
            transition = entry.breaker.recordFailure(admission, now: clock.now, hint: hint)
        } else {
            // The provider answered; the answer was unusable. Not a health signal.
            transition = entry.breaker.recordSuccess(admission, now: clock.now)
        }
        entry.stats.recordFailure(String(describing: failure), at: clock.date)
        entries[name] = entry
        report(name, transition)
    }

    func recordCancelled(_ name: String, _ admission: CircuitBreaker.Admission) {
        guard var entry = entries[name] else { return }
        entry.breaker.recordCancelled(admission, now: clock.now)
        entries[name] = entry
    }

    /// When the soonest open breaker of the chain lets a call through again, in seconds.
    func soonestRetry(among names: [String]) -> Double? {
        let current = clock.now
        let waits = names.compactMap { name -> Double? in
            guard case .open(let until) = entries[name]?.breaker.state else { return nil }
            return max(0, (until - current).seconds)
        }
        return waits.min()
    }

    /// `Providers.List`: every configured provider, chain members first in chain order.
    public func list() -> ProviderList {
        let names = chain + order.filter { !chain.contains($0) }
        return ProviderList(providers: names.compactMap(info), chain: chain)
    }

    /// `Providers.Reset`: closes the breaker and clears its window.
    public func reset(_ name: String) throws -> ProviderInfo {
        guard var entry = entries[name] else { throw EngineError.notFound("provider", name) }
        let transition = entry.breaker.reset()
        entries[name] = entry
        report(name, transition)
        return info(name)!
    }

    private func info(_ name: String) -> ProviderInfo? {
        guard let entry = entries[name] else { return nil }
        let current = clock.now
        var openUntil: String?
        if case .open(let until) = entry.breaker.state {
            openUntil = Timestamps.string(clock.date.addingTimeInterval(max(0, (until - current).seconds)))
        }
        return ProviderInfo(
            name: name, kind: entry.settings.kind.rawValue, model: entry.settings.model,
            state: entry.breaker.stateName, chainPosition: chain.firstIndex(of: name).map { $0 + 1 },
            failures: entry.breaker.failuresInWindow(now: current), lastError: entry.stats.lastError,
            lastErrorAt: entry.stats.lastErrorAt.map(Timestamps.string), openUntil: openUntil,
            latencyMsP50: entry.stats.latencyP50Milliseconds, successRate: entry.stats.successRate,
            calls: entry.stats.totalCalls)
    }

    private func report(_ name: String, _ transition: CircuitBreaker.Transition?) {
        guard let transition else { return }
        var wallUntil: Date?
        switch transition {
        case .opened(let until, _), .reopened(let until), .extended(let until):
            wallUntil = clock.date.addingTimeInterval(max(0, (until - clock.now).seconds))
        default:
            break
        }
        onTransition(TransitionEvent(provider: name, transition: transition, wallUntil: wallUntil))
    }
}
