import Foundation
import Protocol
import Testing
import VectortTesting

@testable import Engine
@testable import Generation
import VectortCore

@testable import Storage

@Suite("Idempotency keys: one effect, the first result")
struct IdempotencyTests {
    @Test(arguments: Backend.allCases) func aGrantRepeatedWithItsKeyHasOneEffectAndReturnsTheFirstResult(_ backend: Backend) async throws {
        try await withEngine(on: backend, freeOnSignup: 10) { engine in
            let user = try await engine.user()
            let first = try await engine.ledger.grant(user: user, amount: 5, reason: "goodwill", idempotencyKey: "grant-1")
            _ = try await engine.ledger.grant(user: user, amount: 1, reason: "other")
            let again = try await engine.ledger.grant(user: user, amount: 5, reason: "goodwill", idempotencyKey: "grant-1")
            #expect(again == first, "the stored first result, balance included")
            #expect(try await engine.count("credit_entries", where: "kind = 'grant' AND reference = 'grant:goodwill'") == 1)
            #expect(try await engine.ledger.balance(user: user).total == 16)
        }
    }

    /// Keys are kept for the retention window and then forgotten: inside it a repeat replays,
    /// after it the same call runs again (docs say so).
    @Test(arguments: Backend.allCases) func keysOutliveTheirRetentionWindowOnlyUntilPruned(_ backend: Backend) async throws {
        try await withEngine(on: backend, freeOnSignup: 10) { engine in
            let user = try await engine.user()
            let first = try await engine.ledger.grant(user: user, amount: 5, reason: "goodwill", idempotencyKey: "grant-old")
            engine.clock.advance(by: .seconds(29 * 86_400))
            #expect(try await engine.ledger.pruneIdempotencyKeys(olderThanDays: 30) == 0, "29 days old: kept")
            #expect(try await engine.ledger.grant(user: user, amount: 5, reason: "goodwill", idempotencyKey: "grant-old") == first)
            _ = try await engine.ledger.grant(user: user, amount: 1, reason: "recent", idempotencyKey: "grant-new")

            engine.clock.advance(by: .seconds(2 * 86_400))
            #expect(try await engine.ledger.pruneIdempotencyKeys(olderThanDays: 30) == 1, "only the 31-day-old key goes")
            let again = try await engine.ledger.grant(user: user, amount: 5, reason: "goodwill", idempotencyKey: "grant-old")
            #expect(again.entry != first.entry, "after the window the call runs again")
            #expect(try await engine.ledger.balance(user: user).total == 21)
            await expectEngineError(.conflict) {
                try await engine.ledger.grant(user: user, amount: 2, reason: "recent", idempotencyKey: "grant-new")
            }
        }
    }

    @Test(arguments: Backend.allCases) func theSameGrantKeyWithOtherParametersIsAConflict(_ backend: Backend) async throws {
        try await withEngine(on: backend, freeOnSignup: 10) { engine in
            let user = try await engine.user()
            let other = try await engine.user()
            _ = try await engine.ledger.grant(user: user, amount: 5, reason: "goodwill", idempotencyKey: "grant-1")
            let before = try await engine.rowCounts()
            await expectEngineError(.conflict) {
                try await engine.ledger.grant(user: user, amount: 6, reason: "goodwill", idempotencyKey: "grant-1")
            }
            await expectEngineError(.conflict) {
                try await engine.ledger.grant(user: user, amount: 5, reason: "other", idempotencyKey: "grant-1")
            }
            await expectEngineError(.conflict) {
                try await engine.ledger.grant(user: other, amount: 5, reason: "goodwill", idempotencyKey: "grant-1")
            }
            await expectEngineError(.conflict) {
                try await engine.ledger.grant(
                    user: user, amount: 5, bucket: .monthly, reason: "goodwill", idempotencyKey: "grant-1")
            }
            #expect(try await engine.rowCounts() == before)
        }
    }

