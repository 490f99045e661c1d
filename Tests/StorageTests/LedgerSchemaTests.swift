import Foundation
import GRDB
import Logging
import Testing
import VectortTesting

import VectortCore

@testable import Storage

/// Migration 0005 rebuilds the ledger's tables with CHECK constraints SQLite evaluates without
/// a temporary b-tree per write; the data, the constraints and the append-only rule stay.
@Suite("Ledger schema: constraints without IN lists")
struct LedgerSchemaTests {
    static let ledgerWrites = [
        "INSERT INTO credit_entries(user_id, bucket, amount, kind, reference, idempotency_key, created_at) VALUES ('u', 'free', 1, 'grant', NULL, NULL, 't')",
        "INSERT INTO credit_balances(user_id, bucket, balance, expires_at) VALUES ('u', 'free', 1, NULL) ON CONFLICT(user_id, bucket) DO UPDATE SET balance = balance + excluded.balance",
        "INSERT INTO credit_holds(id, user_id, amount, reference, status, from_monthly, from_free, from_topup, created_at) VALUES ('h', 'u', 1, 'r', 'held', 0, 1, 0, 't')",
        "UPDATE credit_holds SET status = 'settled', charged = 1, finished_at = 't' WHERE id = 'h'",
    ]

    @Test(arguments: ledgerWrites)
    func aLedgerWriteBuildsNoTemporaryTable(_ sql: String) throws {
        let directory = try TemporaryDirectory(prefix: "vt-schema")
        let database = try Database.open(path: directory.file("vectortd.sqlite"), logger: Logger(label: "test"))
        let opcodes = try database.pool.read { db in try Row.fetchAll(db, sql: "EXPLAIN \(sql)").map { $0["opcode"] as String } }
        #expect(!opcodes.isEmpty)
        #expect(!opcodes.contains("OpenEphemeral"), "\(opcodes)")
        // The same write against the schema before 0005 did build one, so this check can fail.
        let old = try DatabaseQueue()
        try Migrations.migrator.migrate(old, upTo: "0004-open-holds-by-user")
        let before = try old.read { db in try Row.fetchAll(db, sql: "EXPLAIN \(sql)").map { $0["opcode"] as String } }
        #expect(before.contains("OpenEphemeral"))
    }

    @Test func theMigrationKeepsEveryRowAndEveryRule() async throws {
        let snapshot: @Sendable (GRDB.Database) throws -> [[String]] = { db in
            try ["SELECT * FROM credit_entries ORDER BY id", "SELECT * FROM credit_balances ORDER BY user_id, bucket",
                 "SELECT * FROM credit_holds ORDER BY id"].map { sql in
                try Row.fetchAll(db, sql: sql).map { $0.description }
            }
        }
        let directory = try TemporaryDirectory(prefix: "vt-schema")
        let path = directory.file("vectortd.sqlite")
        // A database as it was before 0005, with ledger rows in it.
        let before: [[String]]
        do {
            let pool = try DatabasePool(path: path)
            try Migrations.migrator.migrate(pool, upTo: "0004-open-holds-by-user")
            try await pool.write { db in
                try db.execute(sql: """
                    INSERT INTO users(id, email, email_key, status, created_at) VALUES ('u_1', 'a@b.c', 'a@b.c', 'active', 't');
                    INSERT INTO credit_entries(user_id, bucket, amount, kind, reference, idempotency_key, created_at)
                        VALUES ('u_1', 'free', 10, 'grant', 'signup', 'k-1', 't1'),
                               ('u_1', 'free', -2, 'hold', 'h_1', NULL, 't2'),
                               ('u_1', 'topup', 80, 'purchase', 'cs_1', 'k-2', 't3');
                    INSERT INTO credit_balances(user_id, bucket, balance, expires_at)
                        VALUES ('u_1', 'free', 8, NULL), ('u_1', 'topup', 80, NULL);
                    INSERT INTO credit_holds(id, user_id, amount, reference, status, from_monthly, from_free, from_topup, created_at)
                        VALUES ('h_1', 'u_1', 2, 'g_1', 'held', 0, 2, 0, 't2');
                    """)
            }
            before = try await pool.read(snapshot)
            try pool.close()
        }

        let database = try Database.open(path: path, logger: Logger(label: "test"))
        try await database.pool.write { db in
            #expect(try snapshot(db) == before)
            // The append-only rule, the constraints and the ids carry on.
            #expect(throws: DatabaseError.self) { try db.execute(sql: "UPDATE credit_entries SET amount = 3 WHERE id = 1") }
            #expect(throws: DatabaseError.self) { try db.execute(sql: "DELETE FROM credit_entries WHERE id = 1") }
            #expect(throws: DatabaseError.self) {
                try db.execute(sql: "INSERT INTO credit_entries(user_id, bucket, amount, kind, created_at) VALUES ('u_1', 'gold', 1, 'grant', 't')")
            }
            #expect(throws: DatabaseError.self) {
                try db.execute(sql: "INSERT INTO credit_entries(user_id, bucket, amount, kind, created_at) VALUES ('u_1', 'free', 1, 'gift', 't')")
            }
            #expect(throws: DatabaseError.self) {
                try db.execute(sql: "INSERT INTO credit_entries(user_id, bucket, amount, kind, created_at) VALUES ('u_1', 'free', 0, 'grant', 't')")
            }
            #expect(throws: DatabaseError.self) {
                try db.execute(sql: "INSERT INTO credit_entries(user_id, bucket, amount, kind, created_at) VALUES ('u_nobody', 'free', 1, 'grant', 't')")
            }
            #expect(throws: DatabaseError.self) {
                try db.execute(sql: "INSERT INTO credit_entries(user_id, bucket, amount, kind, idempotency_key, created_at) VALUES ('u_1', 'free', 1, 'grant', 'k-1', 't')")
            }
            #expect(throws: DatabaseError.self) { try db.execute(sql: "UPDATE credit_balances SET bucket = 'gold'") }
            #expect(throws: DatabaseError.self) { try db.execute(sql: "UPDATE credit_holds SET status = 'lost'") }
            try db.execute(sql: "INSERT INTO credit_entries(user_id, bucket, amount, kind, created_at) VALUES ('u_1', 'free', 1, 'adjustment', 't4')")
            #expect(db.lastInsertedRowID == 4)
            let indexes = try String.fetchAll(
                db, sql: "SELECT name FROM sqlite_schema WHERE type = 'index' AND name NOT LIKE 'sqlite_%' ORDER BY name")
            #expect(indexes.contains("credit_entries_by_user"))
            #expect(indexes.contains("credit_holds_open"))
            #expect(indexes.contains("credit_holds_open_by_user"))
            #expect(try String.fetchOne(db, sql: "PRAGMA integrity_check") == "ok")
            #expect(try Row.fetchAll(db, sql: "PRAGMA foreign_key_check").isEmpty)
        }
    }
}
