import Testing

@testable import Generation
import VectortCore

@Suite("CircuitBreaker: closed, open for a cool-down, half-open probes")
struct CircuitBreakerTests {
    typealias Instant = ContinuousClock.Instant

    let t0 = ContinuousClock.now

    func at(_ seconds: Double) -> Instant { t0 + .seconds(seconds) }

    static let policy = BreakerPolicy(
        failures: 3, window: .seconds(60), failureRate: 0.5, minimumCalls: 10, cooldown: .seconds(30),
        maxCooldown: .seconds(100), probes: 1)

    /// A breaker opened at `t0` by three failures, with the transition that opened it.
    func openedBreaker(
        policy: BreakerPolicy = policy, hint: Duration? = nil
    ) -> (CircuitBreaker, CircuitBreaker.Transition?) {
        var breaker = CircuitBreaker(policy: policy)
        var transition: CircuitBreaker.Transition?
        for _ in 0..<policy.failures {
            transition = breaker.recordFailure(.allowed, now: t0, hint: hint)
        }
        return (breaker, transition)
    }

    /// The breaker after its first cool-down, with a probe admitted.
    func probing(policy: BreakerPolicy = policy) -> (CircuitBreaker, CircuitBreaker.Admission) {
        var (breaker, _) = openedBreaker(policy: policy)
        let (admission, _) = breaker.admit(now: at(30))
        return (breaker, admission)
    }

    @Test func opensAfterTheConfiguredFailuresWithinTheWindow() {
        var breaker = CircuitBreaker(policy: Self.policy)
        #expect(breaker.recordFailure(.allowed, now: at(0), hint: nil) == nil)
        #expect(breaker.recordFailure(.allowed, now: at(20), hint: nil) == nil)
        #expect(breaker.state == .closed)
        #expect(breaker.admit(now: at(21)).admission == .allowed)

        let transition = breaker.recordFailure(.allowed, now: at(40), hint: nil)

        #expect(transition == .opened(until: at(70), reason: .failures(count: 3, within: .seconds(60))))
        #expect(breaker.state == .open(until: at(70)))
        #expect(breaker.stateName == "open")
        #expect(breaker.failuresInWindow(now: at(40)) == 3)
    }

    @Test func failuresOlderThanTheWindowDoNotCount() {
        var breaker = CircuitBreaker(policy: Self.policy)
        _ = breaker.recordFailure(.allowed, now: at(0), hint: nil)
        _ = breaker.recordFailure(.allowed, now: at(10), hint: nil)

        #expect(breaker.recordFailure(.allowed, now: at(60), hint: nil) == nil)
        #expect(breaker.state == .closed)
        #expect(breaker.failuresInWindow(now: at(60)) == 2)

        let transition = breaker.recordFailure(.allowed, now: at(65), hint: nil)
        #expect(transition == .opened(until: at(95), reason: .failures(count: 3, within: .seconds(60))))
    }

    @Test func aFailureRateOpensOnlyOnceTheMinimumOfCallsEnded() {
        let policy = BreakerPolicy(failures: 100, failureRate: 0.5, minimumCalls: 10)
        var breaker = CircuitBreaker(policy: policy)
        for second in 0..<4 {
            #expect(breaker.recordFailure(.allowed, now: at(Double(second)), hint: nil) == nil)
        }
        for second in 4..<9 {
            #expect(breaker.recordSuccess(.allowed, now: at(Double(second))) == nil)
        }
        #expect(breaker.state == .closed, "4 of 9 calls failed: below the minimum of calls")

        let transition = breaker.recordFailure(.allowed, now: at(9), hint: nil)

        #expect(transition == .opened(until: at(39), reason: .failureRate(failed: 5, calls: 10, within: .seconds(60))))
    }

    @Test func aFailureRateBelowTheThresholdKeepsTheBreakerClosed() {
        let policy = BreakerPolicy(failures: 100, failureRate: 0.5, minimumCalls: 10)
        var breaker = CircuitBreaker(policy: policy)
        for second in 0..<6 {
            _ = breaker.recordSuccess(.allowed, now: at(Double(second)))
        }
        for second in 6..<10 {
            #expect(breaker.recordFailure(.allowed, now: at(Double(second)), hint: nil) == nil)
        }
        #expect(breaker.state == .closed)
        #expect(breaker.callsInWindow(now: at(10)) == 10)
    }

