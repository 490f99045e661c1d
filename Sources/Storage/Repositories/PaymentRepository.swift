package import Foundation
package import Protocol

/// Payments and the Stripe events that move them. Every event is recorded and its effect on
/// the ledger applied in one transaction, so a crash keeps both or neither.
package protocol PaymentRepository: Sendable {
    /// A new pending payment for an active user, or the user's payment with the same
    /// idempotency key (`Conflict` when it was asked with other parameters).
    func create(_ request: PaymentCreateRequest, now: Date) async throws -> (payment: Payment, existing: Bool)
    /// Stripe's Checkout Session of a payment (the same one on a replay).
    func attachSession(payment: String, session: String, url: String?) async throws -> Payment
    /// Stripe refused to create the session: the payment failed before it began.
    func failCreation(payment: String, now: Date) async throws
    /// Records the event and applies its fact, once per event id.
    func apply(_ event: StripeEventInput, now: Date) async throws -> StripeEventResult
    /// Payments newest first, of `user` when given, after the payment `after`.
    func list(user: String?, status: PaymentStatus?, limit: Int, after: String?) async throws -> PaymentList
    /// A payment with its events and entries; `user`, when given, must own it.
    func get(_ id: String, user: String?) async throws -> PaymentDetail
    /// Pending payments past their expiry that Stripe has not reported completed become
    /// expired; returns them.
    func expirePending(now: Date) async throws -> [Payment]
    /// `created` of the newest event recorded, in Unix seconds.
    func latestEventCreated() async throws -> Int?
    /// Whether this node runs the periodic reconciliation now: one node at a time across the
    /// nodes sharing a database, for `seconds` or until it asks again (always, on SQLite).
    func claimReconciler(for seconds: Double) async throws -> Bool
}

package struct PaymentCreateRequest: Sendable {
    package var user: String
    package var package: CreditPackage
    package var successURL: String
    package var cancelURL: String
    package var idempotencyKey: String?
    package var expiresAt: Date

    package init(
        user: String, package: CreditPackage, successURL: String, cancelURL: String, idempotencyKey: String?,
        expiresAt: Date
    ) {
        self.user = user
        self.package = package
        self.successURL = successURL
        self.cancelURL = cancelURL
        self.idempotencyKey = idempotencyKey
        self.expiresAt = expiresAt
    }
}

/// What a Stripe event says about a payment, read from its `data.object`. The payment is found
/// by `payment` (our id in the metadata), else the Checkout Session, else the PaymentIntent.
package struct StripeFact: Sendable, Codable, Equatable {
    package enum Kind: String, Sendable, Codable {
        /// A session completed and paid (`checkout.session.completed` with `payment_status`
        /// `paid`, or `async_payment_succeeded`).
        case paid
        /// A session completed but not paid yet (an asynchronous method).
        case awaitingPayment = "awaiting_payment"
        case failed
        case expired
        /// `charge.refunded`: `amount` is the cumulative refunded amount.
        case refunded
        case disputeOpened = "dispute_opened"
        case disputeWon = "dispute_won"
        case disputeLost = "dispute_lost"
        /// A type with no effect on credits.
        case none
    }

    package var kind: Kind
    package var payment: String?
    package var session: String?
    package var paymentIntent: String?
    package var amount: Int?
    package var currency: String?

    package init(
        _ kind: Kind, payment: String? = nil, session: String? = nil, paymentIntent: String? = nil, amount: Int? = nil,
        currency: String? = nil
    ) {
        self.kind = kind
        self.payment = payment
        self.session = session
        self.paymentIntent = paymentIntent
        self.amount = amount
        self.currency = currency
    }
}

package struct StripeEventInput: Sendable {
    package var id: String
    package var type: String
    /// Unix seconds.
    package var created: Int
    /// `webhook` or `reconcile`.
    package var source: String
    package var body: [UInt8]
    package var fact: StripeFact

    package init(id: String, type: String, created: Int, source: String, body: [UInt8], fact: StripeFact) {
        self.id = id
        self.type = type
        self.created = created
        self.source = source
        self.body = body
        self.fact = fact
    }
}

package struct StripeEventResult: Sendable, Equatable {
    /// The event was recorded before: nothing changed.
    package var duplicate: Bool
    /// `applied`, `ignored`, `unmatched` or `mismatch`.
    package var outcome: String
    package var payment: String?
    package var user: String?
    /// Credits moved: positive granted, negative taken back.
    package var credits: Int

    package init(duplicate: Bool, outcome: String, payment: String? = nil, user: String? = nil, credits: Int = 0) {
        self.duplicate = duplicate
        self.outcome = outcome
        self.payment = payment
        self.user = user
        self.credits = credits
    }
}
