public import Protocol

/// A payment's state and what each Stripe fact does to it, as a value without I/O: the storage
/// applies the effects to the ledger in the same transaction that records the event.
///
/// The rules: credits are granted once per payment, when Stripe says it is paid with the
/// amount and currency of the price stored on the payment (never today's configuration),
/// whatever its local state and whatever the number or order of events. A refund takes back
/// `floor(credits × amount_refunded / amount_total)` credits in all, from Stripe's cumulative
/// `amount_refunded`, so a full refund reverses exactly the grant. A dispute takes back what is
/// left; a dispute won gives back what it took. Facts that arrive before the payment is paid
/// are kept and applied once it is.
public struct PaymentState: Sendable, Equatable {
    public enum Effect: Sendable, Equatable {
        /// Credits into `topup`: kind `purchase`, or `adjustment` when a dispute is won.
        case grant(Int, kind: String)
        /// Credits out of `topup`: kind `refund` or `reversal` (a dispute).
        case reverse(Int, kind: String)
    }

    /// What a fact did.
    public enum Outcome: String, Sendable, Equatable {
        case applied
        /// Nothing to do in this state (a repeat, or a fact that no longer matters).
        case ignored
        /// Paid with another amount or currency than the price: nothing granted.
        case mismatch
    }

    public var status: PaymentStatus
    public var credits: Int
    public var price: Money
    public var granted: Int
    /// Credits taken back and not given back: refunds and disputes, less disputes won.
    public var reversed: Int
    /// Stripe's cumulative refunded amount, in minor units.
    public var amountRefunded: Int
    /// Credits the open dispute took back; nil without an open dispute.
    public var disputeReversed: Int?

    public init(
        status: PaymentStatus, credits: Int, price: Money, granted: Int = 0, reversed: Int = 0, amountRefunded: Int = 0,
        disputeReversed: Int? = nil
    ) {
        self.status = status
        self.credits = credits
        self.price = price
        self.granted = granted
        self.reversed = reversed
        self.amountRefunded = amountRefunded
        self.disputeReversed = disputeReversed
    }

    /// Stripe says the payment succeeded with `amount` in `currency`.
    public mutating func paid(amount: Int, currency: String) -> (Outcome, [Effect]) {
        guard granted == 0 else { return (.ignored, []) }
        guard amount == price.amountMinor, currency.lowercased() == price.currency.lowercased() else {
            return (.mismatch, [])
        }
        granted = credits
        status = .paid
        var effects: [Effect] = [.grant(credits, kind: "purchase")]
        // A refund or dispute seen before the payment was: it applies now.
        if amountRefunded > 0 { effects += refunded(cumulative: amountRefunded).1 }
        if disputeReversed != nil {
            disputeReversed = nil
            effects += disputeOpened().1
        }
        return (.applied, effects)
    }

    /// The payment failed (an asynchronous method); a paid one stays paid.
    public mutating func failed() -> Outcome {
        guard status == .pending || status == .expired else { return .ignored }
        status = .failed
        return .applied
    }

    /// The session expired unpaid; anything else stays as it is.
    public mutating func expired() -> Outcome {
        guard status == .pending else { return .ignored }
        status = .expired
        return .applied
    }

    /// Stripe refunded `cumulative` minor units of the charge so far.
    public mutating func refunded(cumulative: Int) -> (Outcome, [Effect]) {
        let total = max(price.amountMinor, 1)
        let refundedNow = min(max(cumulative, amountRefunded), total)
        let changed = refundedNow != amountRefunded
        amountRefunded = refundedNow
        guard granted > 0 else { return (changed ? .applied : .ignored, []) }
        if disputeReversed == nil, refundedNow > 0 { status = refundedNow >= total ? .refunded : .partiallyRefunded }
        let delta = credits * refundedNow / total - reversed
        guard delta > 0 else { return (changed ? .applied : .ignored, []) }
        reversed += delta
        return (.applied, [.reverse(delta, kind: "refund")])
    }

    /// A dispute was opened: what is left of the grant is taken back.
    public mutating func disputeOpened() -> (Outcome, [Effect]) {
        guard disputeReversed == nil else { return (.ignored, []) }
        guard granted > 0 else {
            disputeReversed = 0
            return (.applied, [])
        }
        let left = max(0, granted - reversed)
        disputeReversed = left
        reversed += left
        status = .disputed
        return (.applied, left > 0 ? [.reverse(left, kind: "reversal")] : [])
    }

    /// The dispute closed: won gives back what it took, lost keeps it taken.
    public mutating func disputeClosed(won: Bool) -> (Outcome, [Effect]) {
        guard let taken = disputeReversed else { return (.ignored, []) }
        disputeReversed = nil
        guard won else { return (.applied, []) }
        reversed -= taken
        if granted > 0 {
            status = amountRefunded == 0 ? .paid : (amountRefunded >= price.amountMinor ? .refunded : .partiallyRefunded)
        }
        return (.applied, taken > 0 ? [.grant(taken, kind: "adjustment")] : [])
    }
}
