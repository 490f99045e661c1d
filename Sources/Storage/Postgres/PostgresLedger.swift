package import Foundation
import Logging
import PostgresNIO
package import Protocol
import VectortCore

/// The credit ledger on PostgreSQL: the same journal, balances and holds as the SQLite backend,
/// with the same entries for the same calls (`LedgerPlan`), decided by the database. A hold
/// locks the user's row (shared: a disable waits) and their balance rows (exclusive) before it
/// decides, a settle locks its hold, so concurrent calls on one user from any number of nodes
/// take turns on those rows and never spend the same credit twice. Writes go through the
/// node's `PostgresWriter` (group commit, savepoint per request).
package struct PostgresLedger: LedgerRepository {
    package let writer: PostgresWriter
    package let database: PostgresDatabase
    /// The node whose holds this ledger takes (and recovers).
    package let node: PostgresNode

    package init(writer: PostgresWriter, database: PostgresDatabase, node: PostgresNode) {
        self.writer = writer
        self.database = database
        self.node = node
    }

    // MARK: Reads

    package func balance(user: String, now: Date) async throws -> CreditBalance {
        let logger = database.logger
        return try await database.client.withConnection { connection in
            try await Self.requireExists(connection, user, logger: logger)
            return try await Self.rows(connection, user: user, lock: false, logger: logger).view(user: user, now: now)
        }
    }

    package func history(user: String, limit: Int, before: Int64?) async throws -> CreditHistory {
        let logger = database.logger
        return try await database.client.withConnection { connection in
            try await Self.requireExists(connection, user, logger: logger)
            var entries: [CreditEntry] = []
            let rows = try await connection.query(
                """
                SELECT id, bucket, amount, kind, reference, created_at FROM credit_entries
                WHERE user_id = \(user) AND id < \(before ?? Int64.max) ORDER BY id DESC LIMIT \(limit + 1)
                """, logger: logger)
            for try await (id, bucket, amount, kind, reference, createdAt) in rows.decode(
                (Int64, String, Int, String, String?, String).self)
            {
                entries.append(
                    CreditEntry(
                        id: id, user: user, bucket: CreditBucket(rawValue: bucket) ?? .topup, amount: amount, kind: kind,
                        reference: reference, createdAt: createdAt))
            }
            let page = Array(entries.prefix(limit))
            let next = entries.count > limit ? page.last.map { String($0.id) } : nil
            return CreditHistory(user: user, entries: page, nextAfter: next)
        }
    }

    package func verify() async throws -> CreditVerification {
        let logger = database.logger
        return try await database.client.withConnection { connection in
            // One snapshot for both reads, so a write between them is not a mismatch.
            try await connection.withTransaction(logger: logger) { connection in
                _ = try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ", logger: logger).collect()
                var sums: [String: Int] = [:]
                var entries = 0
                for try await (user, bucket, total, count) in try await connection.query(
                    "SELECT user_id, bucket, SUM(amount)::BIGINT, COUNT(*)::BIGINT FROM credit_entries GROUP BY user_id, bucket",
                    logger: logger
                ).decode((String, String, Int, Int).self) {
                    sums["\(user)|\(bucket)"] = total
                    entries += count
                }
                var mismatches: [CreditVerification.Mismatch] = []
                var seen = Set<String>()
                var checked = 0
                for try await (user, bucket, balance) in try await connection.query(
                    "SELECT user_id, bucket, balance FROM credit_balances", logger: logger
                ).decode((String, String, Int).self) {
                    checked += 1
                    let key = "\(user)|\(bucket)"
                    seen.insert(key)
                    let sum = sums[key] ?? 0
                    if balance != sum {
                        mismatches.append(.init(user: user, bucket: bucket, cached: balance, computed: sum))
                    }
                }
                for (key, sum) in sums where !seen.contains(key) {
                    let parts = key.split(separator: "|", maxSplits: 1).map(String.init)
                    mismatches.append(.init(user: parts[0], bucket: parts[1], cached: 0, computed: sum))
                }
                return CreditVerification(balancesChecked: checked, entriesChecked: entries, mismatches: mismatches)
            }
        }
    }

    // MARK: Writes

    package func grant(_ grant: CreditGrantRequest, now: Date) async throws -> CreditGrant {
        let fingerprint = grant.fingerprint
        return try await writer.write { connection, logger in
            try await PostgresIdempotency.run(
                connection, scope: "Credits.Grant", key: grant.idempotencyKey, request: fingerprint, now: now, logger: logger
            ) {
                try await Self.requireActive(connection, grant.user, logger: logger)
                _ = try await Self.rows(connection, user: grant.user, lock: true, withHeld: false, logger: logger)
                if grant.bucket == .monthly { try await Self.endMonthlyPeriod(connection, user: grant.user, now: now, logger: logger) }
                let entry = try await Self.append(
                    connection, user: grant.user,
                    LedgerPlan.Entry(bucket: grant.bucket, amount: grant.amount, kind: "grant", reference: "grant:\(grant.reason)"),
                    now: now, expiresAt: grant.expiry, logger: logger)
                let rows = try await Self.rows(connection, user: grant.user, lock: false, logger: logger)
                return CreditGrant(entry: entry, balance: rows.view(user: grant.user, now: now))
            }
        }
    }

    package func hold(user: String, amount: Int, reference: String, idempotencyKey: String?, now: Date) async throws
        -> CreditHold
    {
        struct Fingerprint: Encodable { var user: String; var amount: Int; var reference: String }
        let fingerprint = Fingerprint(user: user, amount: amount, reference: reference)
        guard let idempotencyKey else {
            // Decided on locked rows, then written in one statement: no savepoint needed.
            let node = node.id
            return try await writer.write(
                deciding: { connection, logger in
                    try await Self.decideHold(
                        connection, user: user, amount: amount, reference: reference, node: node, now: now, logger: logger)
                }, then: { connection, plan, logger in try await Self.applyHold(connection, plan, logger: logger) })
        }
        return try await writer.write { connection, logger in
            try await PostgresIdempotency.run(
                connection, scope: "Credits.Hold", key: idempotencyKey, request: fingerprint, now: now, logger: logger
            ) {
                try await Self.hold(
                    connection, user: user, amount: amount, reference: reference, node: node.id, now: now, logger: logger)
            }
        }
    }

    package func settle(hold id: String, charged: Int?, now: Date) async throws -> CreditHold {
        try await writer.write(
            deciding: { connection, logger in
                try await Self.decideFinish(connection, hold: id, settleFor: charged, release: false, now: now, logger: logger)
            }, then: { connection, decision, logger in try await Self.applyFinish(connection, decision, logger: logger) })
    }

    package func release(hold id: String, now: Date) async throws -> CreditHold {
        try await writer.write(
            deciding: { connection, logger in
                try await Self.decideFinish(connection, hold: id, settleFor: nil, release: true, now: now, logger: logger)
            }, then: { connection, decision, logger in try await Self.applyFinish(connection, decision, logger: logger) })
    }

    /// Releases this node's open holds created before `cutoff` (at start: what its previous
    /// process left; later: holds older than the sweep's age), and every open hold of the nodes
    /// whose heartbeat expired, claimed by this transaction, whose running generations fail here
    /// too. A live node's holds are its own.
    package func releaseHolds(createdBefore cutoff: Date, now: Date) async throws -> Int {
        let stamp = Timestamps.string(cutoff)
        let node = node
        return try await writer.write { connection, logger in
            let dead = try await node.claimDead(connection, logger: logger)
            try await PostgresGenerations.failRunning(connection, of: dead, now: now, logger: logger)
            // This node's (and unowned) holds older than the cutoff; a dead node's, all of them.
            var ids: [String] = []
            for try await id in try await connection.query(
                """
                SELECT id FROM credit_holds WHERE status = 'held'
                    AND (((node = \(node.id) OR node IS NULL) AND created_at < \(stamp)) OR node = ANY(\(dead))) ORDER BY id
                """, logger: logger
            ).decode(String.self) {
                ids.append(id)
            }
            for id in ids {
                _ = try await Self.finish(connection, hold: id, settleFor: nil, release: true, now: now, logger: logger)
            }
            return ids.count
        }
    }

    package func expireMonthly(now: Date) async throws -> Int {
        let stamp = Timestamps.string(now)
        return try await writer.write { connection, logger in
            var expired: [(String, Int)] = []
            for try await row in try await connection.query(
                """
                SELECT user_id, balance FROM credit_balances
                WHERE bucket = 'monthly' AND balance > 0 AND expires_at IS NOT NULL AND expires_at <= \(stamp)
                ORDER BY user_id FOR UPDATE
                """, logger: logger
            ).decode((String, Int).self) {
                expired.append(row)
            }
            for (user, balance) in expired {
                _ = try await Self.append(
                    connection, user: user, LedgerPlan.Entry(bucket: .monthly, amount: -balance, kind: "expiry", reference: "expired"),
                    now: now, logger: logger)
            }
            return expired.count
        }
    }

    /// The keys of `idempotency`; the keys generations, payments and deployments keep move to
    /// this backend with those records.
    package func pruneIdempotencyKeys(before cutoff: Date) async throws -> Int {
        let stamp = Timestamps.string(cutoff)
        return try await writer.write { connection, logger in
            var pruned = 0
            for try await _ in try await connection.query(
                "DELETE FROM idempotency WHERE created_at < \(stamp) RETURNING 1", logger: logger
            ) {
                pruned += 1
            }
            return pruned
        }
    }

    // MARK: Inside a write transaction

    static func requireExists(_ connection: PostgresConnection, _ user: String, logger: Logger) async throws {
        let rows = try await connection.query("SELECT 1 FROM users WHERE id = \(user)", logger: logger).collect()
        guard !rows.isEmpty else { throw EngineError.notFound("user", user) }
    }

    /// The user must exist and be active; their row stays share-locked to the end of the
    /// transaction, so a disable commits before or after, never during.
    static func requireActive(_ connection: PostgresConnection, _ user: String, logger: Logger) async throws {
        var status: String?
        for try await value in try await connection.query(
            "SELECT status FROM users WHERE id = \(user) FOR SHARE", logger: logger
        ).decode(String.self) {
            status = value
        }
        guard let status else { throw EngineError.notFound("user", user) }
        guard status == "active" else { throw EngineError.conflict("user \(user) is disabled") }
    }

    /// The user's balance rows (locked for update when `lock`) and the credits they hold.
    static func rows(
        _ connection: PostgresConnection, user: String, lock: Bool, withHeld: Bool = true, logger: Logger
    ) async throws -> BalanceRows {
        var rows = BalanceRows()
        let query: PostgresQuery =
            lock
            ? "SELECT bucket, balance, expires_at FROM credit_balances WHERE user_id = \(user) ORDER BY bucket FOR UPDATE"
            : "SELECT bucket, balance, expires_at FROM credit_balances WHERE user_id = \(user)"
        for try await (bucket, balance, expiresAt) in try await connection.query(query, logger: logger).decode(
            (String, Int, String?).self)
        {
            rows.add(bucket: bucket, balance: balance, expiresAt: expiresAt)
        }
        guard withHeld else { return rows }
        for try await held in try await connection.query(
            "SELECT COALESCE(SUM(amount), 0)::BIGINT FROM credit_holds WHERE user_id = \(user) AND status = 'held'",
            logger: logger
        ).decode(Int.self) {
            rows.held = held
        }
        return rows
    }

    /// A hold decided on the locked rows, to be written by `applyHold`.
    struct HoldPlan: Sendable {
        var hold: CreditHold
        var node: String?
        var moves: Moves
    }

    static func hold(
        _ connection: PostgresConnection, user: String, amount: Int, reference: String, node: String?, now: Date, logger: Logger
    ) async throws -> CreditHold {
        let plan = try await decideHold(
            connection, user: user, amount: amount, reference: reference, node: node, now: now, logger: logger)
        return try await applyHold(connection, plan, logger: logger)
    }

    /// Locks the user's status and balance rows and decides the hold; writes nothing.
    static func decideHold(
        _ connection: PostgresConnection, user: String, amount: Int, reference: String, node: String?, now: Date, logger: Logger
    ) async throws -> HoldPlan {
        let created = Timestamps.string(now)
        // The user's status (share-locked: a disable waits) and balance rows (locked for
        // update) in one round trip.
        var status: String?
        var balances = BalanceRows()
        try await connection.preparedStatement(logger: logger) {
            for try await (userStatus, bucket, balance, expiresAt) in try await connection.execute(
                LedgerStatements.LockUser(user: user), logger: logger)
            {
                status = userStatus
                if let bucket, let balance { balances.add(bucket: bucket, balance: balance, expiresAt: expiresAt) }
            }
        }
        guard let status else { throw EngineError.notFound("user", user) }
        guard status == "active" else { throw EngineError.conflict("user \(user) is disabled") }
        let available = balances.spendable(at: created)
        guard let allocations = CreditRules.allocate(amount, from: available) else {
            throw EngineError.insufficientCredits(required: amount, available: available.values.reduce(0, +))
        }
        let id = Identifiers.sortable("h")
        let entries = LedgerPlan.holdEntries(allocations, hold: id)
        let hold = CreditHold(
            id: id, user: user, amount: amount, charged: nil, reference: reference, status: .held,
            allocations: Dictionary(uniqueKeysWithValues: allocations.map { ($0.key.rawValue, $0.value) }), createdAt: created)
        return HoldPlan(hold: hold, node: node, moves: Moves(entries, net: entries.map { ($0.bucket, $0.amount) }))
    }

    /// Writes a decided hold: the hold, its entries and the balance moves in one statement.
    static func applyHold(_ connection: PostgresConnection, _ plan: HoldPlan, logger: Logger) async throws -> CreditHold {
        let hold = plan.hold
        let taken = { (bucket: CreditBucket) in hold.allocations[bucket.rawValue] ?? 0 }
        _ = try await connection.preparedStatement(logger: logger) {
            try await connection.execute(
                LedgerStatements.InsertHold(
                    id: hold.id, user: hold.user, amount: hold.amount, reference: hold.reference, fromMonthly: taken(.monthly),
                    fromFree: taken(.free), fromTopup: taken(.topup), createdAt: hold.createdAt, node: plan.node, moves: plan.moves),
                logger: logger)
        }
        return hold
    }

    /// A finish decided on the locked hold, to be written by `applyFinish`; nil `plan` when
    /// the call repeats the hold's final state (nothing to write).
    struct FinishDecision: Sendable {
        var hold: CreditHold
        var plan: LedgerPlan.Finish?
        var stamp: String
    }

    static func finish(
        _ connection: PostgresConnection, hold id: String, settleFor charged: Int?, release: Bool, now: Date, logger: Logger
    ) async throws -> CreditHold {
        let decision = try await decideFinish(connection, hold: id, settleFor: charged, release: release, now: now, logger: logger)
        return try await applyFinish(connection, decision, logger: logger)
    }

    /// Locks the hold and decides its settle or release; writes nothing.
    static func decideFinish(
        _ connection: PostgresConnection, hold id: String, settleFor charged: Int?, release: Bool, now: Date, logger: Logger
    ) async throws -> FinishDecision {
        var loaded: CreditHold?
        try await connection.preparedStatement(logger: logger) {
            for try await (user, amount, previouslyCharged, reference, status, monthly, free, topup, createdAt)
                in try await connection.execute(LedgerStatements.LockHold(hold: id), logger: logger)
            {
                var allocations: [String: Int] = [:]
                for (bucket, taken) in [(CreditBucket.monthly, monthly), (.free, free), (.topup, topup)] where taken > 0 {
                    allocations[bucket.rawValue] = taken
                }
                loaded = CreditHold(
                    id: id, user: user, amount: amount, charged: previouslyCharged, reference: reference,
                    status: CreditHold.Status(rawValue: status) ?? .held, allocations: allocations, createdAt: createdAt)
            }
        }
        guard let hold = loaded else { throw EngineError.notFound("hold", id) }
        let plan = try LedgerPlan.finish(hold, id: id, settleFor: charged, release: release)
        return FinishDecision(hold: hold, plan: plan, stamp: Timestamps.string(now))
    }

    /// Writes a decided finish: the entries, the balance moves and the hold's new state in one
    /// statement.
    static func applyFinish(_ connection: PostgresConnection, _ decision: FinishDecision, logger: Logger) async throws -> CreditHold {
        guard let plan = decision.plan else { return decision.hold }
        let hold = decision.hold, stamp = decision.stamp
        let moves = Moves(
            plan.entries,
            net: plan.net.sorted { $0.key.rawValue < $1.key.rawValue }.filter { $0.value != 0 }.map { ($0.key, $0.value) })
        _ = try await connection.preparedStatement(logger: logger) {
            try await connection.execute(
                LedgerStatements.FinishHold(
                    user: hold.user, stamp: stamp, status: plan.status.rawValue, charged: plan.charged, hold: hold.id, moves: moves),
                logger: logger)
        }
        return plan.result
    }

    /// Expires the user's whole monthly remainder (a new monthly grant ends the period).
    static func endMonthlyPeriod(_ connection: PostgresConnection, user: String, now: Date, logger: Logger) async throws {
        var left = 0
        for try await balance in try await connection.query(
            "SELECT balance FROM credit_balances WHERE user_id = \(user) AND bucket = 'monthly' AND balance > 0", logger: logger
        ).decode(Int.self) {
            left = balance
        }
        guard left > 0 else { return }
        _ = try await append(
            connection, user: user, LedgerPlan.Entry(bucket: .monthly, amount: -left, kind: "expiry", reference: "period ended"),
            now: now, logger: logger)
    }

    /// Appends one entry and moves the balance with it; returns the entry's id.
    static func append(
        _ connection: PostgresConnection, user: String, _ entry: LedgerPlan.Entry, now: Date, expiresAt: Date? = nil,
        idempotencyKey: String? = nil, logger: Logger
    ) async throws -> Int64 {
        let id = try await insertEntry(
            connection, user: user, entry, stamp: Timestamps.string(now), idempotencyKey: idempotencyKey, logger: logger)
        try await moveBalance(connection, user: user, bucket: entry.bucket, by: entry.amount, expiresAt: expiresAt, logger: logger)
        return id
    }

    static func insertEntry(
        _ connection: PostgresConnection, user: String, _ entry: LedgerPlan.Entry, stamp: String,
        idempotencyKey: String? = nil, logger: Logger
    ) async throws -> Int64 {
        var id: Int64 = 0
        for try await value in try await connection.query(
            """
            INSERT INTO credit_entries(user_id, bucket, amount, kind, reference, idempotency_key, created_at)
            VALUES (\(user), \(entry.bucket.rawValue), \(entry.amount), \(entry.kind), \(entry.reference), \(idempotencyKey),
                \(stamp)) RETURNING id
            """, logger: logger
        ).decode(Int64.self) {
            id = value
        }
        return id
    }

    static func moveBalance(
        _ connection: PostgresConnection, user: String, bucket: CreditBucket, by delta: Int, expiresAt: Date?, logger: Logger
    ) async throws {
        _ = try await connection.query(
            """
            INSERT INTO credit_balances(user_id, bucket, balance, expires_at)
            VALUES (\(user), \(bucket.rawValue), \(delta), \(expiresAt.map(Timestamps.string)))
            ON CONFLICT (user_id, bucket) DO UPDATE SET
                balance = credit_balances.balance + excluded.balance,
                expires_at = COALESCE(excluded.expires_at, credit_balances.expires_at)
            """, logger: logger
        ).collect()
    }
}

