package import Foundation
import Logging
import NIOCore
import PostgresNIO
package import Protocol
import VectortCore

/// Payments and Stripe events on PostgreSQL: the same rules as `SQLitePayments`. A webhook may
/// reach any node; the event id decides once (the insert of a delivery another node is
/// recording waits for it and then finds it recorded). The payment an event moves is locked
/// while the event applies, so two events about one payment on two nodes apply in turn.
package struct PostgresPayments: PaymentRepository {
    package let writer: PostgresWriter
    package let database: PostgresDatabase
    package let node: PostgresNode

    package init(writer: PostgresWriter, database: PostgresDatabase, node: PostgresNode) {
        self.writer = writer
        self.database = database
        self.node = node
    }

    /// The reconciler's lease (`leases`, name `stripe-reconciler`): taken when free, expired or
    /// already this node's; another node's live lease means this node skips this round.
    package func claimReconciler(for seconds: Double) async throws -> Bool {
        let node = node.id
        return try await writer.write { connection, logger in
            try await connection.first(
                """
                INSERT INTO leases(name, node, until) VALUES ('stripe-reconciler', \(node), now() + make_interval(secs => \(seconds)))
                ON CONFLICT (name) DO UPDATE SET node = excluded.node, until = excluded.until
                WHERE leases.until < now() OR leases.node = excluded.node
                RETURNING 1
                """, as: Int32.self, logger) != nil
        }
    }

    typealias Row = (
        String, String, String, Int, Int, String, String, String?, String?, String, String?, String, Int, Int, Int,
        String?, Bool, Int?, String, String
    )

    static let columns = """
        SELECT id, user_id, package, credits, amount_minor, currency, status, checkout_session, checkout_url, created_at,
            paid_at, expires_at, credits_granted, credits_reversed, amount_refunded, payment_intent, awaiting_payment,
            dispute_reversed, success_url, cancel_url FROM payments
        """

    package func create(_ request: PaymentCreateRequest, now: Date) async throws -> (payment: Payment, existing: Bool) {
        try await writer.write { connection, logger in
            try await PostgresLedger.requireActive(connection, request.user, logger: logger)
            if let key = request.idempotencyKey,
                let row = try await Self.one(connection, " WHERE user_id = $1 AND idempotency_key = $2", request.user, key, logger: logger)
            {
                guard row.2 == request.package.id, row.18 == request.successURL, row.19 == request.cancelURL else {
                    throw EngineError.conflict("idempotency_key \(key) was already used with other parameters")
                }
                return (Self.payment(row), true)
            }
            let id = Identifiers.sortable("pay", now: now)
            do {
                try await connection.run(
                    """
                    INSERT INTO payments(id, user_id, package, credits, amount_minor, currency, status, idempotency_key,
                        success_url, cancel_url, created_at, expires_at)
                    VALUES (\(id), \(request.user), \(request.package.id), \(request.package.credits),
                        \(request.package.price.amountMinor), \(request.package.price.currency), 'pending', \(request.idempotencyKey),
                        \(request.successURL), \(request.cancelURL), \(Timestamps.string(now)), \(Timestamps.string(request.expiresAt)))
                    """, logger)
            } catch where PostgresState.isUniqueViolation(error) && request.idempotencyKey != nil {
                // Another node created this key's payment meanwhile: run again and answer it.
                throw PostgresState.RunAgain()
            }
            return (try await Self.load(connection, id, logger: logger), false)
        }
    }

    package func attachSession(payment: String, session: String, url: String?) async throws -> Payment {
        try await writer.write { connection, logger in
            try await connection.run(
                """
                UPDATE payments SET checkout_session = \(session), checkout_url = COALESCE(\(url), checkout_url)
                WHERE id = \(payment) AND (checkout_session IS NULL OR checkout_session = \(session))
                """, logger)
            return try await Self.load(connection, payment, logger: logger)
        }
    }

    package func failCreation(payment: String, now: Date) async throws {
        try await writer.write { connection, logger in
            try await connection.run(
                "UPDATE payments SET status = 'failed' WHERE id = \(payment) AND status = 'pending' AND checkout_session IS NULL",
                logger)
        }
    }

    package func apply(_ event: StripeEventInput, now: Date) async throws -> StripeEventResult {
        let fact = String(decoding: try WireCoding.encoder.encode(event.fact), as: UTF8.self)
        let body = ByteBuffer(bytes: event.body)
        let received = Timestamps.string(now)
        return try await writer.write { connection, logger in
            let recorded = try await connection.first(
                """
                INSERT INTO stripe_events(id, type, created, received_at, source, outcome, payment_intent, fact, body)
                VALUES (\(event.id), \(event.type), \(event.created), \(received), \(event.source), 'unmatched',
                    \(event.fact.paymentIntent), \(fact), \(body))
                ON CONFLICT (id) DO NOTHING RETURNING 1
                """, as: Int32.self, logger)
            guard recorded != nil else { return StripeEventResult(duplicate: true, outcome: "duplicate") }
            return try await Self.applyFact(connection, event: event.id, fact: event.fact, now: now, logger: logger)
        }
    }

    package func list(user: String?, status: PaymentStatus?, limit: Int, after: String?) async throws -> PaymentList {
        let logger = database.logger
        return try await database.client.withConnection { connection in
            if let user { try await PostgresLedger.requireExists(connection, user, logger: logger) }
            let query = try PostgresQuery(
                sql: Self.columns + """
                     WHERE ($1::text IS NULL OR user_id = $1) AND ($2::text IS NULL OR status = $2)
                        AND ($3::text IS NULL OR id < $3)
                    ORDER BY id DESC LIMIT $4
                    """, user, status?.rawValue, after, limit + 1)
            var payments: [Payment] = []
            for try await row in try await connection.query(query, logger: logger).decode(Row.self) {
                payments.append(Self.payment(row))
            }
            let page = Array(payments.prefix(limit))
            return PaymentList(payments: page, nextAfter: payments.count > limit ? page.last?.id : nil)
        }
    }

    package func get(_ id: String, user: String?) async throws -> PaymentDetail {
        let logger = database.logger
        return try await database.client.withConnection { connection in
            let payment = try await Self.load(connection, id, logger: logger)
            if let user, payment.user != user { throw EngineError.notFound("payment", id) }
            var events: [PaymentEventRecord] = []
            for try await (event, type, created, receivedAt, source, outcome, paymentID) in try await connection.query(
                """
                SELECT id, type, created, received_at, source, outcome, payment_id FROM stripe_events
                WHERE payment_id = \(id) ORDER BY created, received_at
                """, logger: logger
            ).decode((String, String, Int, String, String, String, String?).self) {
                events.append(
                    PaymentEventRecord(
                        id: event, type: type, created: Timestamps.string(Date(timeIntervalSince1970: TimeInterval(created))),
                        receivedAt: receivedAt, source: source, outcome: outcome, payment: paymentID))
            }
            var entries: [CreditEntry] = []
            for try await (entry, owner, bucket, amount, kind, reference, createdAt) in try await connection.query(
                """
                SELECT id, user_id, bucket, amount, kind, reference, created_at FROM credit_entries
                WHERE reference = \("payment:\(id)") ORDER BY id
                """, logger: logger
            ).decode((Int64, String, String, Int, String, String?, String).self) {
                entries.append(
                    CreditEntry(
                        id: entry, user: owner, bucket: CreditBucket(rawValue: bucket) ?? .topup, amount: amount, kind: kind,
                        reference: reference, createdAt: createdAt))
            }
            return PaymentDetail(payment: payment, events: events, entries: entries)
        }
    }

    package func expirePending(now: Date) async throws -> [Payment] {
        try await writer.write { connection, logger in
            var ids: [String] = []
            for try await id in try await connection.query(
                """
                UPDATE payments SET status = 'expired'
                WHERE status = 'pending' AND NOT awaiting_payment AND expires_at < \(Timestamps.string(now)) RETURNING id
                """, logger: logger
            ).decode(String.self) {
                ids.append(id)
            }
            var payments: [Payment] = []
            for id in ids.sorted() { payments.append(try await Self.load(connection, id, logger: logger)) }
            return payments
        }
    }

    package func latestEventCreated() async throws -> Int? {
        let logger = database.logger
        return try await database.client.withConnection { connection in
            try await connection.first("SELECT MAX(created)::BIGINT FROM stripe_events", as: Int?.self, logger) ?? nil
        }
    }

    // MARK: Inside a transaction

    /// The payment a fact names, locked: by our id, else the session, else the PaymentIntent.
    static func find(_ connection: PostgresConnection, _ fact: StripeFact, logger: Logger) async throws -> Row? {
        if let payment = fact.payment, let row = try await one(connection, " WHERE id = $1 FOR UPDATE", payment, logger: logger) {
            return row
        }
        if let session = fact.session,
            let row = try await one(connection, " WHERE checkout_session = $1 FOR UPDATE", session, logger: logger)
        {
            return row
        }
        if let intent = fact.paymentIntent {
            return try await one(connection, " WHERE payment_intent = $1 ORDER BY id LIMIT 1 FOR UPDATE", intent, logger: logger)
        }
        return nil
    }

    static func applyFact(
        _ connection: PostgresConnection, event: String, fact: StripeFact, now: Date, logger: Logger
    ) async throws -> StripeEventResult {
        guard fact.kind != .none else {
            try await setOutcome(connection, event: event, outcome: "ignored", payment: nil, logger: logger)
            return StripeEventResult(duplicate: false, outcome: "ignored")
        }
        guard let row = try await find(connection, fact, logger: logger) else {
            return StripeEventResult(duplicate: false, outcome: "unmatched")
        }
        let id = row.0
        let user = row.1
        var state = PaymentState(
            status: PaymentStatus(rawValue: row.6) ?? .pending, credits: row.3,
            price: Money(amountMinor: row.4, currency: row.5), granted: row.12, reversed: row.13, amountRefunded: row.14,
            disputeReversed: row.17)
        let before = state
        let plan = PaymentPlan(fact: fact, state: state, awaiting: row.16, payment: id)
        state = plan.state
        let awaiting = plan.awaiting
        let outcome = plan.outcome
        let moved = plan.moved
        for entry in plan.entries {
            _ = try await PostgresLedger.append(connection, user: user, entry, now: now, logger: logger)
        }
        let learnedIntent = row.15 == nil ? fact.paymentIntent : nil
        if state != before || awaiting != row.16 || learnedIntent != nil {
            let firstGrant = before.granted == 0 && state.granted > 0
            try await connection.run(
                """
                UPDATE payments SET status = \(state.status.rawValue), credits_granted = \(state.granted),
                    credits_reversed = \(state.reversed), amount_refunded = \(state.amountRefunded),
                    dispute_reversed = \(state.disputeReversed), awaiting_payment = \(awaiting),
                    payment_intent = COALESCE(payment_intent, \(fact.paymentIntent)),
                    checkout_session = COALESCE(checkout_session, \(fact.session)),
                    paid_at = CASE WHEN \(firstGrant) AND paid_at IS NULL THEN \(Timestamps.string(now)) ELSE paid_at END
                WHERE id = \(id)
                """, logger)
        }
        try await setOutcome(connection, event: event, outcome: outcome.rawValue, payment: id, logger: logger)
        var result = StripeEventResult(duplicate: false, outcome: outcome.rawValue, payment: id, user: user, credits: moved)
        // Facts about the charge that came before its PaymentIntent was known apply now, in order.
        if let intent = learnedIntent {
            var waiting: [(String, String)] = []
            for try await pending in try await connection.query(
                """
                SELECT id, fact FROM stripe_events WHERE outcome = 'unmatched' AND payment_intent = \(intent) AND id <> \(event)
                ORDER BY created, received_at
                """, logger: logger
            ).decode((String, String).self) {
                waiting.append(pending)
            }
            for (pending, encoded) in waiting {
                guard let earlier = try? WireCoding.decoder.decode(StripeFact.self, from: Data(encoded.utf8)) else { continue }
                result.credits += try await applyFact(connection, event: pending, fact: earlier, now: now, logger: logger).credits
            }
        }
        return result
    }

    static func setOutcome(_ connection: PostgresConnection, event: String, outcome: String, payment: String?, logger: Logger)
        async throws
    {
        try await connection.run(
            "UPDATE stripe_events SET outcome = \(outcome), payment_id = \(payment) WHERE id = \(event)", logger)
    }

    static func one(_ connection: PostgresConnection, _ condition: String, _ values: String..., logger: Logger) async throws -> Row? {
        try await connection.first(try PostgresQuery(sql: columns + condition, values: values), as: Row.self, logger)
    }

    static func load(_ connection: PostgresConnection, _ id: String, logger: Logger) async throws -> Payment {
        guard let row = try await one(connection, " WHERE id = $1", id, logger: logger) else {
            throw EngineError.notFound("payment", id)
        }
        return payment(row)
    }

    static func payment(_ row: Row) -> Payment {
        Payment(
            id: row.0, user: row.1, package: row.2, credits: row.3, price: Money(amountMinor: row.4, currency: row.5),
            status: PaymentStatus(rawValue: row.6) ?? .pending, checkoutSession: row.7, checkoutURL: row.8, createdAt: row.9,
            paidAt: row.10, expiresAt: row.11, creditsGranted: row.12, creditsReversed: row.13, amountRefunded: row.14)
    }
}
