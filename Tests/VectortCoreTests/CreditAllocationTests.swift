import Protocol
import Testing
import VectortTesting

@testable import VectortCore

@Suite("CreditRules.allocate: soonest-expiring first, all or nothing")
struct CreditAllocationTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let amount: Int
        let available: [CreditBucket: Int]
        let expected: [CreditBucket: Int]?
        var testDescription: String { "\(amount) from \(available)" }
    }

    static let cases: [Case] = [
        Case(amount: 2, available: [.free: 10], expected: [.free: 2]),
        Case(amount: 2, available: [.monthly: 3, .free: 10, .topup: 20], expected: [.monthly: 2]),
        Case(amount: 15, available: [.monthly: 3, .free: 10, .topup: 20], expected: [.monthly: 3, .free: 10, .topup: 2]),
        Case(amount: 33, available: [.monthly: 3, .free: 10, .topup: 20], expected: [.monthly: 3, .free: 10, .topup: 20]),
        Case(amount: 34, available: [.monthly: 3, .free: 10, .topup: 20], expected: nil),
        Case(amount: 5, available: [.topup: 5], expected: [.topup: 5]),
        Case(amount: 6, available: [.free: 1, .topup: 5], expected: [.free: 1, .topup: 5]),
        Case(amount: 1, available: [:], expected: nil),
        Case(amount: 11, available: [.free: 10], expected: nil),
        Case(amount: 4, available: [.monthly: 0, .free: 4], expected: [.free: 4]),
        // A bucket below zero (a refund took back credits already spent) counts against the total.
        Case(amount: 2, available: [.topup: -3, .free: 5], expected: [.free: 2]),
        Case(amount: 3, available: [.topup: -3, .free: 5], expected: nil),
        Case(amount: 3, available: [.monthly: -3, .free: 5, .topup: 1], expected: [.free: 3]),
        Case(amount: 6, available: [.monthly: -3, .free: 5], expected: nil),
    ]

    @Test(arguments: cases)
    func allocationTakesBucketsInSpendingOrder(_ test: Case) {
        #expect(CreditRules.allocate(test.amount, from: test.available) == test.expected)
    }

    @Test func theSpendingOrderIsMonthlyFreeTopup() {
        #expect(CreditRules.spendingOrder == [.monthly, .free, .topup])
    }

    @Test func anAllocationNeverTakesMoreThanABucketHoldsAndAlwaysAddsUp() {
        var generator = SeededGenerator(seed: 7)
        for _ in 0..<2000 {
            var available: [CreditBucket: Int] = [:]
            for bucket in CreditBucket.allCases { available[bucket] = Int.random(in: -2...8, using: &generator) }
            let amount = Int.random(in: 1...26, using: &generator)
            let spendable = min(available.values.reduce(0) { $0 + max($1, 0) }, available.values.reduce(0, +))
            guard let taken = CreditRules.allocate(amount, from: available) else {
                #expect(amount > spendable, "refused \(amount) from \(available)")
                continue
            }
            #expect(taken.values.reduce(0, +) == amount)
            for (bucket, credits) in taken {
                #expect(credits > 0 && credits <= available[bucket] ?? 0)
            }
            // A later bucket is touched only when every earlier one is emptied.
            let order = CreditRules.spendingOrder
            for (index, bucket) in order.enumerated() where taken[bucket] != nil {
                for earlier in order[..<index] {
                    #expect(taken[earlier, default: 0] == max(available[earlier] ?? 0, 0))
                }
            }
        }
    }
}
