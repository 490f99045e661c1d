/// A provider's circuit breaker as a value: events go in (`admit`, an outcome, `reset`) and the
/// state changes worth a journal entry come out. It has no clock of its own; every event carries
/// the caller's `now`, so tests drive time by hand.
///
/// - CLOSED → OPEN when `policy.failures` failures fall within `policy.window`, or when at least
///   `policy.minimumCalls` calls ended in the window and at least `policy.failureRate` of them
///   failed.
/// - OPEN rejects every call until its deadline. The cool-down is the current one or the
///   provider's own wait hint when longer (capped at `maxCooldown`), and a later hint only ever
///   moves the deadline out, never in (litellm #40130 kept the first, shorter deadline).
/// - The first admission after the deadline moves to HALF_OPEN, which lets at most
///   `policy.probes` probe calls run at once and rejects the rest. A successful probe closes the
///   breaker with an empty window and the base cool-down; a failed probe re-opens it with the
///   cool-down doubled, up to `maxCooldown`.
///
/// Callers record only failures that say the provider is unhealthy (not an invalid request) and
/// hand back the `Admission` each call was given: a call let in before the breaker opened can
/// end while probes run, and its outcome must not be taken for a probe's.
public struct CircuitBreaker: Sendable, Equatable {
    public enum State: Sendable, Equatable {
        case closed
        case open(until: ContinuousClock.Instant)
        case halfOpen
    }

    /// A probe call's ticket; it belongs to one HALF_OPEN period and means nothing after it.
    public struct Probe: Sendable, Equatable {
        fileprivate let period: UInt64
    }

    public enum Admission: Sendable, Equatable {
        /// Closed: call the provider.
        case allowed
        /// Half-open: call the provider as a probe.
        case probe(Probe)
        /// Do not call the provider. `retryAt` is the end of the cool-down, or nil while probes
        /// are deciding (the provider may be back as soon as one succeeds).
        case rejected(retryAt: ContinuousClock.Instant?)
    }

    /// Why a closed breaker opened.
    public enum OpenReason: Sendable, Equatable, CustomStringConvertible {
        case failures(count: Int, within: Duration)
        case failureRate(failed: Int, calls: Int, within: Duration)

        public var description: String {
            switch self {
            case .failures(let count, let window):
                "\(count) failures within \(window)"
            case .failureRate(let failed, let calls, let window):
                "\(failed) of \(calls) calls failed within \(window)"
            }
        }
    }

    /// A change of state, returned so the caller can log it.
    public enum Transition: Sendable, Equatable {
        /// CLOSED → OPEN.
        case opened(until: ContinuousClock.Instant, reason: OpenReason)
        /// OPEN → HALF_OPEN: the cool-down ended.
        case halfOpened
        /// HALF_OPEN → CLOSED on a successful probe, or any state → CLOSED on `reset()`.
        case closed
        /// HALF_OPEN → OPEN: a probe failed.
        case reopened(until: ContinuousClock.Instant)
        /// OPEN stays OPEN longer: the provider asked for a longer wait than the deadline allowed.
        case extended(until: ContinuousClock.Instant)
    }

    public let policy: BreakerPolicy
    public private(set) var state: State = .closed
    /// The cool-down the next opening uses: the base, doubled by each failed probe.
    public private(set) var cooldown: Duration
    /// Failures recorded since the last success, for display.
    public private(set) var consecutiveFailures = 0
    /// Probe calls running in the current HALF_OPEN period.
    public private(set) var probesInFlight = 0
    private var period: UInt64 = 0
    private var window = OutcomeWindow()

    public init(policy: BreakerPolicy) {
        self.policy = policy
        self.cooldown = policy.cooldown
    }

    /// The state's name on the wire: `closed`, `open` or `half_open`.
    public var stateName: String {
        switch state {
        case .closed: "closed"
        case .open: "open"
        case .halfOpen: "half_open"
        }
    }

    /// Failures that ended within the window before `now`.
    public func failuresInWindow(now: ContinuousClock.Instant) -> Int {
        window.counts(after: now - policy.window).failures
    }

    /// Calls (failed or not) that ended within the window before `now`.
    public func callsInWindow(now: ContinuousClock.Instant) -> Int {
        window.counts(after: now - policy.window).calls
    }

    /// Asks whether a call may go to the provider now. Moves OPEN to HALF_OPEN once the
    /// cool-down has ended.
    public mutating func admit(now: ContinuousClock.Instant) -> (admission: Admission, transition: Transition?) {
        window.prune(before: now - policy.window)
        switch state {
        case .closed:
            return (.allowed, nil)
        case .open(let until):
            guard now >= until else { return (.rejected(retryAt: until), nil) }
            state = .halfOpen
            period &+= 1
            probesInFlight = 0
            return (admitProbe(), .halfOpened)
        case .halfOpen:
            return (admitProbe(), nil)
        }
    }

    /// The call let in by `admission` succeeded.
    public mutating func recordSuccess(_ admission: Admission, now: ContinuousClock.Instant) -> Transition? {
        guard !admission.isRejected else { return nil }
        window.prune(before: now - policy.window)
        consecutiveFailures = 0
        if isDecidingProbe(admission) {
            close()
            return .closed
        }
        window.record(failed: false, at: now)
        return nil
    }

