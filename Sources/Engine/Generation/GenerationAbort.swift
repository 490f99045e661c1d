import Synchronization

/// Lets another caller stop a running generation (`Projects.CancelGeneration`): the provider
/// work races `wait()`, and the one asking waits until the generation has recorded its end.
final class GenerationAbort: Sendable {
    /// Thrown into the provider work when the generation is cancelled.
    struct Aborted: Error {}

    private enum Phase { case running, aborted, settled }

    private struct State {
        var phase = Phase.running
        var waiters: [CheckedContinuation<Void, any Error>] = []
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
            defer { state.waiters = [] }
            return state.waiters
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
    /// task is.
    func wait() async throws {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let aborted = state.withLock { state -> Bool in
                    if state.phase == .aborted { return true }
                    state.waiters.append(continuation)
                    return false
                }
                if aborted { continuation.resume(throwing: Aborted()) }
            }
        } onCancel: {
            let waiters = state.withLock { state -> [CheckedContinuation<Void, any Error>] in
                defer { state.waiters = [] }
                return state.waiters
            }
            for waiter in waiters { waiter.resume(throwing: CancellationError()) }
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