    @Test func openRejectsWithTheEndOfTheCooldownWithoutCallingTheProvider() {
        var (breaker, _) = openedBreaker()

        let (admission, transition) = breaker.admit(now: at(29.9))

        #expect(admission == .rejected(retryAt: at(30)))
        #expect(transition == nil)
        #expect(breaker.state == .open(until: at(30)))
    }

    @Test func afterTheCooldownHalfOpenAdmitsExactlyTheConfiguredProbes() {
        var policy = Self.policy
        policy.probes = 2
        var (breaker, _) = openedBreaker(policy: policy)

        let first = breaker.admit(now: at(30))
        let second = breaker.admit(now: at(31))
        let third = breaker.admit(now: at(32))

        #expect(first.transition == .halfOpened)
        guard case .probe = first.admission, case .probe = second.admission else {
            Issue.record("expected two probes, got \(first.admission) and \(second.admission)")
            return
        }
        #expect(second.transition == nil)
        #expect(third.admission == .rejected(retryAt: nil))
        #expect(breaker.state == .halfOpen)
        #expect(breaker.stateName == "half_open")
        #expect(breaker.probesInFlight == 2)
    }

    @Test func aSuccessfulProbeClosesWithAnEmptyWindowAndTheBaseCooldown() {
        var policy = Self.policy
        policy.window = .seconds(300)
        var (breaker, probe) = probing(policy: policy)
        _ = breaker.recordFailure(probe, now: at(31), hint: nil)
        let (probeAgain, _) = breaker.admit(now: at(91))
        #expect(breaker.cooldown == .seconds(60))

        let transition = breaker.recordSuccess(probeAgain, now: at(92))

        #expect(transition == .closed)
        #expect(breaker.state == .closed)
        #expect(breaker.failuresInWindow(now: at(92)) == 0)
        #expect(breaker.cooldown == .seconds(30))
        #expect(breaker.consecutiveFailures == 0)
        #expect(breaker.admit(now: at(93)).admission == .allowed)
        #expect(breaker.recordFailure(.allowed, now: at(93), hint: nil) == nil, "the window starts empty")
    }

    @Test func aFailedProbeReopensWithTheCooldownDoubledUpToTheMaximum() {
        var (breaker, probe) = probing()

        #expect(breaker.recordFailure(probe, now: at(31), hint: nil) == .reopened(until: at(91)))

        probe = breaker.admit(now: at(91)).admission
        #expect(breaker.recordFailure(probe, now: at(92), hint: nil) == .reopened(until: at(192)))
        #expect(breaker.cooldown == .seconds(100))

        probe = breaker.admit(now: at(192)).admission
        #expect(breaker.recordFailure(probe, now: at(193), hint: nil) == .reopened(until: at(293)))
        #expect(breaker.state == .open(until: at(293)))
    }

    @Test func aProviderHintLongerThanTheCooldownExtendsTheOpening() {
        let (breaker, transition) = openedBreaker(hint: .seconds(45))

        #expect(transition == .opened(until: at(45), reason: .failures(count: 3, within: .seconds(60))))
        #expect(breaker.state == .open(until: at(45)))
    }

    @Test func aProviderHintIsHonouredOnlyUpToTheLongestCooldown() {
        let (breaker, _) = openedBreaker(hint: .seconds(86_400))

        #expect(breaker.state == .open(until: at(100)))
    }

    @Test func aLaterHintExtendsAnOpenBreakerButAShorterOneNeverShortensIt() {
        // litellm #40130: re-cooling kept the first, shorter deadline.
        var (breaker, _) = openedBreaker(hint: .seconds(1))
        #expect(breaker.state == .open(until: at(30)))

        #expect(breaker.recordFailure(.allowed, now: at(5), hint: .seconds(60)) == .extended(until: at(65)))
        #expect(breaker.recordFailure(.allowed, now: at(10), hint: .seconds(1)) == nil)
        #expect(breaker.recordFailure(.allowed, now: at(11), hint: nil) == nil)

        #expect(breaker.state == .open(until: at(65)))
        #expect(breaker.admit(now: at(31)).admission == .rejected(retryAt: at(65)))
    }

    @Test func aFailedProbeWithALongHintWaitsForTheHint() {
        var (breaker, probe) = probing()

        #expect(breaker.recordFailure(probe, now: at(31), hint: .seconds(90)) == .reopened(until: at(121)))
        #expect(breaker.cooldown == .seconds(60))
    }