    /// The call let in by `admission` failed in a way that counts against the provider. `hint`
    /// is how long the provider asked to be left alone (Retry-After and the like), if it said.
    public mutating func recordFailure(
        _ admission: Admission, now: ContinuousClock.Instant, hint: Duration?
    ) -> Transition? {
        guard !admission.isRejected else { return nil }
        window.prune(before: now - policy.window)
        consecutiveFailures += 1
        window.record(failed: true, at: now)
        let hint = honoured(hint)
        switch state {
        case .closed:
            guard let reason = openingReason() else { return nil }
            let until = now + max(cooldown, hint)
            state = .open(until: until)
            return .opened(until: until, reason: reason)
        case .open(let until):
            let extended = now + hint
            guard extended > until else { return nil }
            state = .open(until: extended)
            return .extended(until: extended)
        case .halfOpen:
            guard isDecidingProbe(admission) else { return nil }
            cooldown = min(cooldown * 2, longestCooldown)
            let until = now + max(cooldown, hint)
            state = .open(until: until)
            probesInFlight = 0
            return .reopened(until: until)
        }
    }

    /// The call let in by `admission` ended without an outcome (cancelled): a probe gives its
    /// slot back.
    public mutating func recordCancelled(_ admission: Admission, now: ContinuousClock.Instant) {
        window.prune(before: now - policy.window)
        if isDecidingProbe(admission) { probesInFlight = max(0, probesInFlight - 1) }
    }

    /// The administrator's reset: closed, window cleared, base cool-down. Outstanding probes no
    /// longer decide anything. Returns `.closed` unless the breaker was closed already.
    public mutating func reset() -> Transition? {
        let wasClosed = state == .closed
        close()
        consecutiveFailures = 0
        period &+= 1
        return wasClosed ? nil : .closed
    }

    private var longestCooldown: Duration { max(policy.maxCooldown, policy.cooldown) }

    private mutating func admitProbe() -> Admission {
        guard probesInFlight < max(1, policy.probes) else { return .rejected(retryAt: nil) }
        probesInFlight += 1
        return .probe(Probe(period: period))
    }

    /// Whether `admission` is a probe of the HALF_OPEN period under way.
    private func isDecidingProbe(_ admission: Admission) -> Bool {
        guard state == .halfOpen, case .probe(let probe) = admission else { return false }
        return probe.period == period
    }

    /// A provider's wait hint as far as the breaker honours it: never negative, and capped at the
    /// longest cool-down so that a wrong header cannot shut a provider out for a day.
    private func honoured(_ hint: Duration?) -> Duration {
        min(max(hint ?? .zero, .zero), longestCooldown)
    }

    private func openingReason() -> OpenReason? {
        let (calls, failures) = (window.calls, window.failures)
        if failures >= max(1, policy.failures) {
            return .failures(count: failures, within: policy.window)
        }
        if calls >= max(1, policy.minimumCalls), Double(failures) >= policy.failureRate * Double(calls) {
            return .failureRate(failed: failures, calls: calls, within: policy.window)
        }
        return nil
    }

    private mutating func close() {
        state = .closed
        cooldown = policy.cooldown
        probesInFlight = 0
        window.removeAll()
    }
}

extension CircuitBreaker.Admission {
    fileprivate var isRejected: Bool {
        if case .rejected = self { true } else { false }
    }
}

/// The outcomes of the calls that ended within a breaker's window, oldest first, with running
/// counts. Appending and expiring are O(1) amortised.
private struct OutcomeWindow: Sendable, Equatable {
    private struct Outcome: Sendable, Equatable {
        var at: ContinuousClock.Instant
        var failed: Bool
    }

    private var outcomes: [Outcome] = []
    /// Index of the oldest outcome still in the window; earlier slots are expired.
    private var start = 0
    private(set) var calls = 0
    private(set) var failures = 0

    mutating func record(failed: Bool, at instant: ContinuousClock.Instant) {
        outcomes.append(Outcome(at: instant, failed: failed))
        calls += 1
        if failed { failures += 1 }
    }

    /// Expires the outcomes recorded at or before `cutoff`.
    mutating func prune(before cutoff: ContinuousClock.Instant) {
        while start < outcomes.count, outcomes[start].at <= cutoff {
            calls -= 1
            if outcomes[start].failed { failures -= 1 }
            start += 1
        }
        if start > 64, start * 2 > outcomes.count {
            outcomes.removeFirst(start)
            start = 0
        }
    }

    func counts(after cutoff: ContinuousClock.Instant) -> (calls: Int, failures: Int) {
        var calls = 0
        var failures = 0
        for outcome in outcomes[start...] where outcome.at > cutoff {
            calls += 1
            if outcome.failed { failures += 1 }
        }
        return (calls, failures)
    }

    mutating func removeAll() {
        outcomes.removeAll(keepingCapacity: true)
        start = 0
        calls = 0
        failures = 0
    }

    static func == (a: OutcomeWindow, b: OutcomeWindow) -> Bool {
        a.outcomes[a.start...].elementsEqual(b.outcomes[b.start...])
    }
}
