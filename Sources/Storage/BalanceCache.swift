package import Foundation
package import GRDB
package import Protocol
import Synchronization
import VectortCore

/// A user's balance rows as committed: the raw balance of each bucket, the monthly bucket's
/// expiry and the credits held. What a reader sees is computed from them at read time, so
/// monthly credits stop being spendable the moment they expire, cached or not.
package struct BalanceRows: Sendable, Equatable {
    package var buckets: [CreditBucket: Int] = [:]
    package var monthlyExpiresAt: String?
    package var held = 0

    /// The committed rows of `user`; `held` stays 0 unless `withHeld`.
    package static func load(_ db: GRDB.Database, user: String, withHeld: Bool = true) throws -> BalanceRows {
        var rows = BalanceRows()
        for row in try Row.fetchAll(
            db.cachedStatement(sql: "SELECT bucket, balance, expires_at FROM credit_balances WHERE user_id = ?"),
            arguments: [user])
        {
            rows.add(bucket: row[0], balance: row[1], expiresAt: row[2])
        }
        guard withHeld else { return rows }
        rows.held =
            try Int.fetchOne(
                db.cachedStatement(
                    sql: "SELECT COALESCE(SUM(amount), 0) FROM credit_holds WHERE user_id = ? AND status = 'held'"),
                arguments: [user]) ?? 0
        return rows
    }

    /// One stored balance row; a bucket name this version does not know is skipped.
    package mutating func add(bucket name: String, balance: Int, expiresAt: String?) {
        guard let bucket = CreditBucket(rawValue: name) else { return }
        buckets[bucket] = balance
        if bucket == .monthly { monthlyExpiresAt = expiresAt }
    }

    /// Credits that may be spent at `stamp`: expired monthly credits are not, even before the sweep.
    package func spendable(at stamp: String) -> [CreditBucket: Int] {
        var result: [CreditBucket: Int] = [:]
        for (bucket, balance) in buckets {
            if bucket == .monthly, let expires = monthlyExpiresAt, expires <= stamp { continue }
            // A bucket is below zero only when a refund or dispute took back credits already
            // spent; it shows, and counts against the total.
            result[bucket] = balance
        }
        return result
    }

    package func view(user: String, now: Date) -> CreditBalance {
        let available = spendable(at: Timestamps.string(now))
        var perBucket: [String: Int] = [:]
        for bucket in CreditBucket.allCases { perBucket[bucket.rawValue] = available[bucket] ?? 0 }
        return CreditBalance(
            user: user, total: perBucket.values.reduce(0, +), buckets: perBucket, held: held,
            monthlyExpiresAt: (available[.monthly] ?? 0) > 0 ? monthlyExpiresAt : nil)
    }
}

/// Committed balances in memory, so that `GetBalance` answers without a database read.
///
/// Invariant: an entry, when present, equals the user's committed rows. The ledger writer keeps
/// it: temporary triggers on its connection note each user a batch touched; inside the batch it
/// reloads the rows of those that are cached (or being loaded) and, after the commit returns and
/// before any reply of the batch is sent, publishes them and drops the other touched users, so
/// a caller reads its own writes. Entries come from reads: a reader that misses loads the rows
/// itself and keeps them only if no commit touched the user while it was reading, which the
/// writer tells it by marking the pending load.
public final class BalanceCache: Sendable {
    private struct State {
        var entries: [String: BalanceRows] = [:]
        /// Users being loaded by readers; `true` once a commit touched the user meanwhile.
        var loading: [String: (readers: Int, stale: Bool)] = [:]
    }

    private let state = Mutex(State())
    private let enabled = Atomic(true)
    /// Entries kept at most; beyond it an arbitrary one leaves (an entry is only a shortcut).
    package let capacity: Int

    package init(capacity: Int = 200_000) {
        self.capacity = max(1, capacity)
    }

    package var isEnabled: Bool { enabled.load(ordering: .relaxed) }

    /// From now on every read loads and nothing is kept.
    package func disable() {
        enabled.store(false, ordering: .relaxed)
        state.withLock { $0.entries.removeAll() }
    }

    /// The rows of `user` when cached.
    package func cached(_ user: String) -> BalanceRows? {
        state.withLock { $0.entries[user] }
    }

