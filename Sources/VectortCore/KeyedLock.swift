import Foundation
import Synchronization

/// Mutual exclusion per key for async work: callers with the same key run one after the other
/// (in arrival order), callers with different keys at once. Waiting is cancellable and never
/// blocks a thread.
public final class KeyedLock: Sendable {
    private struct State {
        var held: Set<String> = []
        var waiting: [String: [(id: UUID, continuation: CheckedContinuation<Void, any Error>)]] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    /// Runs `body` while holding `key`.
    public func withLock<T: Sendable>(_ key: String, _ body: () async throws -> T) async throws -> T {
        try await acquire(key)
        do {
            let value = try await body()
            release(key)
            return value
        } catch {
            release(key)
            throw error
        }
    }

    private func acquire(_ key: String) async throws {
        let id = UUID()
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let now = state.withLock { state -> Bool in
                    if state.held.insert(key).inserted { return true }
                    state.waiting[key, default: []].append((id, continuation))
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            let cancelled = state.withLock { state -> CheckedContinuation<Void, any Error>? in
                guard let index = state.waiting[key]?.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiting[key]?.remove(at: index).continuation
            }
            cancelled?.resume(throwing: CancellationError())
        }
    }

    private func release(_ key: String) {
        let next = state.withLock { state -> CheckedContinuation<Void, any Error>? in
            guard var queue = state.waiting[key], !queue.isEmpty else {
                state.held.remove(key)
                state.waiting[key] = nil
                return nil
            }
            let next = queue.removeFirst().continuation
            state.waiting[key] = queue.isEmpty ? nil : queue
            return next
        }
        next?.resume()
    }
}
