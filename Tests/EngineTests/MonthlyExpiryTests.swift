import Foundation
import GRDB
import Protocol
import Testing
import VectortTesting

@testable import Engine
@testable import Generation
import VectortCore

@testable import Storage

@Suite("Monthly credits expire at the end of their period")
struct MonthlyExpiryTests {
    @Test(arguments: Backend.allCases) func monthlyCreditsAreSpendableUntilTheirExpiryAndLeaveThroughOneExpiryEntry(_ backend: Backend) async throws {
        try await withEngine(on: backend, freeOnSignup: 0) { engine in
            let user = try await engine.user()
            let expiry = engine.clock.date.addingTimeInterval(3600)
            _ = try await engine.ledger.grant(user: user, amount: 5, bucket: .monthly, reason: "subscription", expiresAt: expiry)

            engine.clock.advance(by: .seconds(3599))
            let before = try await engine.ledger.balance(user: user)
            #expect(before.buckets["monthly"] == 5)
            #expect(before.monthlyExpiresAt != nil)
            let hold = try await engine.ledger.hold(user: user, amount: 2, reference: "gen-1")
            #expect(hold.allocations == ["monthly": 2])
            _ = try await engine.ledger.settle(hold: hold.id)
            #expect(try await engine.ledger.expireMonthly() == 0, "nothing has expired yet")

            engine.clock.advance(by: .seconds(2))
            let after = try await engine.ledger.balance(user: user)
            #expect(after.buckets["monthly"] == 0)
            #expect(after.total == 0)
            #expect(after.monthlyExpiresAt == nil)
            let entriesBefore = try await engine.count("credit_entries")
            let error = await expectEngineError(.insufficientCredits) {
                try await engine.ledger.hold(user: user, amount: 1, reference: "gen-2")
            }
            #expect(error?.details["available"] == .int(0))
            #expect(try await engine.count("credit_entries") == entriesBefore)

            #expect(try await engine.ledger.expireMonthly() == 1)
            let expiries = try await engine.ledger.history(user: user).entries.filter { $0.kind == "expiry" }
            #expect(expiries.count == 1)
            #expect(expiries.first?.amount == -3)
            #expect(expiries.first?.bucket == .monthly)
            #expect(try await engine.ledger.expireMonthly() == 0, "a second sweep finds nothing")
            #expect(try await engine.count("credit_entries", where: "kind = 'expiry'") == 1)
            #expect(try await engine.ledger.verify().ok)
            #expect(try await engine.ledgerViolations() == [])
        }
    }

    /// A renewal before the period ends does not carry the remainder over: the old period's
    /// unspent credits expire with an entry of their own, and only the new grant carries the
    /// new expiry. A hold taken from the old period and released later comes back into the
    /// bucket, under the new period.
    @Test(arguments: Backend.allCases) func aMonthlyGrantBeforeThePeriodEndsExpiresTheRemainderInsteadOfCarryingItOver(_ backend: Backend) async throws {
        try await withEngine(on: backend, freeOnSignup: 0) { engine in
            let user = try await engine.user()
            let firstEnd = engine.clock.date.addingTimeInterval(3600)
            _ = try await engine.ledger.grant(user: user, amount: 10, bucket: .monthly, reason: "plan", expiresAt: firstEnd)
            let spent = try await engine.ledger.hold(user: user, amount: 3, reference: "gen-1")
            _ = try await engine.ledger.settle(hold: spent.id)
            let open = try await engine.ledger.hold(user: user, amount: 2, reference: "gen-2")

            engine.clock.advance(by: .seconds(1800))
            let secondEnd = engine.clock.date.addingTimeInterval(3600)
            let renewed = try await engine.ledger.grant(
                user: user, amount: 10, bucket: .monthly, reason: "plan", expiresAt: secondEnd)
            #expect(renewed.balance.buckets["monthly"] == 10, "5 unspent of the old period expired, 10 new")
            let expiries = try await engine.ledger.history(user: user).entries.filter { $0.kind == "expiry" }
            #expect(expiries.map(\.amount) == [-5])
            #expect(renewed.balance.monthlyExpiresAt == Timestamps.string(secondEnd))

            _ = try await engine.ledger.release(hold: open.id)
            #expect(try await engine.ledger.balance(user: user).buckets["monthly"] == 12)
            engine.clock.advance(by: .seconds(3601))
            #expect(try await engine.ledger.expireMonthly() == 1)
            #expect(try await engine.ledger.balance(user: user).total == 0, "nothing of either period outlives the second")
            #expect(try await engine.ledger.verify().ok)
            #expect(try await engine.ledgerViolations() == [])
        }
    }

    @Test(arguments: Backend.allCases) func otherBucketsStaySpendableAfterMonthlyCreditsExpire(_ backend: Backend) async throws {
        try await withEngine(on: backend, freeOnSignup: 4) { engine in
            let user = try await engine.user()
            _ = try await engine.ledger.grant(
                user: user, amount: 5, bucket: .monthly, reason: "subscription",
                expiresAt: engine.clock.date.addingTimeInterval(60))
            _ = try await engine.ledger.grant(user: user, amount: 3, reason: "purchase")
            engine.clock.advance(by: .seconds(61))
            let hold = try await engine.ledger.hold(user: user, amount: 6, reference: "gen-1")
            #expect(hold.allocations == ["free": 4, "topup": 2])
            #expect(try await engine.ledger.balance(user: user).buckets == ["monthly": 0, "free": 0, "topup": 1])
        }
    }

