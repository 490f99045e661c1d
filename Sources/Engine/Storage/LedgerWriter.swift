public import GRDB
import Protocol
import Synchronization

/// The one writer of the database. Concurrent requests are committed together in one
/// transaction (group commit): with `synchronous=FULL` each commit waits for the disk, so one
/// fsync per batch instead of one per request is what lets durable writes scale.
///
/// Each request runs in its own savepoint, so a request that fails rolls back alone and the
/// others of its batch still commit. `write` returns only after the batch's commit returned:
/// an answer is never sent for a write that is not durable.
public final class LedgerWriter: Sendable {
    private struct Request: Sendable {
        let work: @Sendable (GRDB.Database) throws -> any Sendable
        let continuation: CheckedContinuation<any Sendable, any Error>
    }

    private struct Queue: ~Copyable {
        var requests: [Request] = []
        var wakeUp: CheckedContinuation<Void, Never>?
        var stopped = false
    }

    private let pool: DatabasePool
    private let queue = Mutex(Queue())
    /// Requests per transaction at most; 1 turns group commit off (used by the benchmark).
    public let maxBatch: Int

    public init(pool: DatabasePool, maxBatch: Int = 512) {
        self.pool = pool
        self.maxBatch = max(1, maxBatch)
    }

    /// Runs `work` in the next batch and returns its result once the batch is durable.
    public func write<T: Sendable>(_ work: @escaping @Sendable (GRDB.Database) throws -> T) async throws -> T {
        let result = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<any Sendable, any Error>) in
            let request = Request(work: { try work($0) }, continuation: continuation)
            let (rejected, wake) = queue.withLock { state -> (Bool, CheckedContinuation<Void, Never>?) in
                if state.stopped { return (true, nil) }
                state.requests.append(request)
                let wake = state.wakeUp
                state.wakeUp = nil
                return (false, wake)
            }
            if rejected {
                continuation.resume(throwing: EngineError(.unavailable("vectortd is shutting down")))
            }
            wake?.resume()
        }
        return result as! T
    }

    /// The writer loop; returns after `stop()` once every queued request has been answered.
    public func run() async {
        while let batch = await nextBatch() {
            await commit(batch)
        }
    }

    /// Refuses new requests; `run()` returns when the queue is empty.
    public func stop() {
        let wake = queue.withLock { state -> CheckedContinuation<Void, Never>? in
            state.stopped = true
            let wake = state.wakeUp
            state.wakeUp = nil
            return wake
        }
        wake?.resume()
    }

    private func nextBatch() async -> [Request]? {
        while true {
            let taken = queue.withLock { state -> (batch: [Request], done: Bool) in
                let count = min(state.requests.count, maxBatch)
                let batch = Array(state.requests.prefix(count))
                state.requests.removeFirst(count)
                return (batch, state.stopped && state.requests.isEmpty)
            }
            if !taken.batch.isEmpty { return taken.batch }
            if taken.done { return nil }
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = queue.withLock { state -> Bool in
                    if !state.requests.isEmpty || state.stopped { return true }
                    state.wakeUp = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        }
    }

    private func commit(_ batch: [Request]) async {
        let outcomes: [Result<any Sendable, any Error>]
        do {
            outcomes = try await pool.writeWithoutTransaction { db in
                var outcomes: [Result<any Sendable, any Error>] = []
                outcomes.reserveCapacity(batch.count)
                try db.inTransaction(.immediate) {
                    // Savepoint statements are prepared once; a failed request is rolled back
                    // to its savepoint and the batch goes on.
                    let begin = try db.cachedStatement(sql: "SAVEPOINT request")
                    let release = try db.cachedStatement(sql: "RELEASE SAVEPOINT request")
                    let rollback = try db.cachedStatement(sql: "ROLLBACK TO SAVEPOINT request")
                    for request in batch {
                        try begin.execute()
                        do {
                            let value = try request.work(db)
                            try release.execute()
                            outcomes.append(.success(value))
                        } catch {
                            try rollback.execute()
                            try release.execute()
                            outcomes.append(.failure(error))
                        }
                    }
                    return .commit
                }
                return outcomes
            }
        } catch {
            for request in batch { request.continuation.resume(throwing: error) }
            return
        }
        for (request, outcome) in zip(batch, outcomes) {
            request.continuation.resume(with: outcome)
        }
    }
}
