import Foundation
import GRDB
import Protocol
import VectortCore

/// Payments and Stripe events in SQLite. An event's record and its ledger entries commit in
/// one transaction of the ledger writer; the event id is the primary key, so a repeat that
/// races the first delivery finds it recorded and changes nothing.
struct SQLitePayments: PaymentRepository {
    let writer: LedgerWriter
    let pool: DatabasePool

    func create(_ request: PaymentCreateRequest, now: Date) async throws -> (payment: Payment, existing: Bool) {
        try await writer.write { db in
            try SQLiteUsers.requireActive(db, request.user)
            if let key = request.idempotencyKey,
                let row = try Row.fetchOne(
                    db.cachedStatement(sql: "SELECT * FROM payments WHERE user_id = ? AND idempotency_key = ?"),
                    arguments: [request.user, key])
            {
                guard row["package"] == request.package.id, row["success_url"] == request.successURL,
                    row["cancel_url"] == request.cancelURL
                else { throw EngineError.conflict("idempotency_key \(key) was already used with other parameters") }
                return (Self.payment(row), true)
            }
            let id = Identifiers.sortable("pay", now: now)
            try db.cachedStatement(sql: """
                    INSERT INTO payments(id, user_id, package, credits, amount_minor, currency, status, idempotency_key,
                        success_url, cancel_url, created_at, expires_at)
                    VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?)
                    """).execute(arguments: [
                    id, request.user, request.package.id, request.package.credits, request.package.price.amountMinor,
                    request.package.price.currency, request.idempotencyKey, request.successURL, request.cancelURL,
                    Timestamps.string(now), Timestamps.string(request.expiresAt),
                ])
            return (try Self.load(db, id), false)
        }
    }

    func attachSession(payment: String, session: String, url: String?) async throws -> Payment {
        try await writer.write { db in
            try db.cachedStatement(sql: """
                    UPDATE payments SET checkout_session = ?, checkout_url = COALESCE(?, checkout_url)
                    WHERE id = ? AND (checkout_session IS NULL OR checkout_session = ?)
                    """).execute(arguments: [session, url, payment, session])
            return try Self.load(db, payment)
        }
    }

    func failCreation(payment: String, now: Date) async throws {
        try await writer.write { db in
            try db.cachedStatement(sql: "UPDATE payments SET status = 'failed' WHERE id = ? AND status = 'pending' AND checkout_session IS NULL")
                .execute(arguments: [payment])
        }
    }

    func apply(_ event: StripeEventInput, now: Date) async throws -> StripeEventResult {
        // Encoded before the transaction: the writer's thread is the ledger's bottleneck.
        let fact = String(decoding: try WireCoding.encoder.encode(event.fact), as: UTF8.self)
        let body = Data(event.body)
        let received = Timestamps.string(now)
        return try await writer.write { db in
            try db.cachedStatement(sql: """
                    INSERT INTO stripe_events(id, type, created, received_at, source, outcome, payment_intent, fact, body)
                    VALUES (?, ?, ?, ?, ?, 'unmatched', ?, ?, ?) ON CONFLICT(id) DO NOTHING
                    """).execute(arguments: [
                    event.id, event.type, event.created, received, event.source, event.fact.paymentIntent, fact, body,
                ])
            guard db.changesCount > 0 else { return StripeEventResult(duplicate: true, outcome: "duplicate") }
            return try Self.applyFact(db, event: event.id, fact: event.fact, now: now)
        }
    }

    func list(user: String?, status: PaymentStatus?, limit: Int, after: String?) async throws -> PaymentList {
        try await pool.read { db in
            if let user { try SQLiteUsers.requireExists(db, user) }
            var conditions: [String] = []
            var arguments: [any DatabaseValueConvertible] = []
            if let user {
                conditions.append("user_id = ?")
                arguments.append(user)
            }
            if let status {
                conditions.append("status = ?")
                arguments.append(status.rawValue)
            }
            if let after {
                conditions.append("id < ?")
                arguments.append(after)
            }
            let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            let rows = try Row.fetchAll(
                db, sql: "SELECT * FROM payments \(filter) ORDER BY id DESC LIMIT ?",
                arguments: StatementArguments(arguments + [limit + 1]))
            let payments = rows.prefix(limit).map(Self.payment)
            return PaymentList(payments: payments, nextAfter: rows.count > limit ? payments.last?.id : nil)
        }
    }

    func get(_ id: String, user: String?) async throws -> PaymentDetail {
        try await pool.read { db in
            let payment = try Self.load(db, id)
            if let user, payment.user != user { throw EngineError.notFound("payment", id) }
            let events = try Row.fetchAll(
                db.cachedStatement(sql: "SELECT id, type, created, received_at, source, outcome, payment_id FROM stripe_events WHERE payment_id = ? ORDER BY created, received_at"),
                arguments: [id]
            ).map { row in
                PaymentEventRecord(
                    id: row["id"], type: row["type"],
                    created: Timestamps.string(Date(timeIntervalSince1970: TimeInterval(row["created"] as Int))),
                    receivedAt: row["received_at"], source: row["source"], outcome: row["outcome"], payment: row["payment_id"])
            }
            let entries = try Row.fetchAll(
                db.cachedStatement(sql: "SELECT id, user_id, bucket, amount, kind, reference, created_at FROM credit_entries WHERE reference = ? ORDER BY id"),
                arguments: ["payment:\(id)"]
            ).map { row in
                CreditEntry(
                    id: row["id"], user: row["user_id"], bucket: CreditBucket(rawValue: row["bucket"]) ?? .topup,
                    amount: row["amount"], kind: row["kind"], reference: row["reference"], createdAt: row["created_at"])
            }
            return PaymentDetail(payment: payment, events: events, entries: entries)
        }
    }

