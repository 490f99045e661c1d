import Build
import Foundation
import GRDB
import Logging
import Protocol
import Synchronization
import PostgresNIO
import Testing
import VectortTesting

@testable import Engine
@testable import Generation
import VectortCore

@testable import Storage

/// The storage backends the engine runs on; a suite that holds for both takes
/// `Backend.allCases` as its arguments.
enum Backend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgresql

    var testDescription: String { rawValue }
}

/// A fresh backend (a SQLite file in its own temporary directory, or a fresh database on the
/// test process's PostgreSQL server) with its writer running, and the engine's services over
/// its repositories, all reading the same `TestClock`. SQLite's SQL-level tests reach the
/// database and the writer through `database`, `writer` and `pool`; `count`, `rows` and
/// `ledgerViolations` work on both.
struct TestEngine: Sendable {
    let directory: URL
    let backend: Backend
    let storage: any StorageBackend
    /// The SQLite backend, when it is the one.
    let sqlite: SQLiteStorage?
    let clock: TestClock
    let users: Users
    let ledger: Ledger
    let projects: Projects
    let versions: Versions
    let exporter: ZipExporter

    var database: Storage.Database {
        guard let sqlite else { preconditionFailure("a SQLite-only test ran on \(backend)") }
        return sqlite.database
    }
    var writer: LedgerWriter {
        guard let sqlite else { preconditionFailure("a SQLite-only test ran on \(backend)") }
        return sqlite.writer
    }
    var pool: DatabasePool { database.pool }

    /// Creates a user and returns its id.
    func user(_ email: String = "user-\(UUID().uuidString.prefix(8))@example.com") async throws -> String {
        try await users.create(email: email).id
    }

    func count(_ table: String, where condition: String = "1 = 1") async throws -> Int {
        Int(try await rows("SELECT COUNT(*) AS n FROM \(table) WHERE \(condition)").first?["n"] ?? "0") ?? 0
    }

    /// The rows `sql` selects, each column as text (absent when NULL): one query for both
    /// dialects, for checks that read what the backends stored.
    func rows(_ sql: String) async throws -> [[String: String]] {
        if let sqlite { return try await sqlite.database.pool.read { db in try Self.textRows(db, sql) } }
        guard let postgres = storage as? PostgresStorage else { return [] }
        var rows: [[String: String]] = []
        let query = PostgresQuery(unsafeSQL: "SELECT row_to_json(q)::text FROM (\(sql)) q")
        for try await json in try await postgres.database.client.query(query, logger: postgres.database.logger).decode(String.self) {
            let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] ?? [:]
            var values: [String: String] = [:]
            for (column, value) in object {
                switch value {
                case is NSNull: break
                case let text as String: values[column] = text
                case let number as NSNumber: values[column] = number.stringValue
                default: values[column] = "\(value)"
                }
            }
            rows.append(values)
        }
        return rows
    }

    /// What the database said when it refused a statement run with `execute`.
    struct SQLRefusal: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }

    /// Runs one statement beside the engine (a test reaching past it), in either dialect; a
    /// refusal is thrown as `SQLRefusal` with the database's own message.
    func execute(_ sql: String) async throws {
        if let sqlite {
            do {
                try await sqlite.database.pool.write { db in try db.execute(sql: sql) }
            } catch let error as DatabaseError {
                throw SQLRefusal(message: error.message ?? "\(error)")
            }
            return
        }
        guard let postgres = storage as? PostgresStorage else { return }
        do {
            _ = try await postgres.database.client.query(PostgresQuery(unsafeSQL: sql), logger: postgres.database.logger).collect()
        } catch let error as PSQLError {
            throw SQLRefusal(message: error.serverInfo?[.message] ?? "\(error)")
        }
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

    /// Every ledger invariant. Returns the violations; empty means the ledger is sound. On
    /// SQLite the three reads share one read transaction (a consistent snapshot); on
    /// PostgreSQL callers check once their writes have ended.
    ///
    /// Usage is matched to its hold by the hold's reference, so callers use a unique reference
    /// per hold.
    func ledgerViolations() async throws -> [String] {
        let queries = [
            """
            SELECT b.user_id, b.bucket, b.balance,
                   COALESCE((SELECT SUM(amount) FROM credit_entries e
                             WHERE e.user_id = b.user_id AND e.bucket = b.bucket), 0) AS journal,
                   (SELECT COUNT(*) FROM credit_entries e WHERE e.user_id = b.user_id AND e.bucket = b.bucket
                       AND e.kind IN ('refund', 'reversal')) AS reversals
            FROM credit_balances b
            """,
            """
            SELECT h.id, h.user_id, h.status, h.amount, h.charged,
                   h.from_monthly + h.from_free + h.from_topup AS allocated,
                   COALESCE((SELECT SUM(amount) FROM credit_entries e
                             WHERE e.reference = h.id AND e.kind IN ('hold', 'release')), 0) AS reserved,
                   COALESCE((SELECT SUM(amount) FROM credit_entries e
                             WHERE e.user_id = h.user_id AND e.reference = h.reference
                               AND e.kind = 'usage'), 0) AS used
            FROM credit_holds h
            """,
            """
            SELECT u.id,
                   COALESCE((SELECT SUM(amount) FROM credit_holds h WHERE h.user_id = u.id AND h.status = 'held'), 0)
                       AS held,
                   COALESCE((SELECT SUM(amount) FROM credit_entries e
                             WHERE e.user_id = u.id AND e.kind IN ('hold', 'release')), 0) AS reserved
            FROM users u
            """,
        ]
        let results: [[[String: String]]]
        if let sqlite {
            results = try await sqlite.database.pool.read { db in try queries.map { try Self.textRows(db, $0) } }
        } else {
            var fetched: [[[String: String]]] = []
            for query in queries { fetched.append(try await rows(query)) }
            results = fetched
        }
        func int(_ row: [String: String], _ column: String) -> Int { Int(row[column] ?? "") ?? 0 }
        var violations: [String] = []
        for row in results[0] {
            let user = row["user_id"] ?? "", bucket = row["bucket"] ?? ""
            let balance = int(row, "balance"), journal = int(row, "journal")
            if balance != journal { violations.append("\(user)/\(bucket): cached \(balance), journal \(journal)") }
            // Only a refund or dispute may take a bucket below zero (credits already spent).
            if balance < 0 && int(row, "reversals") == 0 { violations.append("\(user)/\(bucket): negative balance \(balance)") }
        }
        for row in results[1] {
            let id = row["id"] ?? "", status = row["status"] ?? ""
            let amount = int(row, "amount"), reserved = int(row, "reserved"), used = int(row, "used")
            let allocated = int(row, "allocated")
            if allocated != amount {
                violations.append("hold \(id): allocations of \(allocated) do not add up to \(amount)")
            }
            switch status {
            case "held":
                if reserved != -amount { violations.append("open hold \(id) of \(amount) reserves \(-reserved)") }
                if used != 0 { violations.append("open hold \(id) already used \(-used)") }
            case "settled":
                let charged = row["charged"].flatMap { Int($0) }
                if reserved != 0 { violations.append("settled hold \(id) still reserves \(-reserved)") }
                if used != -(charged ?? -1) { violations.append("settled hold \(id) charged \(charged ?? -1), used \(-used)") }
            default:
                if reserved != 0 { violations.append("released hold \(id) still reserves \(-reserved)") }
                if used != 0 { violations.append("released hold \(id) used \(-used)") }
            }
        }
        for row in results[2] {
            let user = row["id"] ?? "", held = int(row, "held"), reserved = int(row, "reserved")
            if held != -reserved { violations.append("\(user): open holds \(held), hold entries \(-reserved)") }
        }
        return violations
    }

    /// SQLite rows with each column as text (absent when NULL).
    static func textRows(_ db: GRDB.Database, _ sql: String) throws -> [[String: String]] {
        try Row.fetchAll(db, sql: sql).map { row in
            var values: [String: String] = [:]
            for (column, value) in row {
                switch value.storage {
                case .null: break
                case .int64(let number): values[column] = String(number)
                case .double(let number): values[column] = String(number)
                case .string(let text): values[column] = text
                case .blob(let data): values[column] = data.base64EncodedString()
                }
            }
            return values
        }
    }
}

