import Foundation
public import GRDB
import Protocol
import Synchronization
import VectortCore
public import Observability

/// The one writer of the database. Concurrent requests are committed together in one
/// transaction (group commit): with `synchronous=FULL` each commit waits for the disk, so one
/// fsync per batch instead of one per request is what lets durable writes scale.
///
/// Each request runs in its own savepoint, so a request that fails rolls back alone and the
/// others of its batch still commit. `write` returns only after the batch's commit returned:
/// an answer is never sent for a write that is not durable.
///
/// The writer owns a thread: batches run there on the pool's writer connection without a hop
/// to another queue, and callers are resumed straight from it. Before a batch's replies go
/// out, the balances it changed are published to `balances`.
public final class LedgerWriter: Sendable {
    private struct Request: Sendable {
        let work: @Sendable (GRDB.Database) throws -> any Sendable
        let continuation: CheckedContinuation<any Sendable, any Error>
    }

    private struct Queue: ~Copyable {
        var requests: [Request] = []
        var writerWaiting = false
        var stopped = false
        var started = false
        var finished: [CheckedContinuation<Void, Never>] = []
        var done = false
    }

    private let pool: DatabasePool
    private let queue = Mutex(Queue())
    /// Wakes the writer thread; signalled once per transition to waiting.
    private let wake = DispatchSemaphore(value: 0)
    /// Requests per transaction at most; 1 turns group commit off (used by the benchmark).
    public let maxBatch: Int
    /// Committed balances, kept by this writer (see `BalanceCache`).
    public let balances: BalanceCache
    private let checkpointer: Checkpointer
    /// The writer thread's name in `top -H` and `/proc`.
    static let threadName = "vectortd-writer"
    /// Batches between two checkpoint requests.
    private static let batchesPerCheckpoint = 8
    /// Batch sizes, commit times and credit movements go here.
    private let metrics: Telemetry
    /// Whether the journal's movements are tallied for `vectortd_credits_total` (metrics on).
    private let talliesCredits: Bool