    func expirePending(now: Date) async throws -> [Payment] {
        try await writer.write { db in
            let ids = try String.fetchAll(
                db.cachedStatement(sql: "UPDATE payments SET status = 'expired' WHERE status = 'pending' AND awaiting_payment = 0 AND expires_at < ? RETURNING id"),
                arguments: [Timestamps.string(now)])
            return try ids.map { try Self.load(db, $0) }
        }
    }

    /// One daemon owns the file: it always reconciles.
    func claimReconciler(for seconds: Double) async throws -> Bool { true }

    func latestEventCreated() async throws -> Int? {
        try await pool.read { db in try Int.fetchOne(db, sql: "SELECT MAX(created) FROM stripe_events") }
    }

    // MARK: Inside a transaction

    /// The payment a fact names: by our id, else the session, else the PaymentIntent.
    static func find(_ db: GRDB.Database, _ fact: StripeFact) throws -> Row? {
        if let payment = fact.payment,
            let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM payments WHERE id = ?"), arguments: [payment])
        {
            return row
        }
        if let session = fact.session,
            let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM payments WHERE checkout_session = ?"), arguments: [session])
        {
            return row
        }
        if let intent = fact.paymentIntent {
            return try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM payments WHERE payment_intent = ?"), arguments: [intent])
        }
        return nil
    }

    static func applyFact(_ db: GRDB.Database, event: String, fact: StripeFact, now: Date) throws -> StripeEventResult {
        guard fact.kind != .none else {
            try setOutcome(db, event: event, outcome: "ignored", payment: nil)
            return StripeEventResult(duplicate: false, outcome: "ignored")
        }
        guard let row = try find(db, fact) else { return StripeEventResult(duplicate: false, outcome: "unmatched") }
        let id: String = row["id"]
        let user: String = row["user_id"]
        var state = PaymentState(
            status: PaymentStatus(rawValue: row["status"]) ?? .pending, credits: row["credits"],
            price: Money(amountMinor: row["amount_minor"], currency: row["currency"]), granted: row["credits_granted"],
            reversed: row["credits_reversed"], amountRefunded: row["amount_refunded"], disputeReversed: row["dispute_reversed"])
        let before = state
        let plan = PaymentPlan(fact: fact, state: state, awaiting: row["awaiting_payment"], payment: id)
        state = plan.state
        let awaiting = plan.awaiting
        let outcome = plan.outcome
        let moved = plan.moved
        for entry in plan.entries {
            try SQLiteLedger.append(
                db, user: user, bucket: entry.bucket, amount: entry.amount, kind: entry.kind, reference: entry.reference, now: now)
        }
        let learnedIntent = (row["payment_intent"] as String?) == nil ? fact.paymentIntent : nil
        if state != before || awaiting != row["awaiting_payment"] || learnedIntent != nil {
            try db.cachedStatement(sql: """
                    UPDATE payments SET status = ?, credits_granted = ?, credits_reversed = ?, amount_refunded = ?,
                        dispute_reversed = ?, awaiting_payment = ?, payment_intent = COALESCE(payment_intent, ?),
                        checkout_session = COALESCE(checkout_session, ?),
                        paid_at = CASE WHEN ? AND paid_at IS NULL THEN ? ELSE paid_at END
                    WHERE id = ?
                    """).execute(arguments: [
                    state.status.rawValue, state.granted, state.reversed, state.amountRefunded, state.disputeReversed, awaiting,
                    fact.paymentIntent, fact.session, before.granted == 0 && state.granted > 0, Timestamps.string(now), id,
                ])
        }
        try setOutcome(db, event: event, outcome: outcome.rawValue, payment: id)
        var result = StripeEventResult(duplicate: false, outcome: outcome.rawValue, payment: id, user: user, credits: moved)
        // Facts about the charge that came before its PaymentIntent was known apply now, in order.
        if let intent = learnedIntent {
            let waiting = try Row.fetchAll(
                db.cachedStatement(sql: "SELECT id, fact FROM stripe_events WHERE outcome = 'unmatched' AND payment_intent = ? AND id != ? ORDER BY created, received_at"),
                arguments: [intent, event])
            for pending in waiting {
                guard let earlier = try? WireCoding.decoder.decode(StripeFact.self, from: Data((pending["fact"] as String).utf8))
                else { continue }
                result.credits += try applyFact(db, event: pending["id"], fact: earlier, now: now).credits
            }
        }
        return result
    }

    static func setOutcome(_ db: GRDB.Database, event: String, outcome: String, payment: String?) throws {
        try db.cachedStatement(sql: "UPDATE stripe_events SET outcome = ?, payment_id = ? WHERE id = ?")
            .execute(arguments: [outcome, payment, event])
    }

    static func load(_ db: GRDB.Database, _ id: String) throws -> Payment {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM payments WHERE id = ?"), arguments: [id]) else {
            throw EngineError.notFound("payment", id)
        }
        return payment(row)
    }

    static func payment(_ row: Row) -> Payment {
        Payment(
            id: row["id"], user: row["user_id"], package: row["package"], credits: row["credits"],
            price: Money(amountMinor: row["amount_minor"], currency: row["currency"]),
            status: PaymentStatus(rawValue: row["status"]) ?? .pending, checkoutSession: row["checkout_session"],
            checkoutURL: row["checkout_url"], createdAt: row["created_at"], paidAt: row["paid_at"],
            expiresAt: row["expires_at"], creditsGranted: row["credits_granted"], creditsReversed: row["credits_reversed"],
            amountRefunded: row["amount_refunded"])
    }
}
