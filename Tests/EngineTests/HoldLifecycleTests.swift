import Foundation
import GRDB
import Protocol
import Testing

@testable import Engine
@testable import Generation
import VectortCore

@testable import Storage

@Suite("Holds: spending order, settle for less, release, retries")
struct HoldLifecycleTests {
    /// A user with monthly 3, free 10, topup 20.
    private func userWithThreeBuckets(_ engine: TestEngine) async throws -> String {
        let user = try await engine.user()
        _ = try await engine.ledger.grant(user: user, amount: 3, bucket: .monthly, reason: "subscription")
        _ = try await engine.ledger.grant(user: user, amount: 20, bucket: .topup, reason: "purchase")
        return user
    }

    /// One journal entry: its bucket and signed amount.
    private struct Entry: Sendable {
        var bucket: String
        var amount: Int
    }

    private func entries(_ engine: TestEngine, kind: String, reference: String) async throws -> [Entry] {
        try await engine.rows("SELECT bucket, amount FROM credit_entries WHERE kind = '\(kind)' AND reference = '\(reference)' ORDER BY id")
            .map { Entry(bucket: $0["bucket"] ?? "", amount: Int($0["amount"] ?? "") ?? 0) }
    }

    @Test(arguments: Backend.allCases) func aHoldTakesMonthlyThenFreeThenTopup(_ backend: Backend) async throws {
        try await withEngine(on: backend, freeOnSignup: 10) { engine in
            let user = try await userWithThreeBuckets(engine)
            let small = try await engine.ledger.hold(user: user, amount: 2, reference: "gen-small")
            #expect(small.allocations == ["monthly": 2])
            let large = try await engine.ledger.hold(user: user, amount: 13, reference: "gen-large")
            #expect(large.allocations == ["monthly": 1, "free": 10, "topup": 2])
            let balance = try await engine.ledger.balance(user: user)
            #expect(balance.buckets == ["monthly": 0, "free": 0, "topup": 18])
            #expect(balance.total == 18)
            #expect(balance.held == 15)
            let holdEntries = try await entries(engine, kind: "hold", reference: large.id)
            #expect(holdEntries.map(\.bucket) == ["monthly", "free", "topup"])
            #expect(holdEntries.map(\.amount) == [-1, -10, -2])
            #expect(try await engine.ledgerViolations() == [])
        }
    }

    @Test(arguments: Backend.allCases) func settlingForLessChargesOnlyThatAndGivesTheRestBack(_ backend: Backend) async throws {
        try await withEngine(on: backend, freeOnSignup: 10) { engine in
            let user = try await userWithThreeBuckets(engine)
            let hold = try await engine.ledger.hold(user: user, amount: 15, reference: "gen-1")
            #expect(hold.allocations == ["monthly": 3, "free": 10, "topup": 2])
            let settled = try await engine.ledger.settle(hold: hold.id, charged: 5)
            #expect(settled.status == .settled)
            #expect(settled.charged == 5)
            #expect(settled.amount == 15)

            let usage = try await entries(engine, kind: "usage", reference: "gen-1")
            #expect(usage.reduce(0) { $0 + $1.amount } == -5)
            #expect(usage.map(\.bucket) == ["monthly", "free"], "usage is charged in spending order")
            let balance = try await engine.ledger.balance(user: user)
            #expect(balance.buckets == ["monthly": 0, "free": 8, "topup": 20])
            #expect(balance.total == 28)
            #expect(balance.held == 0)
            #expect(try await engine.ledger.verify().ok)
            #expect(try await engine.ledgerViolations() == [])
        }
    }

    @Test(arguments: Backend.allCases) func settlingWithoutAnAmountChargesTheWholeHold(_ backend: Backend) async throws {
        try await withEngine(on: backend, freeOnSignup: 10) { engine in
            let user = try await engine.user()
            let hold = try await engine.ledger.hold(user: user, amount: 4, reference: "gen-1")
            let settled = try await engine.ledger.settle(hold: hold.id)
            #expect(settled.charged == 4)
            #expect(try await engine.ledger.balance(user: user).total == 6)
        }
    }

