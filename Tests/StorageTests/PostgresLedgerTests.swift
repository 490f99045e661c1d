import Foundation
import Logging
import Protocol
import Testing
import VectortCore
import VectortTesting

@testable import Storage

/// The credit ledger on PostgreSQL, with one or more nodes (each its own pool and group-commit
/// writer) on one private server: the same answers as the SQLite backend, and the money rules
/// held by the database across nodes.
@Suite("The ledger on PostgreSQL, across nodes")
struct PostgresLedgerTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    struct Node {
        let database: PostgresDatabase
        let writer: PostgresWriter
        let ledger: PostgresLedger
        let running: Task<Void, Never>
    }

    /// `count` nodes on a fresh database of a private server, running while `body` does.
    private func withNodes(_ count: Int, _ body: ([Node], PostgresServer, String) async throws -> Void) async throws {
        let server = try await PostgresServer.start()
        let name = "ledger"
        do {
            try await server.createDatabase(name)
            let location = try PostgresLocation(url: server.url(database: name))
            let logger = {
                var logger = Logger(label: "postgres-ledger-tests")
                logger.logLevel = .warning
                return logger
            }()
            // The nodes start at once: the migrations run once, under the advisory lock.
            let databases = try await withThrowingTaskGroup(of: PostgresDatabase.self) { group in
                for _ in 0..<count { group.addTask { try await PostgresDatabase.open(location, password: nil, logger: logger) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let nodes = databases.map { database in
                let writer = PostgresWriter(database: database)
                return Node(
                    database: database, writer: writer, ledger: PostgresLedger(writer: writer, database: database),
                    running: Task { await writer.run() })
            }
            let result: Result<Void, any Error>
            do { result = .success(try await body(nodes, server, name)) } catch { result = .failure(error) }
            for node in nodes {
                node.writer.stop()
                await node.running.value
                node.database.close()
            }
            await server.stop()
            try result.get()
        } catch {
            await server.stop()
            throw error
        }
    }

    private func addUser(_ server: PostgresServer, _ database: String, _ id: String) async throws {
        try await server.psql(
            "INSERT INTO users(id, email, email_key, status, created_at) VALUES ('\(id)', '\(id)@example.com', '\(id)@example.com', 'active', '2027-01-15T08:00:00.000Z')",
            database: database)
    }

    private func grant(_ ledger: PostgresLedger, _ user: String, _ amount: Int, bucket: CreditBucket = .free, key: String? = nil)
        async throws -> CreditGrant
    {
        try await ledger.grant(
            CreditGrantRequest(
                user: user, amount: amount, bucket: bucket, reason: "test", expiresAt: nil, expiry: nil, idempotencyKey: key),
            now: Self.now)
    }

    @Test func aHoldSettlesAndReleasesAsOnSQLite() async throws {
        try await withNodes(1) { nodes, server, database in
            let ledger = nodes[0].ledger
            try await addUser(server, database, "u1")
            _ = try await grant(ledger, "u1", 10)
            #expect(try await ledger.balance(user: "u1", now: Self.now).total == 10)

            let hold = try await ledger.hold(user: "u1", amount: 7, reference: "job-1", idempotencyKey: nil, now: Self.now)
            #expect(hold.status == .held)
            #expect(hold.allocations == ["free": 7])
            let held = try await ledger.balance(user: "u1", now: Self.now)
            #expect(held.total == 3)
            #expect(held.held == 7)

            let settled = try await ledger.settle(hold: hold.id, charged: 5, now: Self.now)
            #expect(settled.status == .settled)
            #expect(settled.charged == 5)
            #expect(try await ledger.settle(hold: hold.id, charged: 5, now: Self.now) == settled, "a repeat answers the same")
            let after = try await ledger.balance(user: "u1", now: Self.now)
            #expect(after.total == 5)
            #expect(after.held == 0)

            let released = await #expect(throws: EngineError.self) { try await ledger.release(hold: hold.id, now: Self.now) }
            #expect(released?.wireError.name == .conflict)
            let refused = await #expect(throws: EngineError.self) {
                try await ledger.hold(user: "u1", amount: 6, reference: "job-2", idempotencyKey: nil, now: Self.now)
            }
            #expect(refused?.wireError.name == .insufficientCredits)
            let missing = await #expect(throws: EngineError.self) {
                try await ledger.hold(user: "nobody", amount: 1, reference: "job-3", idempotencyKey: nil, now: Self.now)
            }
            #expect(missing?.wireError.name == .notFound)

            let history = try await ledger.history(user: "u1", limit: 10, before: nil)
            #expect(history.entries.map(\.kind) == ["usage", "release", "hold", "grant"])
            #expect(history.entries.map(\.amount) == [-5, 7, -7, 10])
            let verification = try await ledger.verify()
            #expect(verification.mismatches.isEmpty)
            #expect(verification.entriesChecked == 4)
        }
    }

    @Test func twoHundredHoldsOnTwoNodesAgainstTenCreditsSpendExactlyTen() async throws {
        try await withNodes(2) { nodes, server, database in
            try await addUser(server, database, "u1")
            _ = try await grant(nodes[0].ledger, "u1", 10)
            let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<200 {
                    let ledger = nodes[index % 2].ledger
                    group.addTask {
                        do {
                            _ = try await ledger.hold(
                                user: "u1", amount: 2, reference: "job-\(index)", idempotencyKey: nil, now: Self.now)
                            return true
                        } catch let error as EngineError where error.wireError.name == .insufficientCredits {
                            return false
                        }
                    }
                }
                return try await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 }.count == 5)
            let balance = try await nodes[1].ledger.balance(user: "u1", now: Self.now)
            #expect(balance.total == 0)
            #expect(balance.held == 10)
            #expect(try await nodes[0].ledger.verify().mismatches.isEmpty)
        }
    }

    @Test func oneIdempotencyKeyOnBothNodesAtOnceGrantsOnce() async throws {
        try await withNodes(2) { nodes, server, database in
            try await addUser(server, database, "u1")
            let grants = try await withThrowingTaskGroup(of: CreditGrant.self) { group in
                for index in 0..<20 {
                    let ledger = nodes[index % 2].ledger
                    group.addTask { try await grant(ledger, "u1", 25, key: "purchase-1") }
                }
                return try await group.reduce(into: [CreditGrant]()) { $0.append($1) }
            }
            #expect(Set(grants.map(\.entry)).count == 1, "every replay answers the first grant")
            #expect(try await nodes[0].ledger.balance(user: "u1", now: Self.now).total == 25)
            let other = await #expect(throws: EngineError.self) { try await grant(nodes[1].ledger, "u1", 30, key: "purchase-1") }
            #expect(other?.wireError.name == .conflict)
            #expect(try await nodes[1].ledger.history(user: "u1", limit: 10, before: nil).entries.count == 1)
        }
    }

    @Test func settlesOfOneHoldFromBothNodesChargeOnce() async throws {
        try await withNodes(2) { nodes, server, database in
            try await addUser(server, database, "u1")
            _ = try await grant(nodes[0].ledger, "u1", 10)
            let hold = try await nodes[0].ledger.hold(user: "u1", amount: 4, reference: "job", idempotencyKey: nil, now: Self.now)
            let results = try await withThrowingTaskGroup(of: CreditHold.self) { group in
                for index in 0..<10 {
                    let ledger = nodes[index % 2].ledger
                    group.addTask { try await ledger.settle(hold: hold.id, charged: 3, now: Self.now) }
                }
                return try await group.reduce(into: [CreditHold]()) { $0.append($1) }
            }
            #expect(Set(results).count == 1)
            #expect(try await nodes[1].ledger.balance(user: "u1", now: Self.now).total == 7)
            let usage = try await nodes[1].ledger.history(user: "u1", limit: 20, before: nil).entries.filter { $0.kind == "usage" }
            #expect(usage.map(\.amount) == [-3])
            #expect(try await nodes[0].ledger.verify().mismatches.isEmpty)
        }
    }

    @Test func aDisabledUserCannotHold() async throws {
        try await withNodes(1) { nodes, server, database in
            try await addUser(server, database, "u1")
            _ = try await grant(nodes[0].ledger, "u1", 10)
            try await server.psql("UPDATE users SET status = 'disabled' WHERE id = 'u1'", database: database)
            let refused = await #expect(throws: EngineError.self) {
                try await nodes[0].ledger.hold(user: "u1", amount: 1, reference: "job", idempotencyKey: nil, now: Self.now)
            }
            #expect(refused?.wireError.name == .conflict)
        }
    }

    @Test(arguments: [
        ("postgres://vectort:secret@db.example.com/vectortd", "password"),
        ("mysql://vectort@db.example.com/vectortd", "postgres://"),
        ("postgres://db.example.com/vectortd", "user"),
        ("postgres://vectort@db.example.com/", "database"),
        ("postgres://vectort@/vectortd", "host"),
        ("postgres://vectort@db.example.com/vectortd?host=/run/postgresql", "not both"),
        ("postgres://vectort@/vectortd?host=run/postgresql", "absolute"),
        ("postgres://vectort@db.example.com/vectortd?sslmode=require", "sslmode"),
    ])
    func badDatabaseURLsAreRefusedByName(url: String, named: String) {
        #expect {
            try PostgresLocation(url: url)
        } throws: { error in
            "\(error)".contains(named)
        }
    }

    @Test func databaseURLsNameAHostOrASocketDirectory() throws {
        let tcp = try PostgresLocation(url: "postgres://vectort@db.example.com:6543/vectortd")
        #expect(tcp.user == "vectort")
        #expect(tcp.database == "vectortd")
        #expect(tcp.host == "db.example.com")
        #expect(tcp.port == 6543)
        #expect(tcp.socketDirectory == nil)
        let socket = try PostgresLocation(url: "postgresql://vectort@/vectortd?host=/run/postgresql")
        #expect(socket.socketDirectory == "/run/postgresql")
        #expect(socket.host == nil)
        #expect(socket.port == 5432)
    }
}