    /// Reads through the cache: on a miss, `load` reads the committed rows, which are kept
    /// unless a commit touched the user during the load.
    package func rows(_ user: String, load: () async throws -> BalanceRows) async throws -> BalanceRows {
        guard isEnabled else { return try await load() }
        if let hit = cached(user) { return hit }
        state.withLock { $0.loading[user, default: (0, false)].readers += 1 }
        let loaded: BalanceRows
        do {
            loaded = try await load()
        } catch {
            _ = state.withLock { Self.finishLoad(&$0, user) }
            throw error
        }
        state.withLock { state in
            let stale = Self.finishLoad(&state, user)
            if !stale && state.entries[user] == nil && isEnabled { Self.insert(&state, user, loaded, capacity: capacity) }
        }
        return loaded
    }

    /// Called by the writer after a commit returned: `touched` are the users the batch changed,
    /// `fresh` the rows it reloaded for those that were cached or being loaded. A touched user
    /// without fresh rows leaves the cache; a load in progress for any touched user is stale.
    func publish(_ changes: BatchChanges) {
        guard !changes.touched.isEmpty else { return }
        state.withLock { state in
            for user in changes.touched {
                if state.loading[user] != nil { state.loading[user]!.stale = true }
                if let rows = changes.fresh[user] {
                    if state.entries[user] != nil {
                        state.entries[user] = rows
                    } else {
                        Self.insert(&state, user, rows, capacity: capacity)
                    }
                } else {
                    state.entries[user] = nil
                }
            }
        }
    }

    /// The users among `users` whose rows the writer should reload: cached or being loaded.
    /// Others are left to the next reader, which loads them after this commit.
    func wanted(_ users: [String]) -> [String] {
        state.withLock { state in users.filter { state.entries[$0] != nil || state.loading[$0] != nil } }
    }

    package var count: Int { state.withLock { $0.entries.count } }

    @discardableResult
    private static func finishLoad(_ state: inout State, _ user: String) -> Bool {
        guard var pending = state.loading[user] else { return true }
        pending.readers -= 1
        state.loading[user] = pending.readers > 0 ? pending : nil
        return pending.stale
    }

    private static func insert(_ state: inout State, _ user: String, _ rows: BalanceRows, capacity: Int) {
        if state.entries.count >= capacity, let victim = state.entries.keys.first {
            state.entries[victim] = nil
        }
        state.entries[user] = rows
    }

    // MARK: The writer's side

    /// Temporary (per-connection) table and triggers that note every user whose balance rows or
    /// holds a write changed. They live on the writer's connection only; rolled-back writes
    /// roll their notes back with them. (Not `INSERT OR IGNORE`: inside a trigger the outer
    /// statement's conflict policy, an upsert's here, would override it.)
    static let trackingSQL =
        "CREATE TEMP TABLE IF NOT EXISTS balance_touched(user_id TEXT PRIMARY KEY) WITHOUT ROWID;\n"
        + [("balance", "credit_balances"), ("hold", "credit_holds")].flatMap { name, table in
            ["INSERT", "UPDATE"].map { event in
                """
                CREATE TEMP TRIGGER IF NOT EXISTS balance_touched_\(name)_\(event.lowercased()) AFTER \(event) ON main.\(table)
                    BEGIN INSERT INTO balance_touched(user_id) SELECT NEW.user_id WHERE NOT EXISTS
                        (SELECT 1 FROM balance_touched WHERE user_id = NEW.user_id); END;
                """
            }
        }.joined(separator: "\n")

    /// What a batch changed, as the writer hands it from the transaction to `publish`.
    struct BatchChanges {
        /// Every user the batch touched.
        var touched: [String] = []
        /// The reloaded rows of those the cache wanted.
        var fresh: [String: BalanceRows] = [:]
    }

    /// Inside the batch's transaction, after its last request: the users the batch touched, and
    /// the committed-to-be rows of those the cache wants. Empties the notes for the next batch.
    func collectTouched(_ db: GRDB.Database) throws -> BatchChanges {
        let users = try String.fetchAll(db.cachedStatement(sql: "SELECT user_id FROM temp.balance_touched"))
        guard !users.isEmpty else { return BatchChanges() }
        var fresh: [String: BalanceRows] = [:]
        for user in wanted(users) { fresh[user] = try BalanceRows.load(db, user: user) }
        try db.cachedStatement(sql: "DELETE FROM temp.balance_touched").execute()
        return BatchChanges(touched: users, fresh: fresh)
    }
}
