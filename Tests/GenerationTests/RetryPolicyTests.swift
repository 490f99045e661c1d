import Testing
import VectortTesting

@testable import Generation
import VectortCore

@Suite("RetryPolicy: full-jitter backoff bounded by the provider's hint and the call's deadline")
struct RetryPolicyTests {
    /// 1 s, 2 s, 4 s, then 8 s; three retries.
    let policy = RetryPolicy(maxRetries: 3, base: .seconds(1), cap: .seconds(8))

    static let highest: @Sendable (ClosedRange<Double>) -> Double = { $0.upperBound }
    static let lowest: @Sendable (ClosedRange<Double>) -> Double = { $0.lowerBound }

    static func fraction(_ value: Double) -> (ClosedRange<Double>) -> Double {
        { $0.lowerBound + ($0.upperBound - $0.lowerBound) * value }
    }

    @Test func theCeilingDoublesFromTheBaseUpToTheCap() {
        let ceilings = (0..<7).map { policy.backoffCeiling(beforeRetry: $0) }

        #expect(ceilings == [1, 2, 4, 8, 8, 8, 8].map { Duration.seconds($0) })
        #expect(policy.backoffCeiling(beforeRetry: 10_000) == .seconds(8))
    }

    @Test(arguments: 0..<8)
    func backoffStaysWithinFullJitterBoundsOverManySamples(retry: Int) {
        var generator = SeededGenerator(seed: 0xB0FF + UInt64(retry))
        let ceiling = policy.backoffCeiling(beforeRetry: retry)

        let samples = (0..<2_000).map { _ in
            policy.backoff(beforeRetry: retry) { Double.random(in: $0, using: &generator) }
        }

        #expect(samples.allSatisfy { $0 >= .zero && $0 <= ceiling })
        #expect(samples.min()! < ceiling * 0.05, "full jitter reaches down to zero")
        #expect(samples.max()! > ceiling * 0.95, "full jitter reaches up to the ceiling")
    }

    @Test func theSameSeedGivesTheSameBackoffs() {
        func backoffs(seed: UInt64) -> [Duration] {
            var generator = SeededGenerator(seed: seed)
            return (0..<20).map { n in
                policy.backoff(beforeRetry: n % 4) { Double.random(in: $0, using: &generator) }
            }
        }

        #expect(backoffs(seed: 7) == backoffs(seed: 7))
        #expect(backoffs(seed: 7) != backoffs(seed: 8))
    }

    @Test func theRandomDrawScalesTheCeiling() {
        #expect(policy.backoff(beforeRetry: 2, random: Self.highest) == .seconds(4))
        #expect(policy.backoff(beforeRetry: 2, random: Self.lowest) == .zero)
        #expect(policy.backoff(beforeRetry: 2, random: Self.fraction(0.25)) == .seconds(1))
        #expect(policy.backoff(beforeRetry: 2, random: { _ in 7 }) == .seconds(4), "an out-of-range draw is clamped")
    }

    @Test func retriesWithTheJitteredBackoffWhenNothingElseLimitsIt() {
        let decision = policy.decide(beforeRetry: 1, hint: nil, remaining: .seconds(60), random: Self.fraction(0.5))

        #expect(decision == .retry(after: .seconds(1)))
    }

    @Test func theProvidersHintIsTheShortestWait() {
        #expect(
            policy.decide(beforeRetry: 0, hint: .seconds(5), remaining: .seconds(60), random: Self.highest)
                == .retry(after: .seconds(5)))
        #expect(
            policy.decide(beforeRetry: 2, hint: .seconds(3), remaining: .seconds(60), random: Self.fraction(0.25))
                == .retry(after: .seconds(3)))
        #expect(
            policy.decide(beforeRetry: 2, hint: .seconds(3), remaining: .seconds(60), random: Self.highest)
                == .retry(after: .seconds(4)), "a longer jittered backoff wins over the hint")
    }

    @Test func aHintAtTheCapIsStillHonoured() {
        let decision = policy.decide(beforeRetry: 0, hint: .seconds(8), remaining: .seconds(60), random: Self.lowest)

        #expect(decision == .retry(after: .seconds(8)))
    }

    @Test func aHintAboveTheCapGivesUpSoTheChainFallsBack() {
        let decision = policy.decide(
            beforeRetry: 0, hint: .milliseconds(8_001), remaining: .seconds(60), random: Self.lowest)

        #expect(decision == .giveUp(.hintAboveCap(hint: .milliseconds(8_001), cap: .seconds(8))))
    }

    @Test func aZeroOrNegativeHintIsNoHint() {
        #expect(
            policy.decide(beforeRetry: 0, hint: .seconds(-3), remaining: .seconds(60), random: Self.lowest)
                == .retry(after: .zero))
        #expect(
            policy.decide(beforeRetry: 0, hint: .zero, remaining: .seconds(60), random: Self.highest)
                == .retry(after: .seconds(1)))
    }

    @Test func neverSchedulesARetryPastTheDeadline() {
        var generator = SeededGenerator(seed: 40_130)
        let remaining = Duration.milliseconds(500)

        for _ in 0..<2_000 {
            let decision = policy.decide(beforeRetry: 2, hint: nil, remaining: remaining) {
                Double.random(in: $0, using: &generator)
            }
            guard case .retry(let wait) = decision else {
                Issue.record("gave up with time left: \(decision)")
                return
            }
            #expect(wait >= .zero && wait < remaining)
        }
    }

    @Test func givesUpWhenTheWaitWouldReachTheDeadline() {
        #expect(
            policy.decide(beforeRetry: 0, hint: .seconds(2), remaining: .seconds(1), random: Self.lowest)
                == .giveUp(.deadline(wait: .seconds(2), remaining: .seconds(1))))
        #expect(
            policy.decide(beforeRetry: 0, hint: nil, remaining: .zero, random: Self.lowest)
                == .giveUp(.deadline(wait: .zero, remaining: .zero)))
        #expect(
            policy.decide(beforeRetry: 2, hint: nil, remaining: .milliseconds(300), random: Self.highest)
                == .giveUp(.deadline(wait: .milliseconds(300), remaining: .milliseconds(300))))
    }

    @Test func givesUpAfterTheLastRetry() {
        let decisions = (0...3).map {
            policy.decide(beforeRetry: $0, hint: nil, remaining: .seconds(60), random: Self.highest)
        }

        #expect(
            decisions == [
                .retry(after: .seconds(1)), .retry(after: .seconds(2)), .retry(after: .seconds(4)),
                .giveUp(.retriesExhausted(maxRetries: 3)),
            ])
        let never = RetryPolicy(maxRetries: 0)
        #expect(
            never.decide(beforeRetry: 0, hint: nil, remaining: .seconds(60), random: Self.lowest)
                == .giveUp(.retriesExhausted(maxRetries: 0)))
    }

    @Test func giveUpReasonsSayWhatLimitWasReached() {
        #expect(GiveUpReason.retriesExhausted(maxRetries: 3).description == "no retries left after 3")
        #expect(
            GiveUpReason.hintAboveCap(hint: .seconds(30), cap: .seconds(8)).description
                == "the provider asks to wait 30.0 seconds, longer than the 8.0 seconds backoff cap")
        #expect(
            GiveUpReason.deadline(wait: .seconds(2), remaining: .seconds(1)).description
                == "a wait of 2.0 seconds would reach the call's deadline (1.0 seconds left)")
    }
}
