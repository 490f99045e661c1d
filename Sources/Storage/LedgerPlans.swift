import Foundation
import Protocol
import VectortCore

/// What a ledger write does, decided from the rows it read and independent of the database
/// that stores it: both backends write exactly these entries and balance moves.
enum LedgerPlan {
    struct Entry: Equatable {
        var bucket: CreditBucket
        var amount: Int
        var kind: String
        var reference: String?
    }

    /// A hold's allocations as journal entries, in spending order.
    static func holdEntries(_ allocations: [CreditBucket: Int], hold id: String) -> [Entry] {
        CreditRules.spendingOrder.compactMap { bucket in
            allocations[bucket].map { Entry(bucket: bucket, amount: -$0, kind: "hold", reference: id) }
        }
    }

    /// Finishing a hold: every allocation goes back (`release` entries), then the usage is
    /// charged in spending order; the balance moves once per bucket by the net of them.
    struct Finish {
        var entries: [Entry] = []
        var net: [CreditBucket: Int] = [:]
        var status: CreditHold.Status
        var charged: Int?
        /// The hold as it is after the write.
        var result: CreditHold
    }

    /// The finish of `hold` (id `id`) by a settle for `charged` (nil: all of it) or a release;
    /// nil when it repeats the hold's final state (nothing to write, the hold is the answer).
    static func finish(_ hold: CreditHold, id: String, settleFor charged: Int?, release: Bool) throws -> Finish? {
        let state = CreditHoldState(rawValue: hold.status.rawValue)!
        let event: CreditHoldState.Event = release ? .release : .settle(charged: charged, held: hold.amount)
        switch state.transition(on: event, previouslyCharged: hold.charged) {
        case .invalidAmount(let reason):
            throw EngineError.invalid("amount", reason)
        case .refuse(let reason):
            throw EngineError.conflict(reason)
        case .repeatOfFinalState:
            return nil
        case .move(let next):
            var plan = Finish(status: next == .settled ? .settled : .released, result: hold)
            for bucket in CreditRules.spendingOrder.reversed() {
                if let taken = hold.allocations[bucket.rawValue], taken > 0 {
                    plan.entries.append(Entry(bucket: bucket, amount: taken, kind: "release", reference: id))
                    plan.net[bucket, default: 0] += taken
                }
            }
            if next == .settled {
                let amount = charged ?? hold.amount
                plan.charged = amount
                var remaining = amount
                for bucket in CreditRules.spendingOrder where remaining > 0 {
                    let take = min(remaining, hold.allocations[bucket.rawValue] ?? 0)
                    if take > 0 {
                        plan.entries.append(Entry(bucket: bucket, amount: -take, kind: "usage", reference: hold.reference))
                        plan.net[bucket, default: 0] -= take
                        remaining -= take
                    }
                }
            }
            plan.result.status = plan.status
            plan.result.charged = plan.charged
            return plan
        }
    }
}

/// What a Stripe fact does to a payment, decided from the payment's stored state and
/// independent of the database: both backends apply exactly these entries and this state.
struct PaymentPlan {
    var state: PaymentState
    var awaiting: Bool
    var outcome: PaymentState.Outcome = .ignored
    /// The journal entries (top-up bucket, referencing the payment) in order.
    var entries: [LedgerPlan.Entry] = []
    /// Credits granted less credits taken back.
    var moved = 0

    init(fact: StripeFact, state: PaymentState, awaiting: Bool, payment: String) {
        self.state = state
        self.awaiting = awaiting
        var effects: [PaymentState.Effect] = []
        switch fact.kind {
        case .paid:
            (outcome, effects) = self.state.paid(amount: fact.amount ?? -1, currency: fact.currency ?? "")
        case .awaitingPayment:
            outcome = awaiting ? .ignored : .applied
            self.awaiting = true
        case .failed: outcome = self.state.failed()
        case .expired: outcome = self.state.expired()
        case .refunded: (outcome, effects) = self.state.refunded(cumulative: fact.amount ?? 0)
        case .disputeOpened: (outcome, effects) = self.state.disputeOpened()
        case .disputeWon: (outcome, effects) = self.state.disputeClosed(won: true)
        case .disputeLost: (outcome, effects) = self.state.disputeClosed(won: false)
        case .none: break
        }
        for effect in effects {
            switch effect {
            case .grant(let credits, let kind):
                entries.append(LedgerPlan.Entry(bucket: .topup, amount: credits, kind: kind, reference: "payment:\(payment)"))
                moved += credits
            case .reverse(let credits, let kind):
                entries.append(LedgerPlan.Entry(bucket: .topup, amount: -credits, kind: kind, reference: "payment:\(payment)"))
                moved -= credits
            }
        }
    }
}

extension CreditGrantRequest {
    /// What an idempotency key of `Credits.Grant` is bound to.
    struct Fingerprint: Encodable {
        var user: String
        var amount: Int
        var bucket: String
        var reason: String
        var expiresAt: String?
    }

    var fingerprint: Fingerprint {
        Fingerprint(
            user: user, amount: amount, bucket: bucket.rawValue, reason: reason, expiresAt: expiresAt.map(Timestamps.string))
    }
}

extension GenerationSuccess {
    /// The result a completed generation answers, from what its completion wrote: what a
    /// replay reads back, with paths in byte order as the databases order them.
    func result(version: VersionSummary, charged: Int, cost: Cost?) -> GenerationResult {
        var result = GenerationResult(
            generation: generation, project: project, version: version.id, versionNumber: version.number,
            provider: provider, model: model, files: files.map(\.path).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) },
            creditsCharged: charged, usage: usage, attempts: attempts.count, durationMs: durationMs)
        result.cost = cost
        result.baseVersion = base?.version
        result.baseVersionNumber = base?.number
        result.changes = base?.changes
        result.notes = notes
        return result
    }
}
