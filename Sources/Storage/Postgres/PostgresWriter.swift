package import Logging
package import PostgresNIO
import Protocol
import Synchronization
import VectortCore

/// Group commit against PostgreSQL, per node: the writes this node is asked for while a batch
/// commits wait and go together in the next transaction, each in its own savepoint, so that
/// one request's failure (InsufficientCredits, a conflict) rolls back alone and the others of
/// its batch commit. The database decides: every request reads what it decides on with row
/// locks inside the transaction, so nodes sharing the database serialize on the rows they
/// touch, never on a node's memory.
///
/// A serialization failure (40001) or a broken deadlock (40P01) anywhere in a batch rolls the
/// whole transaction back and runs the batch again (up to `attempts` times): two nodes whose
/// batches lock the same users in different orders deadlock, and PostgreSQL picks one to lose.
/// `write` returns after COMMIT returned: an answer is never sent for a write that is not
/// durable.
package final class PostgresWriter: Sendable {
    private struct Request: Sendable {
        let work: @Sendable (PostgresConnection, Logger) async throws -> any Sendable
        /// A request in two steps (`write(deciding:then:)`): its reads and decision, which may
        /// fail on their own without having written anything, and its writes. It runs without
        /// a savepoint; whatever its writes throw sends the batch round again with savepoints.
        let decide: (@Sendable (PostgresConnection, Logger) async throws -> any Sendable)?
        let apply: (@Sendable (PostgresConnection, any Sendable, Logger) async throws -> any Sendable)?
        let continuation: CheckedContinuation<any Sendable, any Error>
    }

    /// COMMIT ended the transaction some other way (ROLLBACK: a statement was refused and the
    /// error did not reach the writer); nothing of the batch is stored.
    package struct TransactionRolledBack: Error, CustomStringConvertible {
        let tag: String
        package var description: String { "the transaction was not committed (the server answered COMMIT with \(tag))" }
    }

    /// A request's writes failed in a batch run without savepoints: the transaction is rolled
    /// back and the batch runs again, each request in its own savepoint.
    private struct NeedsSavepoints: Error {}

    /// What the writer has done since it started, for tests and benchmarks.
    package struct Statistics: Sendable, Equatable {
        package var batches = 0
        package var largestBatch = 0
        /// Batches run again with a savepoint per request after a two-step request's write
        /// (or a statement of its decision) was refused.
        package var savepointReruns = 0
    }

    private struct State: ~Copyable {
        var requests: [Request] = []
        var statistics = Statistics()
        /// Lanes waiting for requests.
        var waiting: [CheckedContinuation<Void, Never>] = []
        var stopped = false
    }

    private let database: PostgresDatabase
    private let state = Mutex(State())
    package let maxBatch: Int
    package let attempts: Int
    /// Transactions this node commits at once, each on its own connection: a batch spends
    /// most of its time waiting for round trips and the flush, so one lane leaves the server
    /// idle. Row locks keep concurrent lanes (like concurrent nodes) correct.
    package let lanes: Int

    package init(database: PostgresDatabase, maxBatch: Int = 256, attempts: Int = 8, lanes: Int = 4) {
        self.database = database
        self.maxBatch = max(1, maxBatch)
        self.attempts = max(1, attempts)
        self.lanes = max(1, lanes)
    }

    /// Runs `work` in the next batch and returns its result once the batch committed.
    package func write<T: Sendable>(
        _ work: @escaping @Sendable (PostgresConnection, Logger) async throws -> T
    ) async throws -> T {
        try await enqueue { continuation in Request(work: { try await work($0, $1) }, decide: nil, apply: nil, continuation: continuation) }
    }

    /// Runs a request of two steps in the next batch: `decide` reads (locking what it decides
    /// on) and decides, and may throw its own failure (InsufficientCredits, NotFound) but must
    /// write nothing; `apply` writes what was decided. Such a request needs no savepoint, which
    /// saves two round trips: its failure in `decide` left nothing to roll back, and a failure
    /// in `apply` (or a server error anywhere) rolls the batch back and runs it again with a
    /// savepoint per request. `decide` must let every server error through (a caught one
    /// would leave the transaction aborted with no savepoint to return to).
    package func write<Plan: Sendable, T: Sendable>(
        deciding decide: @escaping @Sendable (PostgresConnection, Logger) async throws -> Plan,
        then apply: @escaping @Sendable (PostgresConnection, Plan, Logger) async throws -> T
    ) async throws -> T {
        try await enqueue { continuation in
            Request(
                work: { connection, logger in try await apply(connection, try await decide(connection, logger), logger) },
                decide: { try await decide($0, $1) },
                apply: { connection, plan, logger in try await apply(connection, plan as! Plan, logger) },
                continuation: continuation)
        }
    }

    private func enqueue<T: Sendable>(
        _ make: @escaping (CheckedContinuation<any Sendable, any Error>) -> Request
    ) async throws -> T {
        let result = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<any Sendable, any Error>) in
            let request = make(continuation)
            let (rejected, wake) = state.withLock { state -> (Bool, CheckedContinuation<Void, Never>?) in
                if state.stopped { return (true, nil) }
                state.requests.append(request)
                return (false, state.waiting.popLast())
            }
            if rejected { continuation.resume(throwing: EngineError(.unavailable("vectortd is shutting down"))) }
            wake?.resume()
        }
        return result as! T
    }

    /// Commits batches on `lanes` lanes until `stop()`, then answers what is queued and returns.
    package func run() async {
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<lanes {
                group.addTask {
                    while let batch = await self.nextBatch() {
                        await self.commit(batch)
                    }
                }
            }
        }
    }

    package var statistics: Statistics { state.withLock { $0.statistics } }

    /// Requests waiting for a lane.
    package var queued: Int { state.withLock { $0.requests.count } }

    package func stop() {
        let waiting = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.stopped = true
            defer { state.waiting = [] }
            return state.waiting
        }
        for lane in waiting { lane.resume() }
    }

    private func nextBatch() async -> [Request]? {
        while true {
            let taken = state.withLock { state -> (batch: [Request], done: Bool) in
                let count = min(state.requests.count, maxBatch)
                if count == 0 { return ([], state.stopped) }
                let batch = Array(state.requests.prefix(count))
                state.requests.removeFirst(count)
                state.statistics.batches += 1
                state.statistics.largestBatch = max(state.statistics.largestBatch, count)
                return (batch, false)
            }
            if !taken.batch.isEmpty { return taken.batch }
            if taken.done { return nil }
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = state.withLock { state -> Bool in
                    if !state.requests.isEmpty || state.stopped { return true }
                    state.waiting.append(continuation)
                    return false
                }
                if now { continuation.resume() }
            }
        }
    }

    private func commit(_ batch: [Request]) async {
        let logger = database.logger
        var attempt = 0
        var savepoints = false
        while true {
            attempt += 1
            do {
                let outcomes = try await database.client.withConnection { [savepoints] connection in
                    try await Self.transaction(batch, on: connection, savepoints: savepoints, logger: logger)
                }
                for (request, outcome) in zip(batch, outcomes) { request.continuation.resume(with: outcome) }
                return
            } catch is NeedsSavepoints {
                savepoints = true
                attempt -= 1
                state.withLock { $0.statistics.savepointReruns += 1 }
            } catch where PostgresState.isRetryable(error) && attempt < attempts {
                // Another node's transaction won: back off a little, by a random amount so the
                // two do not meet again in step, and run the whole batch again.
                try? await Task.sleep(for: .milliseconds(Int.random(in: 1...(5 * attempt))))
            } catch {
                for request in batch { request.continuation.resume(throwing: error) }
                return
            }
        }
    }

    /// One transaction: a savepoint per request (two-step requests need none unless
    /// `savepoints`); the outcomes, once COMMIT returned. Any error outside a request's own
    /// failure leaves the connection rolled back.
    private static func transaction(
        _ batch: [Request], on connection: PostgresConnection, savepoints: Bool, logger: Logger
    ) async throws -> [Result<any Sendable, any Error>] {
        func run(_ sql: String) async throws {
            _ = try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger).collect()
        }
        // PostgreSQL answers COMMIT of a transaction a refused statement aborted with ROLLBACK,
        // not an error: a batch is acknowledged only on a COMMIT that committed.
        func commit() async throws {
            let result: EventLoopFuture<PostgresQueryResult> = connection.query(PostgresQuery(unsafeSQL: "COMMIT"), logger: logger)
            let tag = try await result.get().metadata.command
            guard tag == "COMMIT" else { throw TransactionRolledBack(tag: tag) }
        }
        try await run("BEGIN ISOLATION LEVEL READ COMMITTED")
        // A batch of one needs no savepoint: its failure is the transaction's.
        if batch.count == 1 {
            let outcome: Result<any Sendable, any Error>
            do {
                outcome = .success(try await batch[0].work(connection, logger))
            } catch where isRequestFailure(error) {
                try await run("ROLLBACK")
                return [.failure(error)]
            } catch {
                _ = try? await run("ROLLBACK")
                throw error
            }
            do {
                try await commit()
            } catch {
                _ = try? await run("ROLLBACK")
                throw error
            }
            return [outcome]
        }
        do {
            var outcomes: [Result<any Sendable, any Error>] = []
            outcomes.reserveCapacity(batch.count)
            for request in batch {
                if !savepoints, let decide = request.decide, let apply = request.apply {
                    let plan: any Sendable
                    do {
                        plan = try await decide(connection, logger)
                    } catch where PostgresState.isRetryable(error) {
                        throw error
                    } catch where !(error is PSQLError) {
                        // Its own failure, decided before it wrote anything.
                        outcomes.append(.failure(error))
                        continue
                    } catch {
                        // The server refused a statement: the transaction is aborted.
                        throw NeedsSavepoints()
                    }
                    do {
                        outcomes.append(.success(try await apply(connection, plan, logger)))
                    } catch where PostgresState.isRetryable(error) {
                        throw error
                    } catch {
                        throw NeedsSavepoints()
                    }
                    continue
                }
                try await run("SAVEPOINT request")
                do {
                    let value = try await request.work(connection, logger)
                    try await run("RELEASE SAVEPOINT request")
                    outcomes.append(.success(value))
                } catch where isRequestFailure(error) {
                    try await run("ROLLBACK TO SAVEPOINT request")
                    try await run("RELEASE SAVEPOINT request")
                    outcomes.append(.failure(error))
                }
            }
            try await commit()
            return outcomes
        } catch {
            _ = try? await run("ROLLBACK")
            throw error
        }
    }

    /// The request's own failure, rolled back to its savepoint: what it threw itself
    /// (InsufficientCredits, NotFound…) or a statement the server refused (a constraint).
    /// A retryable server error, or a client error (a lost connection), ends the batch.
    private static func isRequestFailure(_ error: any Error) -> Bool {
        if PostgresState.isRetryable(error) { return false }
        guard let error = error as? PSQLError else { return true }
        return error.serverInfo?[.sqlState] != nil && !PostgresState.isRetryable(error)
    }
}
