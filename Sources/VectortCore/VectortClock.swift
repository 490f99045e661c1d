public import Foundation

/// The time the engine reads and waits on, injected so that timeouts, retries, breakers and
/// reset hints run on virtual time in tests.
///
/// Two readings, because they answer different questions: `now` is monotonic (deadlines,
/// durations; it never jumps), `date` is the wall clock (what a provider's `Retry-After: <date>`
/// or rate-limit reset timestamp is compared with).
public protocol VectortClock: Sendable {
    /// The monotonic time.
    var now: ContinuousClock.Instant { get }
    /// The wall-clock time.
    var date: Date { get }
    /// Returns at `deadline` on this clock, or throws `CancellationError` when the task is
    /// cancelled first.
    func sleep(until deadline: ContinuousClock.Instant) async throws
}

extension VectortClock {
    /// Returns after `duration` on this clock.
    public func sleep(for duration: Duration) async throws {
        try await sleep(until: now + duration)
    }
}

/// The machine's clocks: `ContinuousClock` and `Date()`.
public struct SystemClock: VectortClock {
    public init() {}

    public var now: ContinuousClock.Instant { .now }
    public var date: Date { Date() }

    public func sleep(until deadline: ContinuousClock.Instant) async throws {
        try await Task.sleep(until: deadline, clock: .continuous)
    }
}

extension Duration {
    /// The duration in seconds as a Double.
    package var seconds: Double {
        let parts = components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }
}
