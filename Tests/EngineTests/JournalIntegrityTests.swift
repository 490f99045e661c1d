import Foundation
import GRDB
import Protocol
import Testing

@testable import Engine
@testable import Generation
@testable import Storage

@Suite("The journal is append-only and Verify finds every mismatch")
struct JournalIntegrityTests {
    @Test(arguments: [
        "UPDATE credit_entries SET amount = 1000",
        "UPDATE credit_entries SET kind = 'adjustment' WHERE kind = 'grant'",
        "DELETE FROM credit_entries",
        "DELETE FROM credit_entries WHERE kind = 'grant'",
    ])
    func entriesCannotBeUpdatedOrDeleted(statement: String) async throws {
        try await withEngine(freeOnSignup: 10) { engine in
            let user = try await engine.user()
            let history = try await engine.ledger.history(user: user)
            await #expect(throws: DatabaseError.self) {
                try await engine.pool.write { db in try db.execute(sql: statement) }
            }
            #expect(try await engine.ledger.history(user: user) == history)
        }
    }

    @Test func theRefusalNamesTheAppendOnlyRule() async throws {
        try await withEngine(freeOnSignup: 10) { engine in
            _ = try await engine.user()
            do {
                try await engine.pool.write { db in try db.execute(sql: "DELETE FROM credit_entries") }
                Issue.record("DELETE succeeded")
            } catch let error as DatabaseError {
                #expect(error.message?.contains("append-only") == true, "\(error)")
            }
        }
    }

    @Test func anEntryOfZeroCreditsCannotBeWritten() async throws {
        try await withEngine { engine in
            let user = try await engine.user()
            await #expect(throws: DatabaseError.self) {
                try await engine.pool.write { db in
                    try db.execute(
                        sql: """
                            INSERT INTO credit_entries(user_id, bucket, amount, kind, created_at)
                            VALUES (?, 'free', 0, 'adjustment', '2027-01-01T00:00:00.000Z')
                            """, arguments: [user])
                }
            }
        }
    }

    @Test func verifyReportsACachedBalanceThatDriftedFromTheJournal() async throws {
        try await withEngine(freeOnSignup: 10) { engine in
            let user = try await engine.user()
            _ = try await engine.ledger.grant(user: user, amount: 5, reason: "r")
            let clean = try await engine.ledger.verify()
            #expect(clean.ok)
            #expect(clean.balancesChecked == 2)
            #expect(clean.entriesChecked == 2)
            #expect(clean.mismatches.isEmpty)

            try await engine.pool.write { db in
                try db.execute(
                    sql: "UPDATE credit_balances SET balance = balance + 3 WHERE user_id = ? AND bucket = 'topup'",
                    arguments: [user])
            }
            let drifted = try await engine.ledger.verify()
            #expect(!drifted.ok)
            #expect(drifted.mismatches == [.init(user: user, bucket: "topup", cached: 8, computed: 5)])
        }
    }

    @Test func verifyReportsJournalEntriesWithoutACachedBalance() async throws {
        try await withEngine(freeOnSignup: 10) { engine in
            let user = try await engine.user()
            try await engine.pool.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO credit_entries(user_id, bucket, amount, kind, created_at)
                        VALUES (?, 'topup', 4, 'adjustment', '2027-01-01T00:00:00.000Z')
                        """, arguments: [user])
            }
            let verification = try await engine.ledger.verify()
            #expect(!verification.ok)
            #expect(verification.mismatches == [.init(user: user, bucket: "topup", cached: 0, computed: 4)])
        }
    }
}