/// Runs `body` against a fresh `TestEngine` on `backend` (SQLite unless told), then stops its
/// writer whatever happened.
func withEngine<T>(
    on backend: Backend = .sqlite, freeOnSignup: Int = 10, limits: VersionLimits = VersionLimits(), maxBatch: Int = 512,
    builder: SiteBuilder? = nil, _ body: (TestEngine) async throws -> T
) async throws -> T {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vte-\(UUID().uuidString)")
    var logger = Logger(label: "engine-tests")
    logger.logLevel = .warning
    let sqlite: SQLiteStorage?
    let storage: any StorageBackend
    switch backend {
    case .sqlite:
        let opened = try SQLiteStorage.open(
            path: directory.appendingPathComponent("vectortd.sqlite").path, maxBatch: maxBatch, logger: logger)
        sqlite = opened
        storage = opened
    case .postgresql:
        let url = try await EngineDatabases.shared.fresh()
        sqlite = nil
        // Every test of the process may run at once on the one server: a small pool each keeps
        // them under its max_connections (a refused connection backs the pool off for long).
        storage = try await PostgresStorage.open(
            PostgresLocation(url: url), password: nil, node: PostgresNode(id: "engine-tests"), maxBatch: maxBatch,
            maxConnections: 6, logger: logger)
    }
    let running = Task { await storage.run() }
    // 2027-01-15T08:00:00Z, inside the range a ZIP (DOS) timestamp can hold.
    let clock = TestClock(date: Date(timeIntervalSince1970: 1_800_000_000))
    let now: @Sendable () -> Date = { clock.date }
    let versions = Versions(repository: storage.versions, limits: limits, builder: builder, now: now)
    let engine = TestEngine(
        directory: directory, backend: backend, storage: storage, sqlite: sqlite, clock: clock,
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

/// The engine tests' databases on the process's shared PostgreSQL server: the schema is
/// migrated once into a template, and each test gets a copy of it (a file copy, not a
/// migration run).
actor EngineDatabases {
    static let shared = EngineDatabases()
    private var template: Task<(PostgresServer, String), any Error>?

    func fresh() async throws -> String {
        if template == nil {
            template = Task {
                let server = try await PostgresServer.shared()
                let name = try await server.freshDatabase()
                var logger = Logger(label: "engine-tests")
                logger.logLevel = .warning
                let database = try await PostgresDatabase.open(
                    PostgresLocation(url: server.url(database: name)), password: nil, logger: logger)
                await database.closeAndWait()
                return (server, name)
            }
        }
        let (server, name) = try await template!.value
        return server.url(database: try await server.freshDatabase(template: name))
    }
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

