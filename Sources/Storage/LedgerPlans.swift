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
