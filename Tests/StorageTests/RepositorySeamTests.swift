import Foundation
import Logging
import Protocol
import Testing
import VectortCore
import VectortTesting

import Storage

/// The seam as the engine sees it: a backend and its repositories as protocols, nothing of
/// SQLite in sight. What holds here must hold for any backend put behind them.
@Suite("Storage seam: the SQLite backend through its protocols")
struct RepositorySeamTests {
    /// A fresh SQLite backend, running while `body` does.
    private func withBackend(_ body: (any StorageBackend) async throws -> Void) async throws {
        let directory = try TemporaryDirectory(prefix: "vt-seam")
        let backend: any StorageBackend = try SQLiteStorage.open(
            path: directory.file("vectortd.sqlite"), logger: Logger(label: "seam-tests"))
        let running = Task { await backend.run() }
        let result: Result<Void, any Error>
        do { result = .success(try await body(backend)) } catch { result = .failure(error) }
        backend.stop()
        await running.value
        try result.get()
    }

    @Test func aHoldSettlesThroughTheLedgerRepository() async throws {
        try await withBackend { backend in
            let now = Date(timeIntervalSince1970: 1_800_000_000)
            let ledger: any LedgerRepository = backend.ledger
            let user = try await backend.users.create(
                email: "seam@example.com", emailKey: "seam@example.com", fullName: nil, passwordHash: nil,
                freeCredits: 10, now: now
            ).id
            #expect(try await ledger.balance(user: user, now: now).total == 10)

            let hold = try await ledger.hold(user: user, amount: 7, reference: "job-1", idempotencyKey: nil, now: now)
            #expect(hold.status == .held)
            #expect(hold.allocations == ["free": 7])
            let held = try await ledger.balance(user: user, now: now)
            #expect(held.total == 3)
            #expect(held.held == 7)

            let settled = try await ledger.settle(hold: hold.id, charged: 5, now: now)
            #expect(settled.status == .settled)
            #expect(settled.charged == 5)
            let after = try await ledger.balance(user: user, now: now)
            #expect(after.total == 5)
            #expect(after.held == 0)

            // A settled hold cannot be released, and a hold beyond the balance has no effect.
            let released = await #expect(throws: EngineError.self) { try await ledger.release(hold: hold.id, now: now) }
            #expect(released?.wireError.name == .conflict)
            let refused = await #expect(throws: EngineError.self) {
                try await ledger.hold(user: user, amount: 6, reference: "job-2", idempotencyKey: nil, now: now)
            }
            #expect(refused?.wireError.name == .insufficientCredits)
            #expect(try await ledger.balance(user: user, now: now).total == 5)

            let history = try await ledger.history(user: user, limit: 10, before: nil)
            #expect(history.entries.map(\.kind) == ["usage", "release", "hold", "grant"])
            #expect(try await ledger.verify().mismatches.isEmpty)
        }
    }
}
