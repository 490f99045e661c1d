import Logging
import PostgresNIO

/// The four statements of every hold and finish, prepared once per connection: the server
/// parses and plans each once and then only binds and runs it. Sent as plain queries, their
/// parse and plan (a locking join; three data-modifying CTEs over arrays) cost the server more
/// than running them (`vectort-bench ledger-postgres`: 2,509 → 3,519 ops/s).
///
/// postgres-nio remembers a failed preparation for the connection's life and answers every
/// later use with it. So these run only where the transaction is sound (no request of the
/// PostgreSQL backend runs a statement after one the server refused: each catch rethrows, and
/// the writer rolls back to the request's savepoint, or the whole batch, before the next
/// request). vectortd sets no statement or lock timeout, so a preparation in a sound
/// transaction fails only when an operator cancels the backend at that moment or DDL on the
/// ledger's tables runs beside a live fleet; `preparedStatement` then logs it. Named statements
/// need a session: behind PgBouncer in transaction mode, set its `max_prepared_statements`.
enum LedgerStatements {
    /// A hold's deciding read: the user's status (share-locked: a disable waits) and balance
    /// rows (locked for update), in one round trip.
    struct LockUser: PostgresPreparedStatement {
        static let name = "vectortd_hold_lock_user"
        static let sql = """
            SELECT u.status, b.bucket, b.balance, b.expires_at FROM users u
            LEFT JOIN LATERAL (
                SELECT bucket, balance, expires_at FROM credit_balances WHERE user_id = u.id ORDER BY bucket FOR UPDATE
            ) b ON true
            WHERE u.id = $1 FOR SHARE OF u
            """
        static let bindingDataTypes: [PostgresDataType] = [.text]
        typealias Row = (String, String?, Int?, String?)

        var user: String

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 1)
            bindings.append(user)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
    }

    /// A hold, its entries and the balance moves in one statement.
    struct InsertHold: PostgresPreparedStatement {
        static let name = "vectortd_hold_insert"
        static let sql = """
            WITH hold AS (
                INSERT INTO credit_holds(id, user_id, amount, reference, status, from_monthly, from_free, from_topup, created_at,
                    node)
                VALUES ($1, $2, $3, $4, 'held', $5, $6, $7, $8, $9)
            ), entries AS (
                INSERT INTO credit_entries(user_id, bucket, amount, kind, reference, created_at)
                SELECT $2, m.bucket, m.amount, m.kind, m.reference, $8
                FROM unnest($10::text[], $11::bigint[], $12::text[], $13::text[])
                    WITH ORDINALITY AS m(bucket, amount, kind, reference, n)
                ORDER BY m.n
            )
            UPDATE credit_balances b SET balance = b.balance + d.delta
            FROM unnest($14::text[], $15::bigint[]) AS d(bucket, delta)
            WHERE b.user_id = $2 AND b.bucket = d.bucket
            """
        static let bindingDataTypes: [PostgresDataType] = [
            .text, .text, .int8, .text, .int8, .int8, .int8, .text, .text, .textArray, .int8Array, .textArray, .textArray,
            .textArray, .int8Array,
        ]
        typealias Row = ()

        var id: String
        var user: String
        var amount: Int
        var reference: String
        var fromMonthly: Int
        var fromFree: Int
        var fromTopup: Int
        var createdAt: String
        var node: String?
        var moves: Moves

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 15)
            bindings.append(id)
            bindings.append(user)
            bindings.append(amount)
            bindings.append(reference)
            bindings.append(fromMonthly)
            bindings.append(fromFree)
            bindings.append(fromTopup)
            bindings.append(createdAt)
            bindings.append(node)
            moves.bind(into: &bindings)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> Row {}
    }

    /// A finish's deciding read: the hold, locked.
    struct LockHold: PostgresPreparedStatement {
        static let name = "vectortd_finish_lock_hold"
        static let sql = """
            SELECT user_id, amount, charged, reference, status, from_monthly, from_free, from_topup, created_at
            FROM credit_holds WHERE id = $1 FOR UPDATE
            """
        static let bindingDataTypes: [PostgresDataType] = [.text]
        typealias Row = (String, Int, Int?, String, String, Int, Int, Int, String)

        var hold: String

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 1)
            bindings.append(hold)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
    }

    /// A finish's entries, the balance moves and the hold's new state in one statement.
    struct FinishHold: PostgresPreparedStatement {
        static let name = "vectortd_finish_update"
        static let sql = """
            WITH entries AS (
                INSERT INTO credit_entries(user_id, bucket, amount, kind, reference, created_at)
                SELECT $1, m.bucket, m.amount, m.kind, m.reference, $2
                FROM unnest($6::text[], $7::bigint[], $8::text[], $9::text[])
                    WITH ORDINALITY AS m(bucket, amount, kind, reference, n)
                ORDER BY m.n
            ), balances AS (
                UPDATE credit_balances b SET balance = b.balance + d.delta
                FROM unnest($10::text[], $11::bigint[]) AS d(bucket, delta)
                WHERE b.user_id = $1 AND b.bucket = d.bucket
            )
            UPDATE credit_holds SET status = $3, charged = $4, finished_at = $2
            WHERE id = $5
            """
        static let bindingDataTypes: [PostgresDataType] = [
            .text, .text, .text, .int8, .text, .textArray, .int8Array, .textArray, .textArray, .textArray, .int8Array,
        ]
        typealias Row = ()

        var user: String
        var stamp: String
        var status: String
        var charged: Int?
        var hold: String
        var moves: Moves

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 11)
            bindings.append(user)
            bindings.append(stamp)
            bindings.append(status)
            bindings.append(charged)
            bindings.append(hold)
            moves.bind(into: &bindings)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> Row {}
    }
}

extension PostgresConnection {
    /// Runs `body`, which uses a prepared statement, and says so in the log when it failed in
    /// a way a preparation can (not the data, class 22; a constraint, 23; a serialization
    /// failure or deadlock, 40): postgres-nio would answer every later use of the statement on
    /// this connection with the same error. (Closing the connection from inside the pool's
    /// lease hung the pool; the connection is recycled when it idles or breaks.)
    func preparedStatement<T>(logger: Logger, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as PSQLError {
            let state = error.serverInfo?[.sqlState] ?? ""
            if !state.hasPrefix("22") && !state.hasPrefix("23") && !state.hasPrefix("40") {
                logger.error(
                    "a prepared ledger statement failed; if ledger writes keep failing with this error, restart vectortd",
                    metadata: ["sqlstate": "\(state)", "error": "\(error.serverInfo?[.message] ?? "\(error)")"])
            }
            throw error
        }
    }
}

extension Moves {
    /// The entries' columns, then the net moves', as six array parameters.
    func bind(into bindings: inout PostgresBindings) {
        bindings.append(buckets)
        bindings.append(amounts)
        bindings.append(kinds)
        bindings.append(references)
        bindings.append(netBuckets)
        bindings.append(netDeltas)
    }
}
