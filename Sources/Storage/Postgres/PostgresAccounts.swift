package import Foundation
import Logging
import PostgresNIO
package import Protocol
import VectortCore

/// Connected accounts on PostgreSQL; the token column holds only sealed values.
package struct PostgresAccounts: AccountRepository {
    package let writer: PostgresWriter
    package let database: PostgresDatabase

    package init(writer: PostgresWriter, database: PostgresDatabase) {
        self.writer = writer
        self.database = database
    }

    package func connect(user: String, _ account: ConnectedAccount, sealedToken: String, keyID: String) async throws
        -> ConnectedAccount
    {
        try await writer.write { connection, logger in
            _ = try await PostgresUsers.load(connection, user, logger: logger)
            // A reconnect keeps when the account was first connected.
            try await connection.run(
                """
                INSERT INTO connected_accounts(user_id, platform, account, sealed_token, key_id, connected_at, checked_at)
                VALUES (\(user), \(account.platform), \(account.account), \(sealedToken), \(keyID), \(account.connectedAt),
                    \(account.checkedAt))
                ON CONFLICT (user_id, platform) DO UPDATE SET account = excluded.account,
                    sealed_token = excluded.sealed_token, key_id = excluded.key_id, checked_at = excluded.checked_at
                """, logger)
            return try await Self.load(connection, user: user, platform: account.platform, logger: logger) ?? account
        }
    }

    package func list(user: String) async throws -> [ConnectedAccount] {
        let logger = database.logger
        return try await database.client.withConnection { connection in
            var accounts: [ConnectedAccount] = []
            for try await row in try await connection.query(
                "SELECT platform, account, connected_at, checked_at FROM connected_accounts WHERE user_id = \(user) ORDER BY platform",
                logger: logger
            ).decode((String, String, String, String).self) {
                accounts.append(Self.account(row))
            }
            return accounts
        }
    }

    package func sealedToken(user: String, platform: String) async throws -> String? {
        let logger = database.logger
        return try await database.client.withConnection { connection in
            try await connection.first(
                "SELECT sealed_token FROM connected_accounts WHERE user_id = \(user) AND platform = \(platform)",
                as: String.self, logger)
        }
    }

    package func disconnect(user: String, platform: String) async throws -> ConnectedAccount? {
        try await writer.write { connection, logger in
            guard
                let row = try await connection.first(
                    """
                    DELETE FROM connected_accounts WHERE user_id = \(user) AND platform = \(platform)
                    RETURNING platform, account, connected_at, checked_at
                    """, as: (String, String, String, String).self, logger)
            else { return nil }
            return Self.account(row)
        }
    }

    package func sealed(notUnder keyID: String) async throws -> [(user: String, platform: String, sealed: String)] {
        let logger = database.logger
        return try await database.client.withConnection { connection in
            var found: [(user: String, platform: String, sealed: String)] = []
            for try await (user, platform, sealed) in try await connection.query(
                "SELECT user_id, platform, sealed_token FROM connected_accounts WHERE key_id <> \(keyID)", logger: logger
            ).decode((String, String, String).self) {
                found.append((user: user, platform: platform, sealed: sealed))
            }
            return found
        }
    }

    package func reseal(user: String, platform: String, old: String, new: String, keyID: String) async throws -> Bool {
        try await writer.write { connection, logger in
            try await connection.first(
                """
                UPDATE connected_accounts SET sealed_token = \(new), key_id = \(keyID)
                WHERE user_id = \(user) AND platform = \(platform) AND sealed_token = \(old) RETURNING 1
                """, as: Int32.self, logger) != nil
        }
    }

    static func load(_ connection: PostgresConnection, user: String, platform: String, logger: Logger) async throws
        -> ConnectedAccount?
    {
        try await connection.first(
            "SELECT platform, account, connected_at, checked_at FROM connected_accounts WHERE user_id = \(user) AND platform = \(platform)",
            as: (String, String, String, String).self, logger
        ).map(account)
    }

    static func account(_ row: (String, String, String, String)) -> ConnectedAccount {
        ConnectedAccount(platform: row.0, account: row.1, connectedAt: row.2, checkedAt: row.3)
    }
}