    @Test(arguments: Backend.allCases) func concurrentGrantsWithOneKeyApplyOnce(_ backend: Backend) async throws {
        try await withEngine(on: backend, freeOnSignup: 0) { engine in
            let user = try await engine.user()
            let results = try await withThrowingTaskGroup(of: CreditGrant.self) { group in
                for _ in 0..<40 {
                    group.addTask {
                        try await engine.ledger.grant(user: user, amount: 3, reason: "once", idempotencyKey: "same")
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(Set(results).count == 1)
            #expect(try await engine.ledger.balance(user: user).total == 3)
            #expect(try await engine.count("credit_entries") == 1)
        }
    }

    @Test(arguments: Backend.allCases) func aHoldRepeatedWithItsKeyReservesOnceAndReturnsTheSameHold(_ backend: Backend) async throws {
        try await withEngine(on: backend, freeOnSignup: 10) { engine in
            let user = try await engine.user()
            let first = try await engine.ledger.hold(user: user, amount: 4, reference: "gen-1", idempotencyKey: "hold-1")
            let again = try await engine.ledger.hold(user: user, amount: 4, reference: "gen-1", idempotencyKey: "hold-1")
            #expect(again == first)
            #expect(try await engine.count("credit_holds") == 1)
            let balance = try await engine.ledger.balance(user: user)
            #expect(balance.held == 4)
            #expect(balance.total == 6)
        }
    }

    @Test(arguments: Backend.allCases) func theSameHoldKeyWithOtherParametersIsAConflict(_ backend: Backend) async throws {
        try await withEngine(on: backend, freeOnSignup: 10) { engine in
            let user = try await engine.user()
            _ = try await engine.ledger.hold(user: user, amount: 4, reference: "gen-1", idempotencyKey: "hold-1")
            let before = try await engine.rowCounts()
            await expectEngineError(.conflict) {
                try await engine.ledger.hold(user: user, amount: 2, reference: "gen-1", idempotencyKey: "hold-1")
            }
            await expectEngineError(.conflict) {
                try await engine.ledger.hold(user: user, amount: 4, reference: "gen-2", idempotencyKey: "hold-1")
            }
            #expect(try await engine.rowCounts() == before)
        }
    }

    @Test(arguments: Backend.allCases) func aRefusedHoldLeavesItsKeyFreeForARetry(_ backend: Backend) async throws {
        try await withEngine(on: backend, freeOnSignup: 2) { engine in
            let user = try await engine.user()
            await expectEngineError(.insufficientCredits) {
                try await engine.ledger.hold(user: user, amount: 4, reference: "gen-1", idempotencyKey: "hold-1")
            }
            #expect(try await engine.count("idempotency") == 0)
            _ = try await engine.ledger.grant(user: user, amount: 2, reason: "top-up")
            let hold = try await engine.ledger.hold(user: user, amount: 4, reference: "gen-1", idempotencyKey: "hold-1")
            #expect(hold.status == .held)
        }
    }

    @Test(arguments: Backend.allCases) func grantAndHoldKeysLiveInSeparateScopes(_ backend: Backend) async throws {
        try await withEngine(on: backend, freeOnSignup: 10) { engine in
            let user = try await engine.user()
            _ = try await engine.ledger.grant(user: user, amount: 1, reason: "r", idempotencyKey: "k")
            let hold = try await engine.ledger.hold(user: user, amount: 1, reference: "gen-1", idempotencyKey: "k")
            #expect(hold.amount == 1)
        }
    }

    @Test(arguments: ["", String(repeating: "k", count: 256)])
    func keysMustBeOneTo255Bytes(key: String) async throws {
        try await withEngine(freeOnSignup: 10) { engine in
            let user = try await engine.user()
            let before = try await engine.rowCounts()
            await expectEngineError(.invalidParameter, parameter: "idempotency_key") {
                try await engine.ledger.grant(user: user, amount: 1, reason: "r", idempotencyKey: key)
            }
            await expectEngineError(.invalidParameter, parameter: "idempotency_key") {
                try await engine.ledger.hold(user: user, amount: 1, reference: "gen-1", idempotencyKey: key)
            }
            #expect(try await engine.rowCounts() == before)
        }
    }
}
