import Foundation
import GRDB
import Protocol
import VectortCore

/// Connected accounts in SQLite; the token column holds only sealed values.
struct SQLiteAccounts: AccountRepository {
    let writer: LedgerWriter
    let pool: DatabasePool

    func connect(user: String, _ account: ConnectedAccount, sealedToken: String, keyID: String) async throws -> ConnectedAccount {
        try await writer.write { db in
            guard try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM users WHERE id = ?"), arguments: [user]) == true else {
                throw EngineError.notFound("user", user)
            }
            // A reconnect keeps when the account was first connected.
            try db.cachedStatement(sql: """
                    INSERT INTO connected_accounts(user_id, platform, account, sealed_token, key_id, connected_at, checked_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(user_id, platform) DO UPDATE SET account = excluded.account,
                        sealed_token = excluded.sealed_token, key_id = excluded.key_id, checked_at = excluded.checked_at
                    """).execute(arguments: [
                    user, account.platform, account.account, sealedToken, keyID, account.connectedAt, account.checkedAt,
                ])
            return try Self.load(db, user: user, platform: account.platform) ?? account
        }
    }

    func list(user: String) async throws -> [ConnectedAccount] {
        try await pool.read { db in
            try Row.fetchAll(
                db.cachedStatement(sql: "SELECT * FROM connected_accounts WHERE user_id = ? ORDER BY platform"), arguments: [user]
            ).map(Self.account)
        }
    }

    func sealedToken(user: String, platform: String) async throws -> String? {
        try await pool.read { db in
            try String.fetchOne(
                db.cachedStatement(sql: "SELECT sealed_token FROM connected_accounts WHERE user_id = ? AND platform = ?"),
                arguments: [user, platform])
        }
    }

    func disconnect(user: String, platform: String) async throws -> ConnectedAccount? {
        try await writer.write { db in
            guard let account = try Self.load(db, user: user, platform: platform) else { return nil }
            try db.cachedStatement(sql: "DELETE FROM connected_accounts WHERE user_id = ? AND platform = ?")
                .execute(arguments: [user, platform])
            return account
        }
    }

    func sealed(notUnder keyID: String) async throws -> [(user: String, platform: String, sealed: String)] {
        try await pool.read { db in
            try Row.fetchAll(
                db.cachedStatement(sql: "SELECT user_id, platform, sealed_token FROM connected_accounts WHERE key_id != ?"),
                arguments: [keyID]
            ).map { (user: $0["user_id"], platform: $0["platform"], sealed: $0["sealed_token"]) }
        }
    }

    func reseal(user: String, platform: String, old: String, new: String, keyID: String) async throws -> Bool {
        try await writer.write { db in
            try db.cachedStatement(sql: """
                    UPDATE connected_accounts SET sealed_token = ?, key_id = ?
                    WHERE user_id = ? AND platform = ? AND sealed_token = ?
                    """).execute(arguments: [new, keyID, user, platform, old])
            return db.changesCount > 0
        }
    }

    static func load(_ db: GRDB.Database, user: String, platform: String) throws -> ConnectedAccount? {
        try Row.fetchOne(
            db.cachedStatement(sql: "SELECT * FROM connected_accounts WHERE user_id = ? AND platform = ?"),
            arguments: [user, platform]
        ).map(account)
    }

    static func account(_ row: Row) -> ConnectedAccount {
        ConnectedAccount(
            platform: row["platform"], account: row["account"], connectedAt: row["connected_at"], checkedAt: row["checked_at"])
    }
}
