import Build
import Foundation
import GRDB
import Logging
import Protocol
import Synchronization
import Testing
import VectortTesting

@testable import Engine
@testable import Generation
import VectortCore

@testable import Storage

/// A fresh SQLite backend in its own temporary directory with its writer running, and the
/// engine's services over its repositories, all reading the same `TestClock`. The SQL-level
/// tests reach the database and the writer through `storage`.
struct TestEngine: Sendable {
    let directory: URL
    let storage: SQLiteStorage
    let clock: TestClock
    let users: Users
    let ledger: Ledger
    let projects: Projects
    let versions: Versions
    let exporter: ZipExporter

    var database: Storage.Database { storage.database }
    var writer: LedgerWriter { storage.writer }
    var pool: DatabasePool { database.pool }

    /// Creates a user and returns its id.
    func user(_ email: String = "user-\(UUID().uuidString.prefix(8))@example.com") async throws -> String {
        try await users.create(email: email).id
    }

    func count(_ table: String, where condition: String = "1") async throws -> Int {
        try await pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table) WHERE \(condition)") ?? 0 }
    }

    /// Row counts of every table a write can touch; compared before and after a refused request.
    func rowCounts() async throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for table in [
            "users", "projects", "versions", "version_files", "credit_entries", "credit_balances", "credit_holds",
            "idempotency",
        ] {
            counts[table] = try await count(table)
        }
        return counts
    }

    /// Every ledger invariant, checked in one read transaction (a consistent snapshot).
    /// Returns the violations; empty means the ledger is sound.
    ///
    /// Usage is matched to its hold by the hold's reference, so callers use a unique reference
    /// per hold.
    func ledgerViolations() async throws -> [String] {
        try await pool.read { db in
            var violations: [String] = []
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT b.user_id, b.bucket, b.balance,
                           COALESCE((SELECT SUM(amount) FROM credit_entries e
                                     WHERE e.user_id = b.user_id AND e.bucket = b.bucket), 0) AS journal
                    FROM credit_balances b
                    """)
            {
                let user: String = row["user_id"], bucket: String = row["bucket"]
                let balance: Int = row["balance"], journal: Int = row["journal"]
                if balance != journal { violations.append("\(user)/\(bucket): cached \(balance), journal \(journal)") }
                // Only a refund or dispute may take a bucket below zero (credits already spent).
                if balance < 0 {
                    let reversals = try Int.fetchOne(
                        db, sql: "SELECT COUNT(*) FROM credit_entries WHERE user_id = ? AND bucket = ? AND kind IN ('refund', 'reversal')",
                        arguments: [user, bucket]) ?? 0
                    if reversals == 0 { violations.append("\(user)/\(bucket): negative balance \(balance)") }
                }
            }
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT h.id, h.user_id, h.status, h.amount, h.charged,
                           h.from_monthly + h.from_free + h.from_topup AS allocated,
                           COALESCE((SELECT SUM(amount) FROM credit_entries e
                                     WHERE e.reference = h.id AND e.kind IN ('hold', 'release')), 0) AS reserved,
                           COALESCE((SELECT SUM(amount) FROM credit_entries e
                                     WHERE e.user_id = h.user_id AND e.reference = h.reference
                                       AND e.kind = 'usage'), 0) AS used
                    FROM credit_holds h
                    """)
            {
                let id: String = row["id"], status: String = row["status"]
                let amount: Int = row["amount"], reserved: Int = row["reserved"], used: Int = row["used"]
                let allocated: Int = row["allocated"]
                if allocated != amount {
                    violations.append("hold \(id): allocations of \(allocated) do not add up to \(amount)")
                }
                switch status {
                case "held":
                    if reserved != -amount { violations.append("open hold \(id) of \(amount) reserves \(-reserved)") }
                    if used != 0 { violations.append("open hold \(id) already used \(-used)") }
                case "settled":
                    let charged: Int? = row["charged"]
                    if reserved != 0 { violations.append("settled hold \(id) still reserves \(-reserved)") }
                    if used != -(charged ?? -1) { violations.append("settled hold \(id) charged \(charged ?? -1), used \(-used)") }
                default:
                    if reserved != 0 { violations.append("released hold \(id) still reserves \(-reserved)") }
                    if used != 0 { violations.append("released hold \(id) used \(-used)") }
                }
            }
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT u.id,
                           COALESCE((SELECT SUM(amount) FROM credit_holds h WHERE h.user_id = u.id AND h.status = 'held'), 0)
                               AS held,
                           COALESCE((SELECT SUM(amount) FROM credit_entries e
                                     WHERE e.user_id = u.id AND e.kind IN ('hold', 'release')), 0) AS reserved
                    FROM users u
                    """)
            {
                let user: String = row["id"], held: Int = row["held"], reserved: Int = row["reserved"]
                if held != -reserved { violations.append("\(user): open holds \(held), hold entries \(-reserved)") }
            }
            return violations
        }
    }
}

/// Runs `body` against a fresh `TestEngine`, then stops its writer whatever happened.
func withEngine<T>(
    freeOnSignup: Int = 10, limits: VersionLimits = VersionLimits(), maxBatch: Int = 512, builder: SiteBuilder? = nil,
    _ body: (TestEngine) async throws -> T
) async throws -> T {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vte-\(UUID().uuidString)")
    let storage = try SQLiteStorage.open(
        path: directory.appendingPathComponent("vectortd.sqlite").path, maxBatch: maxBatch,
        logger: Logger(label: "engine-tests"))
    let running = Task { await storage.run() }
    // 2027-01-15T08:00:00Z, inside the range a ZIP (DOS) timestamp can hold.
    let clock = TestClock(date: Date(timeIntervalSince1970: 1_800_000_000))
    let now: @Sendable () -> Date = { clock.date }
    let versions = Versions(repository: storage.versions, limits: limits, builder: builder, now: now)
    let engine = TestEngine(
        directory: directory, storage: storage, clock: clock,
        users: Users(repository: storage.users, freeOnSignup: freeOnSignup, now: now),
        ledger: Ledger(repository: storage.ledger, now: now),
        projects: Projects(repository: storage.projects, now: now),
        versions: versions, exporter: ZipExporter(versions: versions))
    let result: Result<T, any Error>
    do { result = .success(try await body(engine)) } catch { result = .failure(error) }
    storage.stop()
    await running.value
    try? FileManager.default.removeItem(at: directory)
    return try result.get()
}

/// Expects `body` to throw the engine error `name` (with `parameter`, for InvalidParameter)
/// and returns it as it would travel on the wire.
@discardableResult
func expectEngineError<T>(
    _ name: ErrorName, parameter: String? = nil, sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () async throws -> T
) async -> WireError? {
    do {
        let value = try await body()
        Issue.record("expected \(name.rawValue), got \(value)", sourceLocation: sourceLocation)
        return nil
    } catch let error as EngineError {
        #expect(error.wireError.name == name, "\(error)", sourceLocation: sourceLocation)
        if let parameter {
            #expect(error.wireError.details["parameter"] == .string(parameter), "\(error)", sourceLocation: sourceLocation)
        }
        return error.wireError
    } catch {
        Issue.record("expected \(name.rawValue), got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

