import Foundation
import GRDB
import Protocol
import Testing
import VectortTesting

@testable import Engine
@testable import Generation
import VectortCore

@testable import Storage

@Suite("Holds left behind by a crash are released")
struct StaleHoldTests {
    @Test(arguments: Backend.allCases) func releasingStaleHoldsWithoutAnAgeReleasesEveryOpenHold(_ backend: Backend) async throws {
        try await withEngine(on: backend, freeOnSignup: 10) { engine in
            let first = try await engine.user()
            let second = try await engine.user()
            var holds: [String] = []
            for i in 0..<3 { holds.append(try await engine.ledger.hold(user: first, amount: 2, reference: "a\(i)").id) }
            holds.append(try await engine.ledger.hold(user: second, amount: 5, reference: "b0").id)
            let settled = try await engine.ledger.hold(user: second, amount: 1, reference: "b1")
            _ = try await engine.ledger.settle(hold: settled.id)

            #expect(try await engine.ledger.releaseStaleHolds() == 4)
            #expect(try await engine.count("credit_holds", where: "status = 'held'") == 0)
            #expect(try await engine.count("credit_holds", where: "status = 'settled'") == 1, "a settled hold stays settled")
            #expect(try await engine.ledger.balance(user: first) == CreditBalance(
                user: first, total: 10, buckets: ["free": 10, "monthly": 0, "topup": 0], held: 0, monthlyExpiresAt: nil))
            #expect(try await engine.ledger.balance(user: second).total == 9)
            #expect(try await engine.ledger.releaseStaleHolds() == 0, "nothing is left to release")
            #expect(try await engine.ledger.verify().ok)
            #expect(try await engine.ledgerViolations() == [])
        }
    }

    @Test(arguments: Backend.allCases) func releasingStaleHoldsOlderThanACutoffLeavesYoungerOnesOpen(_ backend: Backend) async throws {
        try await withEngine(on: backend, freeOnSignup: 20) { engine in
            let user = try await engine.user()
            var old: [String] = []
            for i in 0..<3 { old.append(try await engine.ledger.hold(user: user, amount: 2, reference: "old\(i)").id) }
            engine.clock.advance(by: .seconds(600))
            let cutoff = engine.clock.date
            engine.clock.advance(by: .seconds(600))
            var young: [String] = []
            for i in 0..<2 { young.append(try await engine.ledger.hold(user: user, amount: 3, reference: "new\(i)").id) }

            #expect(try await engine.ledger.releaseStaleHolds(olderThan: cutoff) == 3)
            let statuses = Dictionary(
                uniqueKeysWithValues: try await engine.rows("SELECT id, status FROM credit_holds").map { ($0["id"] ?? "", $0["status"] ?? "") })
            for id in old { #expect(statuses[id] == "released") }
            for id in young { #expect(statuses[id] == "held") }
            let balance = try await engine.ledger.balance(user: user)
            #expect(balance.held == 6)
            #expect(balance.total == 14)
            #expect(try await engine.ledgerViolations() == [])
        }
    }
}
