import Foundation
import GRDB
import Protocol
import Testing

@testable import Engine
@testable import Generation
@testable import Storage

@Suite("The journal is append-only and Verify finds every mismatch")
struct JournalIntegrityTests {
    @Test(arguments: Backend.allCases, [
        "UPDATE credit_entries SET amount = 1000",
        "UPDATE credit_entries SET kind = 'adjustment' WHERE kind = 'grant'",
        "DELETE FROM credit_entries",
        "DELETE FROM credit_entries WHERE kind = 'grant'",
    ])
    func entriesCannotBeUpdatedOrDeleted(_ backend: Backend, statement: String) async throws {
        try await withEngine(on: backend, freeOnSignup: 10) { engine in
            let user = try await engine.user()
            let history = try await engine.ledger.history(user: user)
            await #expect(throws: TestEngine.SQLRefusal.self) {
                try await engine.execute(statement)
            }
            #expect(try await engine.ledger.history(user: user) == history)
        }
    }

    @Test(arguments: Backend.allCases) func theRefusalNamesTheAppendOnlyRule(_ backend: Backend) async throws {
        try await withEngine(on: backend, freeOnSignup: 10) { engine in
            _ = try await engine.user()
            do {
                try await engine.execute("DELETE FROM credit_entries")
                Issue.record("DELETE succeeded")
            } catch let error as TestEngine.SQLRefusal {
                #expect(error.message.contains("append-only"), "\(error)")
            }
        }
    }

    @Test(arguments: Backend.allCases) func anEntryOfZeroCreditsCannotBeWritten(_ backend: Backend) async throws {
        try await withEngine(on: backend) { engine in
            let user = try await engine.user()
            await #expect(throws: TestEngine.SQLRefusal.self) {
                try await engine.execute(
                    """
                    INSERT INTO credit_entries(user_id, bucket, amount, kind, created_at)
                    VALUES ('\(user)', 'free', 0, 'adjustment', '2027-01-01T00:00:00.000Z')
                    """)
            }
        }
    }

    @Test(arguments: Backend.allCases) func verifyReportsACachedBalanceThatDriftedFromTheJournal(_ backend: Backend) async throws {
        try await withEngine(on: backend, freeOnSignup: 10) { engine in
            let user = try await engine.user()
            _ = try await engine.ledger.grant(user: user, amount: 5, reason: "r")
            let clean = try await engine.ledger.verify()
            #expect(clean.ok)
            #expect(clean.balancesChecked == 2)
            #expect(clean.entriesChecked == 2)
            #expect(clean.mismatches.isEmpty)

            try await engine.execute("UPDATE credit_balances SET balance = balance + 3 WHERE user_id = '\(user)' AND bucket = 'topup'")
            let drifted = try await engine.ledger.verify()
            #expect(!drifted.ok)
            #expect(drifted.mismatches == [.init(user: user, bucket: "topup", cached: 8, computed: 5)])
        }
    }

    @Test(arguments: Backend.allCases) func verifyReportsJournalEntriesWithoutACachedBalance(_ backend: Backend) async throws {
        try await withEngine(on: backend, freeOnSignup: 10) { engine in
            let user = try await engine.user()
            try await engine.execute(
                """
                INSERT INTO credit_entries(user_id, bucket, amount, kind, created_at)
                VALUES ('\(user)', 'topup', 4, 'adjustment', '2027-01-01T00:00:00.000Z')
                """)
            let verification = try await engine.ledger.verify()
            #expect(!verification.ok)
            #expect(verification.mismatches == [.init(user: user, bucket: "topup", cached: 0, computed: 4)])
        }
    }
}
