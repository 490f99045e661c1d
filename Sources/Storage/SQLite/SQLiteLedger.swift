import Foundation
import GRDB
import Protocol
import VectortCore

/// The credit ledger in SQLite: an append-only journal of entries with per-bucket balances
/// moved in the same transaction. Every write goes through the `LedgerWriter` (group commit,
/// savepoint per request); reads go to the pool's readers, balances through the writer's cache.
struct SQLiteLedger: LedgerRepository {
    let writer: LedgerWriter
    let pool: DatabasePool

    // MARK: Reads

    func balance(user: String, now: Date) async throws -> CreditBalance {
        let pool = pool
        let rows = try await writer.balances.rows(user) {
            try await pool.read { db in
                try SQLiteUsers.requireExists(db, user)
                return try BalanceRows.load(db, user: user)
            }
        }
        return rows.view(user: user, now: now)
    }

    func history(user: String, limit: Int, before: Int64?) async throws -> CreditHistory {
        try await pool.read { db in
            try SQLiteUsers.requireExists(db, user)
            let rows = try Row.fetchAll(db.cachedStatement(sql: """
                    SELECT id, bucket, amount, kind, reference, created_at FROM credit_entries
                    WHERE user_id = ? AND id < ? ORDER BY id DESC LIMIT ?
                    """), arguments: [user, before ?? Int64.max, limit + 1])
            let entries = rows.prefix(limit).map { row in
                CreditEntry(
                    id: row["id"], user: user, bucket: CreditBucket(rawValue: row["bucket"]) ?? .topup,
                    amount: row["amount"], kind: row["kind"], reference: row["reference"], createdAt: row["created_at"])
            }
            let next = rows.count > limit ? entries.last.map { String($0.id) } : nil
            return CreditHistory(user: user, entries: Array(entries), nextAfter: next)
        }
    }

    /// Recomputes every balance from the journal and reports each difference.
    func verify() async throws -> CreditVerification {
        try await pool.read { db in
            let computed = try Row.fetchAll(
                db, sql: "SELECT user_id, bucket, SUM(amount) AS total, COUNT(*) AS n FROM credit_entries GROUP BY user_id, bucket")
            let cached = try Row.fetchAll(db, sql: "SELECT user_id, bucket, balance FROM credit_balances")
            var sums: [String: Int] = [:]
            var entries = 0
            for row in computed {
                sums["\(row["user_id"] as String)|\(row["bucket"] as String)"] = row["total"]
                entries += row["n"] as Int
            }
            var mismatches: [CreditVerification.Mismatch] = []
            var seen = Set<String>()
            for row in cached {
                let key = "\(row["user_id"] as String)|\(row["bucket"] as String)"
                seen.insert(key)
                let balance: Int = row["balance"]
                let sum = sums[key] ?? 0
                if balance != sum {
                    mismatches.append(.init(user: row["user_id"], bucket: row["bucket"], cached: balance, computed: sum))
                }
            }
            for (key, sum) in sums where !seen.contains(key) {
                let parts = key.split(separator: "|", maxSplits: 1).map(String.init)
                mismatches.append(.init(user: parts[0], bucket: parts[1], cached: 0, computed: sum))
            }
            return CreditVerification(balancesChecked: cached.count, entriesChecked: entries, mismatches: mismatches)
        }
    }

    // MARK: Writes

    func grant(_ grant: CreditGrantRequest, now: Date) async throws -> CreditGrant {
        let fingerprint = grant.fingerprint
        return try await writer.write { db in
            try Idempotency.run(
                db, scope: "Credits.Grant", key: grant.idempotencyKey, request: fingerprint, now: now
            ) {
                try SQLiteUsers.requireActive(db, grant.user)
                // A monthly grant starts a new period: what is left of the previous one expires
                // now (no carry-over), whether its date has passed or not, so a renewal never
                // extends old credits and no period's credits outlive it.
                if grant.bucket == .monthly { try Self.endMonthlyPeriod(db, user: grant.user, now: now) }
                let entry = try Self.append(
                    db, user: grant.user, bucket: grant.bucket, amount: grant.amount, kind: "grant",
                    reference: "grant:\(grant.reason)", now: now, expiresAt: grant.expiry)
                return CreditGrant(entry: entry, balance: try Self.balance(db, user: grant.user, now: now))
            }
        }
    }

