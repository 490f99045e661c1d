public import Protocol

/// Packages and the spending order.
public enum CreditRules {
    /// micro 10 credits $10, starter 80 $20, standard 250 $50, pro 600 $100.
    public static let defaultPackages: [CreditPackage] = [
        CreditPackage(id: "micro", credits: 10, price: Money(amountMinor: 1000, currency: "usd")),
        CreditPackage(id: "starter", credits: 80, price: Money(amountMinor: 2000, currency: "usd")),
        CreditPackage(id: "standard", credits: 250, price: Money(amountMinor: 5000, currency: "usd")),
        CreditPackage(id: "pro", credits: 600, price: Money(amountMinor: 10000, currency: "usd")),
    ]

    /// Soonest-expiring first: monthly (while unexpired), free, topup.
    public static let spendingOrder: [CreditBucket] = [.monthly, .free, .topup]

    /// Takes `amount` from the buckets in spending order; `nil` when they hold too little. A
    /// bucket below zero (a refund or dispute took back credits already spent) counts against
    /// the total: a hold needs the sum of the buckets to cover it.
    package static func allocate(_ amount: Int, from available: [CreditBucket: Int]) -> [CreditBucket: Int]? {
        guard available.values.reduce(0, +) >= amount else { return nil }
        var remaining = amount
        var taken: [CreditBucket: Int] = [:]
        for bucket in spendingOrder where remaining > 0 {
            let take = min(remaining, max(available[bucket] ?? 0, 0))
            if take > 0 {
                taken[bucket] = take
                remaining -= take
            }
        }
        return remaining == 0 ? taken : nil
    }
}
