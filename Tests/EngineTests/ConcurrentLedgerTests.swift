import Foundation
import GRDB
import Protocol
import Synchronization
import Testing
import VectortTesting

@testable import Engine
@testable import Generation
import VectortCore

@testable import Storage

@Suite("Ledger under concurrent load: no credit lost, none spent twice")
struct ConcurrentLedgerTests {
    @Test(arguments: Backend.allCases) func twoHundredParallelHoldsOfTwoAgainstTenCreditsLetExactlyFiveThrough(_ backend: Backend) async throws {
        try await withEngine(on: backend, freeOnSignup: 10) { engine in
            let user = try await engine.user()
            let entriesBefore = try await engine.count("credit_entries")
            let outcomes = await withTaskGroup(of: Result<CreditHold, any Error>.self) { group in
                for i in 0..<200 {
                    group.addTask {
                        do {
                            return .success(try await engine.ledger.hold(user: user, amount: 2, reference: "gen-\(i)"))
                        } catch {
                            return .failure(error)
                        }
                    }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            let holds = outcomes.compactMap { try? $0.get() }
            #expect(holds.count == 5)
            #expect(Set(holds.map(\.id)).count == 5)
            #expect(holds.allSatisfy { $0.status == .held && $0.amount == 2 && $0.allocations == ["free": 2] })

            let failures = outcomes.compactMap { outcome -> (any Error)? in
                if case .failure(let error) = outcome { return error }
                return nil
            }
            #expect(failures.count == 195)
            for failure in failures {
                let wire = (failure as? EngineError)?.wireError
                #expect(wire?.name == .insufficientCredits, "\(failure)")
                #expect(wire?.name.rawValue == "io.vectort.InsufficientCredits")
                #expect(wire?.details["required"] == .int(2))
                #expect(wire?.details["available"] == .int(0))
            }

            let balance = try await engine.ledger.balance(user: user)
            #expect(balance.total == 0)
            #expect(balance.held == 10)
            #expect(try await engine.count("credit_holds") == 5, "a refused hold leaves no row")
            #expect(try await engine.count("credit_entries") == entriesBefore + 5, "a refused hold leaves no entry")
            #expect(try await engine.ledger.verify().ok)
            #expect(try await engine.ledgerViolations() == [])
        }
    }

    /// Grants, holds, settles (in full and in part) and releases from many tasks over several
    /// users, with snapshot checks running alongside: every invariant holds at every snapshot,
    /// and at the end each balance is exactly sign-up + grants − charges.
    @Test(arguments: Backend.allCases) func mixedParallelGrantsHoldsSettlesAndReleasesKeepEveryInvariant(_ backend: Backend) async throws {
        try await withEngine(on: backend, freeOnSignup: 10) { engine in
            var users: [String] = []
            for i in 0..<4 { users.append(try await engine.user("load\(i)@example.com")) }
            let expected = Locked(Dictionary(uniqueKeysWithValues: users.map { ($0, 10) }))
            let counters = Locked((holds: 0, refused: 0, settled: 0, released: 0))
            let userIDs = users

            let snapshotViolations = try await withThrowingTaskGroup(of: [String].self) { group in
                group.addTask {
                    var violations: [String] = []
                    for _ in 0..<25 {
                        violations += try await engine.ledgerViolations()
                        await Task.yield()
                    }
                    return violations
                }
                for operation in 0..<320 {
                    group.addTask {
                        var random = SeededGenerator(seed: UInt64(operation) &+ 0x5EED)
                        let user = userIDs[Int.random(in: 0..<userIDs.count, using: &random)]
                        switch Int.random(in: 0..<100, using: &random) {
                        case 0..<20:
                            let amount = Int.random(in: 1...5, using: &random)
                            _ = try await engine.ledger.grant(user: user, amount: amount, reason: "load \(operation)")
                            expected.withLock { $0[user, default: 0] += amount }
                        case 20..<30:
                            let amount = Int.random(in: 1...5, using: &random)
                            _ = try await engine.ledger.grant(
                                user: user, amount: amount, bucket: .monthly, reason: "subscription \(operation)")
                            expected.withLock { $0[user, default: 0] += amount }
                        default:
                            let amount = Int.random(in: 1...6, using: &random)
                            let hold: CreditHold
                            do {
                                hold = try await engine.ledger.hold(user: user, amount: amount, reference: "op-\(operation)")
                            } catch let error as EngineError where error.wireError.name == .insufficientCredits {
                                counters.withLock { $0.refused += 1 }
                                return []
                            }
                            counters.withLock { $0.holds += 1 }
                            await Task.yield()
                            switch Int.random(in: 0..<3, using: &random) {
                            case 0:
                                let settled = try await engine.ledger.settle(hold: hold.id)
                                #expect(settled.charged == amount)
                                expected.withLock { $0[user, default: 0] -= amount }
                                counters.withLock { $0.settled += 1 }
                            case 1:
                                let charged = Int.random(in: 0..<amount, using: &random)
                                let settled = try await engine.ledger.settle(hold: hold.id, charged: charged)
                                #expect(settled.charged == charged)
                                expected.withLock { $0[user, default: 0] -= charged }
                                counters.withLock { $0.settled += 1 }
                            default:
                                let released = try await engine.ledger.release(hold: hold.id)
                                #expect(released.status == .released)
                                counters.withLock { $0.released += 1 }
                            }
                        }
                        return []
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }

            #expect(snapshotViolations == [])
            #expect(try await engine.ledgerViolations() == [])
            let verification = try await engine.ledger.verify()
            #expect(verification.ok, "\(verification.mismatches)")
            #expect(try await engine.count("credit_holds", where: "status = 'held'") == 0)

            let tally = counters.withLock { $0 }
            #expect(tally.holds > 0 && tally.settled > 0 && tally.released > 0)
            #expect(tally.holds == tally.settled + tally.released)
            #expect(try await engine.count("credit_holds") == tally.holds)

            let totals = expected.withLock { $0 }
            for user in users {
                let balance = try await engine.ledger.balance(user: user)
                #expect(balance.held == 0)
                // A monthly grant expires what was left of the previous period (no carry-over):
                // those expiry entries come off the model's sum.
                let expired = Int(
                    try await engine.rows(
                        "SELECT COALESCE(SUM(amount), 0) AS s FROM credit_entries WHERE user_id = '\(user)' AND kind = 'expiry'"
                    ).first?["s"] ?? "") ?? 0
                #expect(balance.total == (totals[user] ?? 0) + expired, "user \(user)")
                #expect(balance.buckets.values.allSatisfy { $0 >= 0 })
                let journal = try await engine.rows("SELECT SUM(amount) AS s FROM credit_entries WHERE user_id = '\(user)'")
                    .first?["s"].flatMap { Int($0) }
                #expect(journal == balance.total, "the journal adds up to the balance when nothing is held")
            }
        }
    }

    @Test(arguments: Backend.allCases) func concurrentHoldsOfOneUserNeverOverdrawAnyBucket(_ backend: Backend) async throws {
        try await withEngine(on: backend, freeOnSignup: 5) { engine in
            let user = try await engine.user()
            _ = try await engine.ledger.grant(user: user, amount: 4, bucket: .monthly, reason: "subscription")
            _ = try await engine.ledger.grant(user: user, amount: 6, reason: "top-up")
            let held = await withTaskGroup(of: Int.self) { group in
                for i in 0..<60 {
                    group.addTask {
                        let amount = 1 + i % 3
                        return (try? await engine.ledger.hold(user: user, amount: amount, reference: "h\(i)")).map(\.amount) ?? 0
                    }
                }
                return await group.reduce(0, +)
            }
            let balance = try await engine.ledger.balance(user: user)
            #expect(held == balance.held)
            #expect(balance.total + balance.held == 15)
            #expect(balance.total < 3, "a hold is refused only when fewer credits than it asks for are left")
            #expect(try await engine.ledgerViolations() == [])
        }
    }
}
