public import Foundation
public import Protocol
import VectortCore
package import Storage

/// The credit ledger: an append-only journal of entries with per-bucket balances moved in the
/// same transaction. Validates what it is asked and hands each read and each write, one
/// transaction, to the storage's `LedgerRepository`.
public struct Ledger: Sendable {
    package let repository: any LedgerRepository
    public let packages: [CreditPackage]
    let now: @Sendable () -> Date

    package init(
        repository: any LedgerRepository, packages: [CreditPackage] = CreditRules.defaultPackages,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.repository = repository
        self.packages = packages
        self.now = now
    }

    // MARK: Reads

    /// Answered from the committed balances (the SQLite backend keeps them in memory).
    public func balance(user: String) async throws -> CreditBalance {
        try await repository.balance(user: user, now: now())
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
        return try await repository.history(user: user, limit: limit, before: cursor)
    }

    /// Recomputes every balance from the journal and reports each difference.
    public func verify() async throws -> CreditVerification {
        try await repository.verify()
    }

    // MARK: Writes

    public func grant(
        user: String, amount: Int, bucket: CreditBucket = .topup, reason: String, expiresAt: Date? = nil,
        idempotencyKey: String? = nil
    ) async throws -> CreditGrant {
        try EngineError.refuseNUL(["user": user, "reason": reason, "idempotency_key": idempotencyKey])
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
        return try await repository.grant(
            CreditGrantRequest(
                user: user, amount: amount, bucket: bucket, reason: reason, expiresAt: expiresAt, expiry: expiry,
                idempotencyKey: idempotencyKey),
            now: now)
    }

    /// Reserves `amount` credits for `reference`, or fails with InsufficientCredits and no effect.
    public func hold(user: String, amount: Int, reference: String, idempotencyKey: String? = nil) async throws
        -> CreditHold
    {
        try EngineError.refuseNUL(["user": user, "reference": reference, "idempotency_key": idempotencyKey])
        guard amount > 0 else { throw EngineError.invalid("amount", "amount must be a positive number of credits") }
        guard !reference.isEmpty, reference.utf8.count <= 255 else {
            throw EngineError.invalid("reference", "reference must be 1 to 255 bytes")
        }
        return try await repository.hold(
            user: user, amount: amount, reference: reference, idempotencyKey: idempotencyKey, now: now())
    }

    /// Turns a hold into usage of `charged` credits (default: all of it); the rest goes back.
    public func settle(hold id: String, charged: Int? = nil) async throws -> CreditHold {
        try await repository.settle(hold: id, charged: charged, now: now())
    }

    /// Gives a hold back in full.
    public func release(hold id: String) async throws -> CreditHold {
        try await repository.release(hold: id, now: now())
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
        return try await repository.releaseHolds(createdBefore: olderThan ?? now.addingTimeInterval(1), now: now)
    }

    /// Forgets idempotency keys older than `days` days (`idempotency.retention_days`): a call
    /// repeated with such a key after that runs again. Returns how many keys went.
    @discardableResult
    public func pruneIdempotencyKeys(olderThanDays days: Int) async throws -> Int {
        try await repository.pruneIdempotencyKeys(before: now().addingTimeInterval(-Double(days) * 86_400))
    }

    /// Moves expired monthly credits out through `expiry` entries.
    @discardableResult
    public func expireMonthly() async throws -> Int {
        try await repository.expireMonthly(now: now())
    }
}
