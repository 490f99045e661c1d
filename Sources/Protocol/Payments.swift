/// Where a payment stands.
public enum PaymentStatus: String, Sendable, Codable, Hashable, CaseIterable {
    case pending, paid, failed, expired, refunded
    case partiallyRefunded = "partially_refunded"
    case disputed
}

/// A purchase of a credit package through Stripe Checkout.
public struct Payment: Sendable, Codable, Hashable {
    public var id: String
    public var user: String
    public var package: String
    public var credits: Int
    /// What the package cost when the payment was created; a paid amount is checked against it.
    public var price: Money
    public var status: PaymentStatus
    /// The Checkout Session (`cs_…`); absent until Stripe has created it.
    public var checkoutSession: String?
    /// Where the buyer pays, while the session is open.
    public var checkoutURL: String?
    public var createdAt: String
    public var paidAt: String?
    public var expiresAt: String
    /// Credits granted for it, and taken back by refunds and disputes so far.
    public var creditsGranted: Int
    public var creditsReversed: Int
    /// Stripe's cumulative refunded amount, in minor units.
    public var amountRefunded: Int

    public init(
        id: String, user: String, package: String, credits: Int, price: Money, status: PaymentStatus,
        checkoutSession: String?, checkoutURL: String?, createdAt: String, paidAt: String?, expiresAt: String,
        creditsGranted: Int = 0, creditsReversed: Int = 0, amountRefunded: Int = 0
    ) {
        self.id = id
        self.user = user
        self.package = package
        self.credits = credits
        self.price = price
        self.status = status
        self.checkoutSession = checkoutSession
        self.checkoutURL = checkoutURL
        self.createdAt = createdAt
        self.paidAt = paidAt
        self.expiresAt = expiresAt
        self.creditsGranted = creditsGranted
        self.creditsReversed = creditsReversed
        self.amountRefunded = amountRefunded
    }

    enum CodingKeys: String, CodingKey {
        case id, user, package, credits, price, status
        case checkoutSession = "checkout_session"
        case checkoutURL = "checkout_url"
        case createdAt = "created_at"
        case paidAt = "paid_at"
        case expiresAt = "expires_at"
        case creditsGranted = "credits_granted"
        case creditsReversed = "credits_reversed"
        case amountRefunded = "amount_refunded"
    }
}

/// Result of `Credits.Purchase`.
public struct PurchaseResult: Sendable, Codable, Hashable {
    public var payment: Payment
    public var checkoutURL: String
    public var expiresAt: String

    public init(payment: Payment, checkoutURL: String, expiresAt: String) {
        self.payment = payment
        self.checkoutURL = checkoutURL
        self.expiresAt = expiresAt
    }

    enum CodingKeys: String, CodingKey {
        case payment
        case checkoutURL = "checkout_url"
        case expiresAt = "expires_at"
    }
}

/// Result of `Payments.List`, newest first.
public struct PaymentList: Sendable, Codable, Hashable {
    public var payments: [Payment]
    public var nextAfter: String?

    public init(payments: [Payment], nextAfter: String?) {
        self.payments = payments
        self.nextAfter = nextAfter
    }

    enum CodingKeys: String, CodingKey {
        case payments
        case nextAfter = "next_after"
    }
}

/// A Stripe event as vectortd recorded it.
public struct PaymentEventRecord: Sendable, Codable, Hashable {
    public var id: String
    public var type: String
    /// When Stripe created it (RFC 3339).
    public var created: String
    public var receivedAt: String
    /// `webhook` or `reconcile`.
    public var source: String
    /// `applied`, `ignored` (no effect for this type or state), `unmatched` (no payment of this
    /// daemon), `mismatch` (the amount or currency paid is not the price).
    public var outcome: String
    public var payment: String?

    public init(
        id: String, type: String, created: String, receivedAt: String, source: String, outcome: String, payment: String?
    ) {
        self.id = id
        self.type = type
        self.created = created
        self.receivedAt = receivedAt
        self.source = source
        self.outcome = outcome
        self.payment = payment
    }

    enum CodingKeys: String, CodingKey {
        case id, type, created, source, outcome, payment
        case receivedAt = "received_at"
    }
}

/// Result of `Payments.Get`: the payment, its Stripe events and its ledger entries.
public struct PaymentDetail: Sendable, Codable, Hashable {
    public var payment: Payment
    public var events: [PaymentEventRecord]
    public var entries: [CreditEntry]

    public init(payment: Payment, events: [PaymentEventRecord], entries: [CreditEntry]) {
        self.payment = payment
        self.events = events
        self.entries = entries
    }
}

/// Result of `Payments.Reconcile`.
public struct ReconcileReport: Sendable, Codable, Hashable {
    /// Events listed from Stripe.
    public var fetched: Int
    /// Events this daemon had not seen, now applied.
    public var applied: Int
    /// Events it had seen already.
    public var alreadyApplied: Int
    /// Pending payments past their expiry, now expired.
    public var expired: Int

    public init(fetched: Int, applied: Int, alreadyApplied: Int, expired: Int) {
        self.fetched = fetched
        self.applied = applied
        self.alreadyApplied = alreadyApplied
        self.expired = expired
    }

    enum CodingKeys: String, CodingKey {
        case fetched, applied, expired
        case alreadyApplied = "already_applied"
    }
}

extension MethodName {
    public static let creditsPurchase = "io.vectort.Credits.Purchase"
    public static let paymentsInterface = "io.vectort.Payments"
    public static let paymentsList = "io.vectort.Payments.List"
    public static let paymentsGet = "io.vectort.Payments.Get"
    public static let paymentsReconcile = "io.vectort.Payments.Reconcile"
}