    @Test(arguments: Backend.allCases) func settlingForNothingChargesNothing(_ backend: Backend) async throws {
        try await withEngine(on: backend, freeOnSignup: 10) { engine in
            let user = try await engine.user()
            let hold = try await engine.ledger.hold(user: user, amount: 4, reference: "gen-1")
            let settled = try await engine.ledger.settle(hold: hold.id, charged: 0)
            #expect(settled.status == .settled)
            #expect(settled.charged == 0)
            #expect(try await entries(engine, kind: "usage", reference: "gen-1").isEmpty)
            #expect(try await engine.ledger.balance(user: user).total == 10)
        }
    }

    @Test(arguments: Backend.allCases) func settlingTwiceIsANoOpThatReturnsTheSameHold(_ backend: Backend) async throws {
        try await withEngine(on: backend, freeOnSignup: 10) { engine in
            let user = try await engine.user()
            let hold = try await engine.ledger.hold(user: user, amount: 4, reference: "gen-1")
            let first = try await engine.ledger.settle(hold: hold.id, charged: 3)
            let entries = try await engine.count("credit_entries")
            let second = try await engine.ledger.settle(hold: hold.id, charged: 3)
            let third = try await engine.ledger.settle(hold: hold.id)
            #expect(second == first)
            #expect(third == first)
            #expect(try await engine.count("credit_entries") == entries)
            #expect(try await engine.ledger.balance(user: user).total == 7)
        }
    }

    @Test(arguments: Backend.allCases) func settlingASettledHoldForAnotherAmountIsRefusedAndChangesNothing(_ backend: Backend) async throws {
        try await withEngine(on: backend, freeOnSignup: 10) { engine in
            let user = try await engine.user()
            let hold = try await engine.ledger.hold(user: user, amount: 4, reference: "gen-1")
            _ = try await engine.ledger.settle(hold: hold.id, charged: 3)
            let entries = try await engine.count("credit_entries")
            await expectEngineError(.conflict) { try await engine.ledger.settle(hold: hold.id, charged: 2) }
            // Above the hold is the amount's fault, whatever the hold's state: checked first.
            await expectEngineError(.invalidParameter, parameter: "amount") {
                try await engine.ledger.settle(hold: hold.id, charged: 9)
            }
            #expect(try await engine.count("credit_entries") == entries)
            #expect(try await engine.ledger.balance(user: user).total == 7)
        }
    }

    @Test(arguments: Backend.allCases) func releasingGivesEveryCreditBackToItsBucket(_ backend: Backend) async throws {
        try await withEngine(on: backend, freeOnSignup: 10) { engine in
            let user = try await userWithThreeBuckets(engine)
            let hold = try await engine.ledger.hold(user: user, amount: 15, reference: "gen-1")
            let released = try await engine.ledger.release(hold: hold.id)
            #expect(released.status == .released)
            #expect(released.charged == nil)
            let balance = try await engine.ledger.balance(user: user)
            #expect(balance.buckets == ["monthly": 3, "free": 10, "topup": 20])
            #expect(balance.held == 0)
            #expect(try await entries(engine, kind: "usage", reference: "gen-1").isEmpty)
            #expect(try await engine.ledgerViolations() == [])
        }
    }

    @Test(arguments: Backend.allCases) func releasingTwiceIsANoOp(_ backend: Backend) async throws {
        try await withEngine(on: backend, freeOnSignup: 10) { engine in
            let user = try await engine.user()
            let hold = try await engine.ledger.hold(user: user, amount: 4, reference: "gen-1")
            let first = try await engine.ledger.release(hold: hold.id)
            let entries = try await engine.count("credit_entries")
            let second = try await engine.ledger.release(hold: hold.id)
            #expect(second == first)
            #expect(try await engine.count("credit_entries") == entries)
            #expect(try await engine.ledger.balance(user: user).total == 10)
        }
    }