    func hold(user: String, amount: Int, reference: String, idempotencyKey: String?, now: Date) async throws
        -> CreditHold
    {
        struct Fingerprint: Encodable { var user: String; var amount: Int; var reference: String }
        let fingerprint = Fingerprint(user: user, amount: amount, reference: reference)
        return try await writer.write { db in
            try Idempotency.run(db, scope: "Credits.Hold", key: idempotencyKey, request: fingerprint, now: now) {
                try Self.hold(db, user: user, amount: amount, reference: reference, now: now)
            }
        }
    }

    func settle(hold id: String, charged: Int?, now: Date) async throws -> CreditHold {
        try await writer.write { db in try Self.finish(db, hold: id, settleFor: charged, now: now) }
    }

    func release(hold id: String, now: Date) async throws -> CreditHold {
        try await writer.write { db in try Self.finish(db, hold: id, settleFor: nil, release: true, now: now) }
    }

    func releaseHolds(createdBefore cutoff: Date, now: Date) async throws -> Int {
        let cutoff = Timestamps.string(cutoff)
        return try await writer.write { db in
            let ids = try String.fetchAll(db.cachedStatement(sql: "SELECT id FROM credit_holds WHERE status = 'held' AND created_at < ?"), arguments: [cutoff])
            for id in ids { _ = try Self.finish(db, hold: id, settleFor: nil, release: true, now: now) }
            return ids.count
        }
    }

    func expireMonthly(now: Date) async throws -> Int {
        try await writer.write { db in try Self.expireMonthly(db, user: nil, now: now) }
    }

    func pruneIdempotencyKeys(before cutoff: Date) async throws -> Int {
        let stamp = Timestamps.string(cutoff)
        return try await writer.write { db in
            var pruned = 0
            for sql in [
                "DELETE FROM idempotency WHERE created_at < ?",
                "UPDATE generations SET idempotency_key = NULL WHERE idempotency_key IS NOT NULL AND status <> 'running' AND started_at < ?",
                "UPDATE payments SET idempotency_key = NULL WHERE idempotency_key IS NOT NULL AND status <> 'pending' AND created_at < ?",
                "UPDATE deployments SET idempotency_key = NULL WHERE idempotency_key IS NOT NULL AND state IN ('live', 'failed', 'cancelled') AND created_at < ?",
            ] {
                try db.cachedStatement(sql: sql).execute(arguments: [stamp])
                pruned += db.changesCount
            }
            return pruned
        }
    }

    // MARK: Inside a write transaction

    /// Writes an `expiry` entry for every expired monthly balance (of `user`, or of everyone).
    @discardableResult
    static func expireMonthly(_ db: GRDB.Database, user: String?, now: Date) throws -> Int {
        let rows = try Row.fetchAll(db.cachedStatement(sql: """
                SELECT user_id, balance FROM credit_balances
                WHERE bucket = 'monthly' AND balance > 0 AND expires_at IS NOT NULL AND expires_at <= ?1
                  AND (?2 IS NULL OR user_id = ?2)
                """), arguments: [Timestamps.string(now), user])
        for row in rows {
            _ = try append(
                db, user: row["user_id"], bucket: .monthly, amount: -(row["balance"] as Int), kind: "expiry",
                reference: "expired", now: now)
        }
        return rows.count
    }

    /// Expires the user's whole monthly remainder (a new monthly grant ends the period).
    static func endMonthlyPeriod(_ db: GRDB.Database, user: String, now: Date) throws {
        let left = try Int.fetchOne(
            db.cachedStatement(sql: "SELECT balance FROM credit_balances WHERE user_id = ? AND bucket = 'monthly' AND balance > 0"),
            arguments: [user]) ?? 0
        guard left > 0 else { return }
        _ = try append(db, user: user, bucket: .monthly, amount: -left, kind: "expiry", reference: "period ended", now: now)
    }

    /// Appends one entry and moves the cached balance with it.
    @discardableResult
    static func append(
        _ db: GRDB.Database, user: String, bucket: CreditBucket, amount: Int, kind: String, reference: String?,
        now: Date, expiresAt: Date? = nil, idempotencyKey: String? = nil
    ) throws -> Int64 {
        let id = try insertEntry(
            db, user: user, bucket: bucket, amount: amount, kind: kind, reference: reference,
            stamp: Timestamps.string(now), idempotencyKey: idempotencyKey)
        try moveBalance(db, user: user, bucket: bucket, by: amount, expiresAt: expiresAt)
        return id
    }

    /// One journal entry; the caller moves the cached balance by the same amount in the same
    /// transaction (`moveBalance`), possibly netting several entries of one bucket first.
    @discardableResult
    static func insertEntry(
        _ db: GRDB.Database, user: String, bucket: CreditBucket, amount: Int, kind: String, reference: String?,
        stamp: String, idempotencyKey: String? = nil
    ) throws -> Int64 {
        try db.cachedStatement(sql: """
                INSERT INTO credit_entries(user_id, bucket, amount, kind, reference, idempotency_key, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """).execute(arguments: [user, bucket.rawValue, amount, kind, reference, idempotencyKey, stamp])
        return db.lastInsertedRowID
    }