    public init(
        pool: DatabasePool, maxBatch: Int = 512, balanceCacheCapacity: Int = 200_000,
        metrics: Telemetry = Telemetry(enabled: false)
    ) {
        self.pool = pool
        self.metrics = metrics
        self.maxBatch = max(1, maxBatch)
        self.balances = BalanceCache(capacity: balanceCacheCapacity)
        self.checkpointer = Checkpointer(path: pool.path)
        // The writer's connection: checkpoints mostly left to the checkpointer, a page cache
        // that holds the hot index pages of a busy ledger (8 MiB; SQLite's default is 2 MiB),
        // and its temporary notes kept in memory.
        try? pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA wal_autocheckpoint = \(Checkpointer.writerFallbackPages)")
            try db.execute(sql: "PRAGMA cache_size = -8192")
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
        }
        // After `temp_store`: changing it drops the connection's temporary tables.
        self.talliesCredits =
            metrics.enabled && (try? pool.writeWithoutTransaction { db in try db.execute(sql: CreditTally.sql) }) != nil
        do {
            try pool.writeWithoutTransaction { db in try db.execute(sql: BalanceCache.trackingSQL) }
        } catch {
            // Without the notes the cache cannot be kept: every read then goes to the database.
            balances.disable()
        }
    }

    /// Runs `work` in the next batch and returns its result once the batch is durable.
    public func write<T: Sendable>(_ work: @escaping @Sendable (GRDB.Database) throws -> T) async throws -> T {
        let result = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<any Sendable, any Error>) in
            let request = Request(work: { try work($0) }, continuation: continuation)
            let (rejected, signal) = queue.withLock { state -> (Bool, Bool) in
                if state.stopped { return (true, false) }
                state.requests.append(request)
                let signal = state.writerWaiting
                state.writerWaiting = false
                return (false, signal)
            }
            if rejected {
                continuation.resume(throwing: EngineError(.unavailable("vectortd is shutting down")))
            }
            if signal { wake.signal() }
        }
        return result as! T
    }

    /// Starts the writer thread and returns after `stop()` once every queued request has been
    /// answered. Requests may be queued before it is called.
    public func run() async {
        let start = queue.withLock { state -> Bool in
            defer { state.started = true }
            return !state.started
        }
        if start {
            let thread = Thread { [self] in
                ThreadName.setCurrent(Self.threadName)
                loop()
                let waiters = queue.withLock { state -> [CheckedContinuation<Void, Never>] in
                    state.done = true
                    defer { state.finished = [] }
                    return state.finished
                }
                for waiter in waiters { waiter.resume() }
            }
            thread.start()
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = queue.withLock { state -> Bool in
                if state.done { return true }
                state.finished.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }

    /// Refuses new requests; `run()` returns when the queue is empty.
    public func stop() {
        let signal = queue.withLock { state -> Bool in
            state.stopped = true
            let signal = state.writerWaiting
            state.writerWaiting = false
            return signal
        }
        if signal { wake.signal() }
    }

    private func loop() {
        var batchesSinceCheckpoint = 0
        while let batch = nextBatch() {
            commit(batch)
            batchesSinceCheckpoint += 1
            if batchesSinceCheckpoint >= Self.batchesPerCheckpoint {
                batchesSinceCheckpoint = 0
                checkpointer.request()
            }
        }
        checkpointer.stop()
    }

    private func nextBatch() -> [Request]? {
        while true {
            let taken = queue.withLock { state -> (batch: [Request], done: Bool) in
                let count = min(state.requests.count, maxBatch)
                if count == 0 {
                    if !state.stopped { state.writerWaiting = true }
                    return ([], state.stopped)
                }
                let batch = Array(state.requests.prefix(count))
                state.requests.removeFirst(count)
                return (batch, false)
            }
            if !taken.batch.isEmpty { return taken.batch }
            if taken.done { return nil }
            wake.wait()
        }
    }

    private func commit(_ batch: [Request]) {
        let outcomes: [Result<any Sendable, any Error>]
        let changes: BalanceCache.BatchChanges
        var moves: [CreditTally.Move] = []
        let clock = ContinuousClock()
        let started = clock.now
        do {
            (outcomes, changes) = try pool.writeWithoutTransaction { db in
                var outcomes: [Result<any Sendable, any Error>] = []
                var changes = BalanceCache.BatchChanges()
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
                    if balances.isEnabled { changes = try balances.collectTouched(db) }
                    if talliesCredits { moves = try CreditTally.collect(db) }
                    return .commit
                }
                return (outcomes, changes)
            }
        } catch {
            for request in batch { request.continuation.resume(throwing: error) }
            return
        }
        balances.publish(changes)
        if metrics.enabled {
            metrics.record(Metric.ledgerBatchSize, [], Double(batch.count))
            metrics.record(Metric.ledgerCommit, [], clock.now - started)
            for move in moves { metrics.increment(Metric.credits, [move.operation, move.bucket], by: move.amount) }
        }
        for (request, outcome) in zip(batch, outcomes) {
            request.continuation.resume(with: outcome)
        }
    }
}

/// The journal's movements of one batch, summed by operation and bucket in a temporary table a
/// trigger fills (rolled back with a request's savepoint, like the entries themselves), read and
/// emptied before the batch commits: `vectortd_credits_total` counts only what committed.
enum CreditTally {
    struct Move {
        var operation: String
        var bucket: String
        var amount: Int
    }

    static let sql = """
        CREATE TEMP TABLE IF NOT EXISTS credit_moves(kind TEXT NOT NULL, bucket TEXT NOT NULL,
            amount INTEGER NOT NULL, PRIMARY KEY (kind, bucket)) WITHOUT ROWID;
        CREATE TEMP TRIGGER IF NOT EXISTS credit_moves_insert AFTER INSERT ON main.credit_entries
            BEGIN INSERT INTO credit_moves(kind, bucket, amount) VALUES (NEW.kind, NEW.bucket, abs(NEW.amount))
                ON CONFLICT(kind, bucket) DO UPDATE SET amount = amount + excluded.amount; END;
        """

    static func collect(_ db: GRDB.Database) throws -> [Move] {
        let rows = try Row.fetchAll(db.cachedStatement(sql: "SELECT kind, bucket, amount FROM temp.credit_moves"))
        guard !rows.isEmpty else { return [] }
        try db.cachedStatement(sql: "DELETE FROM temp.credit_moves").execute()
        return rows.map { Move(operation: operation(of: $0["kind"]), bucket: $0["bucket"], amount: $0["amount"]) }
    }

    /// The journal's entry kinds as the metric's operations.
    static func operation(of kind: String) -> String {
        switch kind {
        case "grant", "purchase", "adjustment": "granted"
        case "usage": "spent"
        case "hold": "held"
        case "release": "released"
        case "refund", "reversal": "reversed"
        case "expiry": "expired"
        default: "other"
        }
    }
}
