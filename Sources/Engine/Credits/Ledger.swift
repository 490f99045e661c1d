public import Foundation
package import GRDB
public import Protocol
import VectortCore
import Generation
package import Storage

/// The credit ledger: an append-only journal of entries with per-bucket balances cached in the
/// same transaction. Every write goes through the `LedgerWriter` (group commit, savepoint per
/// request); reads go to the pool's readers.
public struct Ledger: Sendable {
    package let writer: LedgerWriter
    package let pool: DatabasePool
    public let packages: [CreditPackage]
    let now: @Sendable () -> Date

    package init(
        writer: LedgerWriter, pool: DatabasePool, packages: [CreditPackage] = CreditRules.defaultPackages,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.writer = writer
        self.pool = pool
        self.packages = packages
        self.now = now
    }

    // MARK: Reads

    /// Answered from the writer's cache of committed balances; a miss reads the database.
    public func balance(user: String) async throws -> CreditBalance {
        let now = now()
        let pool = pool
        let rows = try await writer.balances.rows(user) {
            try await pool.read { db in
                try Users.requireExists(db, user)
                return try BalanceRows.load(db, user: user)
            }
        }
        return rows.view(user: user, now: now)
    }

    public func history(user: String, limit: Int = 50, after: String? = nil) async throws -> CreditHistory {
        guard (1...500).contains(limit) else { throw EngineError.invalid("limit", "limit must be 1 to 500") }
        var cursor: Int64?
        if let after {
            guard let value = Int64(after), value > 0 else {
                throw EngineError.invalid("after", "after must be a next_after value from an earlier page")
            }
            cursor = value
        }
        let start = cursor ?? Int64.max
        return try await pool.read { db in
            try Users.requireExists(db, user)
            let rows = try Row.fetchAll(db.cachedStatement(sql: """
                    SELECT id, bucket, amount, kind, reference, created_at FROM credit_entries
                    WHERE user_id = ? AND id < ? ORDER BY id DESC LIMIT ?
                    """), arguments: [user, start, limit + 1])
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
    public func verify() async throws -> CreditVerification {
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

    public func grant(
        user: String, amount: Int, bucket: CreditBucket = .topup, reason: String, expiresAt: Date? = nil,
        idempotencyKey: String? = nil
    ) async throws -> CreditGrant {
        guard amount > 0 else { throw EngineError.invalid("amount", "amount must be a positive number of credits") }
        guard amount <= 1_000_000_000 else { throw EngineError.invalid("amount", "amount is too large") }
        let reason = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !reason.isEmpty, reason.count <= 500 else {
            throw EngineError.invalid("reason", "reason must be 1 to 500 characters")
        }
        let now = now()
        let expiry: Date? = bucket == .monthly ? (expiresAt ?? now.addingTimeInterval(30 * 86400)) : nil
        if let expiry, expiry <= now {
            throw EngineError.invalid("expires_at", "expires_at must be in the future")
        }
        // Times are stored as RFC 3339 text and compared as text: a five-digit year would sort
        // before every four-digit one and read as long expired.
        if let expiry, expiry >= Date(timeIntervalSince1970: 253_402_300_800) {
            throw EngineError.invalid("expires_at", "expires_at must be before the year 10000")
        }
        if bucket != .monthly, expiresAt != nil {
            throw EngineError.invalid("expires_at", "only monthly credits expire")
        }
        struct Fingerprint: Encodable {
            var user: String
            var amount: Int
            var bucket: String
            var reason: String
            var expiresAt: String?
        }
        let fingerprint = Fingerprint(
            user: user, amount: amount, bucket: bucket.rawValue, reason: reason,
            expiresAt: expiresAt.map(Timestamps.string))
        return try await writer.write { db in
            try Idempotency.run(
                db, scope: "Credits.Grant", key: idempotencyKey, request: fingerprint, now: now
            ) {
                try Users.requireActive(db, user)
                // The new period's expiry replaces the bucket's: credits of an ended period that
                // the sweep has not reached yet must leave first, or they would live on.
                if bucket == .monthly { try Self.expireMonthly(db, user: user, now: now) }
                let entry = try Self.append(
                    db, user: user, bucket: bucket, amount: amount, kind: "grant", reference: "grant:\(reason)", now: now,
                    expiresAt: expiry)
                return CreditGrant(entry: entry, balance: try Self.balance(db, user: user, now: now))
            }
        }
    }

    /// Reserves `amount` credits for `reference`, or fails with InsufficientCredits and no effect.
    public func hold(user: String, amount: Int, reference: String, idempotencyKey: String? = nil) async throws
        -> CreditHold
    {
        guard amount > 0 else { throw EngineError.invalid("amount", "amount must be a positive number of credits") }
        guard !reference.isEmpty, reference.utf8.count <= 255 else {
            throw EngineError.invalid("reference", "reference must be 1 to 255 bytes")
        }
        let now = now()
        struct Fingerprint: Encodable { var user: String; var amount: Int; var reference: String }
        let fingerprint = Fingerprint(user: user, amount: amount, reference: reference)
        return try await writer.write { db in
            try Idempotency.run(db, scope: "Credits.Hold", key: idempotencyKey, request: fingerprint, now: now) {
                try Self.hold(db, user: user, amount: amount, reference: reference, now: now)
            }
        }
    }

    /// Turns a hold into usage of `charged` credits (default: all of it); the rest goes back.
    public func settle(hold id: String, charged: Int? = nil) async throws -> CreditHold {
        let now = now()
        return try await writer.write { db in try Self.finish(db, hold: id, settleFor: charged, now: now) }
    }

    /// Gives a hold back in full.
    public func release(hold id: String) async throws -> CreditHold {
        let now = now()
        return try await writer.write { db in try Self.finish(db, hold: id, settleFor: nil, release: true, now: now) }
    }

    /// Releases holds older than `maxAge` seconds by the ledger's clock.
    @discardableResult
    public func releaseHolds(olderThanSeconds maxAge: Double) async throws -> Int {
        try await releaseStaleHolds(olderThan: now().addingTimeInterval(-maxAge))
    }

    /// Releases holds older than `olderThan` (all open holds when nil, as after a crash).
    @discardableResult
    public func releaseStaleHolds(olderThan: Date? = nil) async throws -> Int {
        let now = now()
        let cutoff = Timestamps.string(olderThan ?? now.addingTimeInterval(1))
        return try await writer.write { db in
            let ids = try String.fetchAll(db.cachedStatement(sql: "SELECT id FROM credit_holds WHERE status = 'held' AND created_at < ?"), arguments: [cutoff])
            for id in ids { _ = try Self.finish(db, hold: id, settleFor: nil, release: true, now: now) }
            return ids.count
        }
    }

    /// Moves expired monthly credits out through `expiry` entries.
    @discardableResult
    public func expireMonthly() async throws -> Int {
        let now = now()
        return try await writer.write { db in try Self.expireMonthly(db, user: nil, now: now) }
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
        try Users.requireExists(db, user)
        return try BalanceRows.load(db, user: user).view(user: user, now: now)
    }

    static func hold(_ db: GRDB.Database, user: String, amount: Int, reference: String, now: Date) throws -> CreditHold {
        try Users.requireActive(db, user)
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
        for bucket in CreditRules.spendingOrder {
            if let taken = allocations[bucket] {
                try insertEntry(db, user: user, bucket: bucket, amount: -taken, kind: "hold", reference: id, stamp: created)
                try moveBalance(db, user: user, bucket: bucket, by: -taken)
            }
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
        let state = CreditHoldState(rawValue: hold.status.rawValue)!
        let event: CreditHoldState.Event = release ? .release : .settle(charged: charged, held: hold.amount)
        switch state.transition(on: event, previouslyCharged: hold.charged) {
        case .invalidAmount(let reason):
            throw EngineError.invalid("amount", reason)
        case .refuse(let reason):
            throw EngineError.conflict(reason)
        case .repeatOfFinalState:
            return hold
        case .move(let next):
            // Give every allocation back, then charge the usage in spending order. Each entry
            // is journaled; the cached balance moves once per bucket by the net of them.
            let stamp = Timestamps.string(now)
            var net: [CreditBucket: Int] = [:]
            for bucket in CreditRules.spendingOrder.reversed() {
                if let taken = hold.allocations[bucket.rawValue], taken > 0 {
                    try insertEntry(db, user: hold.user, bucket: bucket, amount: taken, kind: "release", reference: id, stamp: stamp)
                    net[bucket, default: 0] += taken
                }
            }
            var finalCharge: Int?
            if next == .settled {
                let amount = charged ?? hold.amount
                finalCharge = amount
                var remaining = amount
                for bucket in CreditRules.spendingOrder where remaining > 0 {
                    let take = min(remaining, hold.allocations[bucket.rawValue] ?? 0)
                    if take > 0 {
                        try insertEntry(
                            db, user: hold.user, bucket: bucket, amount: -take, kind: "usage", reference: hold.reference,
                            stamp: stamp)
                        net[bucket, default: 0] -= take
                        remaining -= take
                    }
                }
            }
            for (bucket, delta) in net where delta != 0 {
                try moveBalance(db, user: hold.user, bucket: bucket, by: delta)
            }
            try db.cachedStatement(sql: "UPDATE credit_holds SET status = ?, charged = ?, finished_at = ? WHERE id = ?").execute(arguments: [next.rawValue, finalCharge, stamp, id])
            var finished = hold
            finished.status = next == .settled ? .settled : .released
            finished.charged = finalCharge
            return finished
        }
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