/// A write's journal entries and balance moves as the parallel arrays `unnest` reads. The
/// balance rows they move exist: a hold takes only from buckets with a balance, and its finish
/// gives back to the same ones.
struct Moves {
    var buckets: [String] = []
    var amounts: [Int] = []
    var kinds: [String] = []
    var references: [String] = []
    var netBuckets: [String] = []
    var netDeltas: [Int] = []

    init(_ entries: [LedgerPlan.Entry], net: [(CreditBucket, Int)]) {
        for entry in entries {
            buckets.append(entry.bucket.rawValue)
            amounts.append(entry.amount)
            kinds.append(entry.kind)
            references.append(entry.reference ?? "")
        }
        for (bucket, delta) in net {
            netBuckets.append(bucket.rawValue)
            netDeltas.append(delta)
        }
    }
}

/// "The same idempotency key twice has exactly one effect and returns the first result", across
/// nodes: the key is claimed before the work (`ON CONFLICT DO NOTHING` waits for a concurrent
/// claim by another transaction to commit or roll back), and the result is stored in the same
/// transaction as the effect.
enum PostgresIdempotency {
    static func run<T: Codable & Sendable>(
        _ connection: PostgresConnection, scope: String, key: String?, request: some Encodable, now: Date, logger: Logger,
        _ work: () async throws -> T
    ) async throws -> T {
        guard let key else { return try await work() }
        guard !key.isEmpty, key.utf8.count <= 255 else {
            throw EngineError.invalid("idempotency_key", "idempotency_key must be 1 to 255 bytes")
        }
        let fingerprint = String(decoding: try WireCoding.encoder.encode(request), as: UTF8.self)
        let claimed = try await connection.query(
            """
            INSERT INTO idempotency(scope, key, request, result, created_at)
            VALUES (\(scope), \(key), \(fingerprint), '', \(Timestamps.string(now)))
            ON CONFLICT (scope, key) DO NOTHING RETURNING 1
            """, logger: logger
        ).collect()
        if claimed.isEmpty {
            var stored: (String, String)?
            for try await row in try await connection.query(
                "SELECT request, result FROM idempotency WHERE scope = \(scope) AND key = \(key)", logger: logger
            ).decode((String, String).self) {
                stored = row
            }
            guard let stored else { throw EngineError.conflict("idempotency_key \(key) is being used by another request") }
            guard stored.0 == fingerprint else {
                throw EngineError.conflict("idempotency_key \(key) was already used with other parameters")
            }
            return try WireCoding.decoder.decode(T.self, from: Data(stored.1.utf8))
        }
        let result = try await work()
        let encoded = String(decoding: try WireCoding.encoder.encode(result), as: UTF8.self)
        _ = try await connection.query(
            "UPDATE idempotency SET result = \(encoded) WHERE scope = \(scope) AND key = \(key)", logger: logger
        ).collect()
        return result
    }
}