    @Test(arguments: Backend.allCases) func aMonthlyGrantWithoutExpiryLastsThirtyDays(_ backend: Backend) async throws {
        try await withEngine(on: backend, freeOnSignup: 0) { engine in
            let user = try await engine.user()
            _ = try await engine.ledger.grant(user: user, amount: 5, bucket: .monthly, reason: "subscription")
            engine.clock.advance(by: .seconds(30 * 86400 - 1))
            #expect(try await engine.ledger.balance(user: user).total == 5)
            engine.clock.advance(by: .seconds(1))
            #expect(try await engine.ledger.balance(user: user).total == 0)
        }
    }

    /// A renewal before the sweep ran must not carry the expired credits into the new period.
    @Test(arguments: Backend.allCases) func aRenewalAfterExpiryDoesNotRevivePreviouslyExpiredCredits(_ backend: Backend) async throws {
        try await withEngine(on: backend, freeOnSignup: 0) { engine in
            let user = try await engine.user()
            let start = engine.clock.date
            _ = try await engine.ledger.grant(
                user: user, amount: 5, bucket: .monthly, reason: "period 1", expiresAt: start.addingTimeInterval(3600))
            engine.clock.advance(by: .seconds(7200))
            let renewal = try await engine.ledger.grant(
                user: user, amount: 8, bucket: .monthly, reason: "period 2",
                expiresAt: start.addingTimeInterval(3600 + 30 * 86400))
            #expect(renewal.balance.buckets["monthly"] == 8)
            #expect(try await engine.ledger.balance(user: user).total == 8)
            let error = await expectEngineError(.insufficientCredits) {
                try await engine.ledger.hold(user: user, amount: 9, reference: "gen-1")
            }
            #expect(error?.details["available"] == .int(8))
            let expiries = try await engine.ledger.history(user: user).entries.filter { $0.kind == "expiry" }
            #expect(expiries.map(\.amount) == [-5], "the ended period leaves through its own expiry entry")
            #expect(try await engine.ledger.expireMonthly() == 0)
            #expect(try await engine.ledger.verify().ok)
        }
    }

    @Test(arguments: Backend.allCases) func anExpiryInTheYear10000OrLaterIsRefused(_ backend: Backend) async throws {
        try await withEngine(on: backend, freeOnSignup: 0) { engine in
            let user = try await engine.user()
            let before = try await engine.rowCounts()
            await expectEngineError(.invalidParameter, parameter: "expires_at") {
                try await engine.ledger.grant(
                    user: user, amount: 5, bucket: .monthly, reason: "forever",
                    expiresAt: Date(timeIntervalSince1970: 253_402_300_800))
            }
            #expect(try await engine.rowCounts() == before)
            // The last second of 9999 is still a time the journal can hold.
            _ = try await engine.ledger.grant(
                user: user, amount: 5, bucket: .monthly, reason: "long", expiresAt: Date(timeIntervalSince1970: 253_402_300_799))
            #expect(try await engine.ledger.balance(user: user).total == 5)
        }
    }

    @Test(arguments: Backend.allCases) func creditsHeldBeforeExpiryAndReleasedAfterItExpireWithTheSweep(_ backend: Backend) async throws {
        try await withEngine(on: backend, freeOnSignup: 0) { engine in
            let user = try await engine.user()
            _ = try await engine.ledger.grant(
                user: user, amount: 5, bucket: .monthly, reason: "subscription",
                expiresAt: engine.clock.date.addingTimeInterval(60))
            let hold = try await engine.ledger.hold(user: user, amount: 4, reference: "gen-1")
            engine.clock.advance(by: .seconds(120))
            #expect(try await engine.ledger.expireMonthly() == 1)
            _ = try await engine.ledger.settle(hold: hold.id, charged: 1)
            #expect(try await engine.ledger.balance(user: user).total == 0, "the 3 given back had expired")
            #expect(try await engine.ledger.expireMonthly() == 1)
            let expired = try await engine.rows("SELECT SUM(amount) AS s FROM credit_entries WHERE kind = 'expiry'").first?["s"]
                .flatMap { Int($0) }
            #expect(expired == -4, "1 left unheld at expiry, then the 3 the settle gave back")
            #expect(try await engine.ledger.verify().ok)
            #expect(try await engine.ledgerViolations() == [])
        }
    }

    @Test(arguments: Backend.allCases) func expiryDatesAreOnlyForMonthlyCreditsAndMustBeInTheFuture(_ backend: Backend) async throws {
        try await withEngine(on: backend) { engine in
            let user = try await engine.user()
            let before = try await engine.rowCounts()
            await expectEngineError(.invalidParameter, parameter: "expires_at") {
                try await engine.ledger.grant(
                    user: user, amount: 1, bucket: .topup, reason: "r", expiresAt: engine.clock.date.addingTimeInterval(60))
            }
            await expectEngineError(.invalidParameter, parameter: "expires_at") {
                try await engine.ledger.grant(user: user, amount: 1, bucket: .monthly, reason: "r", expiresAt: engine.clock.date)
            }
            #expect(try await engine.rowCounts() == before)
        }
    }
}
