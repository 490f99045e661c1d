import Synchronization

/// Lets another caller stop a running generation (`Projects.CancelGeneration`): the provider
/// work races `wait()`, and the one asking waits until the generation has recorded its end.
final class GenerationAbort: Sendable {
    /// Thrown into the provider work when the generation is cancelled.
    struct Aborted: Error {}

    private enum Phase { case running, aborted, settled }

    private struct State {
        var phase = Phase.running
        var waiters: [Int: CheckedContinuation<Void, any Error>] = [:]
        /// Waiters whose task was cancelled before they could register.
        var cancelledWaiters: Set<Int> = []
        var nextWaiter = 0
        var ended = false
        var endWaiters: [CheckedContinuation<Void, Never>] = []
        /// The user whose generation it is, once known.
        var user: String?
    }

    private let state: Mutex<State>

    init(user: String?) {
        state = Mutex(State(user: user))
    }

    var user: String? {
        get { state.withLock { $0.user } }
        set { state.withLock { $0.user = newValue } }
    }

    /// Cancels the generation: true unless it has already produced its answer (or ended).
    func abort() -> Bool {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, any Error>]? in
            guard state.phase == .running, !state.ended else { return nil }
            state.phase = .aborted
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        guard let waiters else { return false }
        for waiter in waiters { waiter.resume(throwing: Aborted()) }
        return true
    }

    /// The answer is in: from now on it is stored, not cancelled. False when it was cancelled first.
    func settle() -> Bool {
        state.withLock { state in
            guard state.phase == .running else { return state.phase == .settled }
            state.phase = .settled
            return true
        }
    }

    /// Returns only by throwing: `Aborted` when cancelled, `CancellationError` when the waiting
    /// task is (even if that happened before it began to wait).
    func wait() async throws {
        let id = state.withLock { state -> Int in
            defer { state.nextWaiter += 1 }
            return state.nextWaiter
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let outcome = state.withLock { state -> (any Error)? in
                    if state.phase == .aborted { return Aborted() }
                    if state.cancelledWaiters.remove(id) != nil { return CancellationError() }
                    state.waiters[id] = continuation
                    return nil
                }
                if let outcome { continuation.resume(throwing: outcome) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, any Error>? in
                guard let waiter = state.waiters.removeValue(forKey: id) else {
                    state.cancelledWaiters.insert(id)
                    return nil
                }
                return waiter
            }
            waiter?.resume(throwing: CancellationError())
        }
    }

    /// The generation has recorded its end.
    func end() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.ended = true
            defer { state.endWaiters = [] }
            return state.endWaiters
        }
        for waiter in waiters { waiter.resume() }
    }

    func waitForEnd() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ended = state.withLock { state -> Bool in
                if state.ended { return true }
                state.endWaiters.append(continuation)
                return false
            }
            if ended { continuation.resume() }
        }
    }
}
