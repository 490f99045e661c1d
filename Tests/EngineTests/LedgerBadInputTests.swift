import Foundation
import Protocol
import Testing

@testable import Engine
@testable import Generation
import VectortCore

@testable import Storage

@Suite("Ledger bad input: a named error and nothing written")
struct LedgerBadInputTests {
    /// Runs `body`, expects the named error, and checks that no table changed.
    private func expectRefusal<T>(
        _ engine: TestEngine, _ name: ErrorName, parameter: String? = nil,
        sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> T
    ) async throws {
        let before = try await engine.rowCounts()
        await expectEngineError(name, parameter: parameter, sourceLocation: sourceLocation, body)
        #expect(try await engine.rowCounts() == before, sourceLocation: sourceLocation)
    }

    @Test(arguments: Backend.allCases, [0, -1, -10, Int.min])
    func grantsAndHoldsOfNoOrNegativeCreditsAreRefused(_ backend: Backend, amount: Int) async throws {
        try await withEngine(on: backend) { engine in
            let user = try await engine.user()
            try await expectRefusal(engine, .invalidParameter, parameter: "amount") {
                try await engine.ledger.grant(user: user, amount: amount, reason: "r")
            }
            try await expectRefusal(engine, .invalidParameter, parameter: "amount") {
                try await engine.ledger.hold(user: user, amount: amount, reference: "gen-1")
            }
        }
    }

    @Test(arguments: Backend.allCases) func aGrantTooLargeIsRefused(_ backend: Backend) async throws {
        try await withEngine(on: backend) { engine in
            let user = try await engine.user()
            try await expectRefusal(engine, .invalidParameter, parameter: "amount") {
                try await engine.ledger.grant(user: user, amount: 1_000_000_001, reason: "r")
            }
            try await expectRefusal(engine, .invalidParameter, parameter: "amount") {
                try await engine.ledger.grant(user: user, amount: Int.max, reason: "r")
            }
        }
    }

    @Test(arguments: Backend.allCases) func aHoldFarLargerThanAnyBalanceIsInsufficientCredits(_ backend: Backend) async throws {
        try await withEngine(on: backend) { engine in
            let user = try await engine.user()
            try await expectRefusal(engine, .insufficientCredits) {
                try await engine.ledger.hold(user: user, amount: Int.max, reference: "gen-1")
            }
        }
    }

    @Test(arguments: Backend.allCases) func anUnknownUserIsNotFoundEverywhere(_ backend: Backend) async throws {
        try await withEngine(on: backend) { engine in
            let nobody = "u_0000000000000000"
            let error = await expectEngineError(.notFound) { try await engine.ledger.balance(user: nobody) }
            #expect(error?.details["kind"] == .string("user"))
            #expect(error?.details["id"] == .string(nobody))
            try await expectRefusal(engine, .notFound) { try await engine.ledger.grant(user: nobody, amount: 1, reason: "r") }
            try await expectRefusal(engine, .notFound) {
                try await engine.ledger.hold(user: nobody, amount: 1, reference: "gen-1")
            }
            try await expectRefusal(engine, .notFound) { try await engine.ledger.history(user: nobody) }
        }
    }

    @Test(arguments: Backend.allCases, ["", "   ", "\n\t", String(repeating: "r", count: 501)])
    func aGrantNeedsAReasonOfOneTo500Characters(_ backend: Backend, reason: String) async throws {
        try await withEngine(on: backend) { engine in
            let user = try await engine.user()
            try await expectRefusal(engine, .invalidParameter, parameter: "reason") {
                try await engine.ledger.grant(user: user, amount: 1, reason: reason)
            }
        }
    }

    @Test(arguments: Backend.allCases, ["", String(repeating: "g", count: 256)])
    func aHoldNeedsAReferenceOfOneTo255Bytes(_ backend: Backend, reference: String) async throws {
        try await withEngine(on: backend) { engine in
            let user = try await engine.user()
            try await expectRefusal(engine, .invalidParameter, parameter: "reference") {
                try await engine.ledger.hold(user: user, amount: 1, reference: reference)
            }
        }
    }

    @Test(arguments: Backend.allCases) func aDisabledUserCanNeitherHoldNorBeGrantedCredits(_ backend: Backend) async throws {
        try await withEngine(on: backend, freeOnSignup: 10) { engine in
            let user = try await engine.user()
            let open = try await engine.ledger.hold(user: user, amount: 2, reference: "gen-0")
            _ = try await engine.users.disable(user)
            try await expectRefusal(engine, .conflict) {
                try await engine.ledger.hold(user: user, amount: 1, reference: "gen-1")
            }
            try await expectRefusal(engine, .conflict) { try await engine.ledger.grant(user: user, amount: 1, reason: "r") }
            #expect(try await engine.ledger.balance(user: user).total == 8, "a disabled user's balance is still readable")
            #expect(try await engine.ledger.release(hold: open.id).status == .released, "a running hold can still end")
        }
    }

    @Test(arguments: Backend.allCases, [0, -1, 501])
    func historyPagesAreOneTo500Entries(_ backend: Backend, limit: Int) async throws {
        try await withEngine(on: backend) { engine in
            let user = try await engine.user()
            await expectEngineError(.invalidParameter, parameter: "limit") {
                try await engine.ledger.history(user: user, limit: limit)
            }
        }
    }

    @Test(arguments: Backend.allCases, ["", "abc", "0", "-3"])
    func historyCursorsAreEntryIDs(_ backend: Backend, after: String) async throws {
        try await withEngine(on: backend) { engine in
            let user = try await engine.user()
            await expectEngineError(.invalidParameter, parameter: "after") {
                try await engine.ledger.history(user: user, after: after)
            }
        }
    }
}