    static func moveBalance(_ db: GRDB.Database, user: String, bucket: CreditBucket, by delta: Int, expiresAt: Date? = nil)
        throws
    {
        try db.cachedStatement(sql: """
                INSERT INTO credit_balances(user_id, bucket, balance, expires_at) VALUES (?, ?, ?, ?)
                ON CONFLICT(user_id, bucket) DO UPDATE SET
                    balance = balance + excluded.balance,
                    expires_at = COALESCE(excluded.expires_at, expires_at)
                """).execute(arguments: [user, bucket.rawValue, delta, expiresAt.map(Timestamps.string)])
    }

    static func balance(_ db: GRDB.Database, user: String, now: Date) throws -> CreditBalance {
        try SQLiteUsers.requireExists(db, user)
        return try BalanceRows.load(db, user: user).view(user: user, now: now)
    }

    static func hold(_ db: GRDB.Database, user: String, amount: Int, reference: String, now: Date) throws -> CreditHold {
        try SQLiteUsers.requireActive(db, user)
        let created = Timestamps.string(now)
        let available = try BalanceRows.load(db, user: user, withHeld: false).spendable(at: created)
        guard let allocations = CreditRules.allocate(amount, from: available) else {
            throw EngineError.insufficientCredits(required: amount, available: available.values.reduce(0, +))
        }
        let id = Identifiers.sortable("h")
        try db.cachedStatement(sql: """
                INSERT INTO credit_holds(id, user_id, amount, reference, status, from_monthly, from_free, from_topup, created_at)
                VALUES (?, ?, ?, ?, 'held', ?, ?, ?, ?)
                """).execute(arguments: [
                    id, user, amount, reference, allocations[.monthly] ?? 0, allocations[.free] ?? 0,
                    allocations[.topup] ?? 0, created,
                ])
        for entry in LedgerPlan.holdEntries(allocations, hold: id) {
            try insertEntry(
                db, user: user, bucket: entry.bucket, amount: entry.amount, kind: entry.kind, reference: entry.reference,
                stamp: created)
            try moveBalance(db, user: user, bucket: entry.bucket, by: entry.amount)
        }
        return CreditHold(
            id: id, user: user, amount: amount, charged: nil, reference: reference, status: .held,
            allocations: Dictionary(uniqueKeysWithValues: allocations.map { ($0.key.rawValue, $0.value) }),
            createdAt: created)
    }

    static func finish(
        _ db: GRDB.Database, hold id: String, settleFor charged: Int?, release: Bool = false, now: Date
    ) throws -> CreditHold {
        let hold = try loadHold(db, id)
        guard let plan = try LedgerPlan.finish(hold, id: id, settleFor: charged, release: release) else { return hold }
        let stamp = Timestamps.string(now)
        for entry in plan.entries {
            try insertEntry(
                db, user: hold.user, bucket: entry.bucket, amount: entry.amount, kind: entry.kind, reference: entry.reference,
                stamp: stamp)
        }
        for (bucket, delta) in plan.net where delta != 0 {
            try moveBalance(db, user: hold.user, bucket: bucket, by: delta)
        }
        try db.cachedStatement(sql: "UPDATE credit_holds SET status = ?, charged = ?, finished_at = ? WHERE id = ?").execute(arguments: [plan.status.rawValue, plan.charged, stamp, id])
        return plan.result
    }

    static func loadHold(_ db: GRDB.Database, _ id: String) throws -> CreditHold {
        guard
            let row = try Row.fetchOne(db.cachedStatement(sql: """
                    SELECT user_id, amount, charged, reference, status, from_monthly, from_free, from_topup, created_at
                    FROM credit_holds WHERE id = ?
                    """), arguments: [id])
        else { throw EngineError.notFound("hold", id) }
        var allocations: [String: Int] = [:]
        for (bucket, column) in [(CreditBucket.monthly, 5), (.free, 6), (.topup, 7)] {
            let taken: Int = row[column]
            if taken > 0 { allocations[bucket.rawValue] = taken }
        }
        return CreditHold(
            id: id, user: row[0], amount: row[1], charged: row[2], reference: row[3],
            status: CreditHold.Status(rawValue: row[4]) ?? .held, allocations: allocations, createdAt: row[8])
    }
}
