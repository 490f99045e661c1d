public import Foundation
import Synchronization
public import VectortCore

/// Virtual time: it stands still until a test advances it, and then wakes every sleeper whose
/// deadline has passed. A test of a timeout waits until the code under test is asleep
/// (`waitForSleepers`), advances past the deadline and checks what happened, without waiting
/// the timeout out on a machine whose load would make the wait's length meaningless.
public final class TestClock: VectortClock {
    private struct Sleeper {
        var deadline: ContinuousClock.Instant
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var offset: Duration = .zero
        var nextID = 0
        var sleepers: [Int: Sleeper] = [:]
        /// Sleeps that ended because the task was cancelled before it got its continuation in.
        var cancelledEarly: Set<Int> = []
    }

    private let baseInstant: ContinuousClock.Instant
    private let baseDate: Date
    private let state = Mutex(State())

    /// Starts at the machine's current readings (or at `date` for the wall clock).
    public init(date: Date = Date()) {
        baseInstant = .now
        baseDate = date
    }

    public var now: ContinuousClock.Instant { baseInstant + state.withLock { $0.offset } }

    public var date: Date {
        let offset = state.withLock { $0.offset }
        return baseDate.addingTimeInterval(Double(offset.components.seconds) + Double(offset.components.attoseconds) / 1e18)
    }

    /// How far the clock has been advanced.
    public var elapsed: Duration { state.withLock { $0.offset } }

    /// How many tasks are asleep on this clock.
    public var sleeperCount: Int { state.withLock { $0.sleepers.count } }

    public func sleep(until deadline: ContinuousClock.Instant) async throws {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let resume: Result<Void, any Error>? = state.withLock { state in
                    if state.cancelledEarly.remove(id) != nil { return .failure(CancellationError()) }
                    if deadline <= baseInstant + state.offset { return .success(()) }
                    state.sleepers[id] = Sleeper(deadline: deadline, continuation: continuation)
                    return nil
                }
                if let resume { continuation.resume(with: resume) }
            }
        } onCancel: {
            let sleeper = state.withLock { state in
                guard let sleeper = state.sleepers.removeValue(forKey: id) else {
                    state.cancelledEarly.insert(id)
                    return Sleeper?.none
                }
                return sleeper
            }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves time forward and wakes the sleepers whose deadline is now past.
    public func advance(by duration: Duration) {
        let due = state.withLock { state in
            state.offset += duration
            let now = baseInstant + state.offset
            let due = state.sleepers.filter { $0.value.deadline <= now }
            for id in due.keys { state.sleepers.removeValue(forKey: id) }
            return Array(due.values)
        }
        for sleeper in due { sleeper.continuation.resume() }
    }

    /// Waits (in real time, politely) until at least `count` tasks sleep on this clock; false
    /// when that did not happen within `timeout`.
    @discardableResult
    public func waitForSleepers(_ count: Int = 1, timeout: Duration = Polling.timeout) async -> Bool {
        await Polling.until(timeout: timeout) { sleeperCount >= count ? true : nil } ?? false
    }
}