    @Test func resetClosesAndClearsTheWindow() {
        var (breaker, _) = openedBreaker()

        #expect(breaker.reset() == .closed)

        #expect(breaker.state == .closed)
        #expect(breaker.failuresInWindow(now: at(1)) == 0)
        #expect(breaker.consecutiveFailures == 0)
        #expect(breaker.admit(now: at(1)).admission == .allowed)
        #expect(breaker.reset() == nil, "already closed: nothing to log")
    }

    @Test func resetEndsTheHalfOpenPeriodSoAnOutstandingProbeDecidesNothing() {
        var (breaker, probe) = probing()
        _ = breaker.reset()
        for second in 31..<33 {
            _ = breaker.recordFailure(.allowed, now: at(Double(second)), hint: nil)
        }

        let transition = breaker.recordFailure(probe, now: at(33), hint: nil)

        #expect(
            transition == .opened(until: at(63), reason: .failures(count: 3, within: .seconds(60))),
            "the old probe counts as an ordinary third failure, not as a failed probe")
    }

    @Test func aCancelledProbeGivesItsSlotBack() {
        var (breaker, probe) = probing()
        #expect(breaker.admit(now: at(31)).admission == .rejected(retryAt: nil))

        breaker.recordCancelled(probe, now: at(32))

        #expect(breaker.probesInFlight == 0)
        guard case .probe = breaker.admit(now: at(33)).admission else {
            Issue.record("the cancelled probe's slot was not given back")
            return
        }
        #expect(breaker.state == .halfOpen)
    }

    @Test func aCallLetInBeforeTheBreakerOpenedDoesNotDecideTheProbe() {
        var breaker = CircuitBreaker(policy: Self.policy)
        let early = breaker.admit(now: at(0)).admission
        for _ in 0..<3 {
            _ = breaker.recordFailure(.allowed, now: at(1), hint: nil)
        }
        let probe = breaker.admit(now: at(31)).admission

        #expect(breaker.recordFailure(early, now: at(32), hint: nil) == nil)
        #expect(breaker.recordSuccess(early, now: at(33)) == nil)
        breaker.recordCancelled(early, now: at(34))
        #expect(breaker.state == .halfOpen)
        #expect(breaker.probesInFlight == 1)

        #expect(breaker.recordSuccess(probe, now: at(35)) == .closed)
    }

    @Test func aProbeFromAnEarlierHalfOpenPeriodDoesNotDecideTheNextOne() {
        var policy = Self.policy
        policy.probes = 2
        var (breaker, first) = probing(policy: policy)
        let second = breaker.admit(now: at(30)).admission
        _ = breaker.recordFailure(first, now: at(31), hint: nil)
        let next = breaker.admit(now: at(91)).admission

        #expect(breaker.recordSuccess(second, now: at(92)) == nil)
        breaker.recordCancelled(second, now: at(92))
        #expect(breaker.state == .halfOpen)
        #expect(breaker.probesInFlight == 1)

        #expect(breaker.recordFailure(next, now: at(93), hint: nil) == .reopened(until: at(193)))
    }

    @Test func aSuccessEndsTheRunOfConsecutiveFailures() {
        var breaker = CircuitBreaker(policy: Self.policy)
        _ = breaker.recordFailure(.allowed, now: at(0), hint: nil)
        _ = breaker.recordFailure(.allowed, now: at(1), hint: nil)
        #expect(breaker.consecutiveFailures == 2)

        _ = breaker.recordSuccess(.allowed, now: at(2))

        #expect(breaker.consecutiveFailures == 0)
        #expect(breaker.failuresInWindow(now: at(2)) == 2, "the window still holds both failures")
    }

    @Test func aLongRunOfCallsKeepsOnlyTheWindowsOutcomes() {
        var breaker = CircuitBreaker(policy: BreakerPolicy(failures: 1_000, window: .seconds(10), minimumCalls: 1_000))
        for step in 0..<5_000 {
            let now = at(Double(step) / 10)
            if step % 4 == 0 {
                _ = breaker.recordFailure(.allowed, now: now, hint: nil)
            } else {
                _ = breaker.recordSuccess(.allowed, now: now)
            }
        }
        #expect(breaker.state == .closed)
        #expect(breaker.callsInWindow(now: at(499.95)) == 100)
        #expect(breaker.failuresInWindow(now: at(499.95)) == 25)
    }
}