    @Test(arguments: Backend.allCases) func releaseAfterSettleAndSettleAfterReleaseAreConflicts(_ backend: Backend) async throws {
        try await withEngine(on: backend, freeOnSignup: 10) { engine in
            let user = try await engine.user()
            let settled = try await engine.ledger.hold(user: user, amount: 2, reference: "gen-1")
            _ = try await engine.ledger.settle(hold: settled.id)
            let released = try await engine.ledger.hold(user: user, amount: 2, reference: "gen-2")
            _ = try await engine.ledger.release(hold: released.id)
            let before = try await engine.rowCounts()
            await expectEngineError(.conflict) { try await engine.ledger.release(hold: settled.id) }
            await expectEngineError(.conflict) { try await engine.ledger.settle(hold: released.id) }
            #expect(try await engine.rowCounts() == before)
            #expect(try await engine.ledger.balance(user: user).total == 8)
        }
    }

    @Test(arguments: Backend.allCases) func settlingForMoreThanWasHeldIsRefusedAndTheHoldStaysOpen(_ backend: Backend) async throws {
        try await withEngine(on: backend, freeOnSignup: 10) { engine in
            let user = try await engine.user()
            let hold = try await engine.ledger.hold(user: user, amount: 2, reference: "gen-1")
            let before = try await engine.rowCounts()
            await expectEngineError(.invalidParameter, parameter: "amount") {
                try await engine.ledger.settle(hold: hold.id, charged: 3)
            }
            await expectEngineError(.invalidParameter, parameter: "amount") {
                try await engine.ledger.settle(hold: hold.id, charged: -1)
            }
            #expect(try await engine.rowCounts() == before)
            let balance = try await engine.ledger.balance(user: user)
            #expect(balance.held == 2)
            #expect(try await engine.ledger.settle(hold: hold.id, charged: 2).status == .settled)
        }
    }

    @Test(arguments: Backend.allCases) func anUnknownHoldIsNotFound(_ backend: Backend) async throws {
        try await withEngine(on: backend) { engine in
            let error = await expectEngineError(.notFound) { try await engine.ledger.settle(hold: "h_0000000000000000") }
            #expect(error?.details["kind"] == .string("hold"))
            #expect(error?.details["id"] == .string("h_0000000000000000"))
            await expectEngineError(.notFound) { try await engine.ledger.release(hold: "h_0000000000000000") }
        }
    }

    @Test(arguments: Backend.allCases) func aHoldForMoreThanTheBalanceFailsWithoutSideEffects(_ backend: Backend) async throws {
        try await withEngine(on: backend, freeOnSignup: 10) { engine in
            let user = try await engine.user()
            let before = try await engine.rowCounts()
            let error = await expectEngineError(.insufficientCredits) {
                try await engine.ledger.hold(user: user, amount: 11, reference: "gen-1")
            }
            #expect(error?.details["required"] == .int(11))
            #expect(error?.details["available"] == .int(10))
            #expect(try await engine.rowCounts() == before)
        }
    }

    @Test(arguments: Backend.allCases) func historyIsNewestFirstWithKindsAndReferencesAndPages(_ backend: Backend) async throws {
        try await withEngine(on: backend, freeOnSignup: 10) { engine in
            let user = try await engine.user()
            let hold = try await engine.ledger.hold(user: user, amount: 3, reference: "gen-7")
            _ = try await engine.ledger.settle(hold: hold.id, charged: 1)
            let all = try await engine.ledger.history(user: user)
            #expect(all.entries.map(\.kind) == ["usage", "release", "hold", "grant"])
            #expect(all.entries.map(\.reference) == ["gen-7", hold.id, hold.id, "signup"])
            #expect(all.entries.map(\.amount) == [-1, 3, -3, 10])
            #expect(all.nextAfter == nil)

            let first = try await engine.ledger.history(user: user, limit: 3)
            #expect(first.entries == Array(all.entries.prefix(3)))
            let next = try #require(first.nextAfter)
            let second = try await engine.ledger.history(user: user, limit: 3, after: next)
            #expect(second.entries == Array(all.entries.suffix(1)))
            #expect(second.nextAfter == nil)
        }
    }

    @Test func packagesAreTheDesignedOnes() {
        #expect(
            CreditRules.defaultPackages.map { "\($0.id) \($0.credits) \($0.price.amountMinor) \($0.price.currency)" } == [
                "micro 10 1000 usd", "starter 80 2000 usd", "standard 250 5000 usd", "pro 600 10000 usd",
            ])
    }
}
