package import Foundation
import Logging
import PostgresNIO
package import Protocol
import VectortCore

/// Users, sessions' revocations, single-use tokens and provider identities on PostgreSQL: the
/// same rules as `SQLiteUsers`. Two nodes creating the same email at once meet on the unique
/// `email_key`: the second gets AlreadyExists, as it would on one node.
package struct PostgresUsers: UserRepository {
    package let writer: PostgresWriter
    package let database: PostgresDatabase

    package init(writer: PostgresWriter, database: PostgresDatabase) {
        self.writer = writer
        self.database = database
    }

    package func create(
        email: String, emailKey: String, fullName: String?, passwordHash: String?, freeCredits: Int, now: Date
    ) async throws -> User {
        try await writer.write { connection, logger in
            let id = Identifiers.make("u")
            do {
                try await connection.run(
                    """
                    INSERT INTO users(id, email, email_key, full_name, password_hash, status, created_at)
                    VALUES (\(id), \(email), \(emailKey), \(fullName), \(passwordHash), 'active', \(Timestamps.string(now)))
                    """, logger)
            } catch where PostgresState.isUniqueViolation(error) {
                throw EngineError.alreadyExists("user", email)
            }
            try await Self.signupGrant(connection, user: id, freeCredits: freeCredits, now: now, logger: logger)
            return try await Self.load(connection, id, logger: logger)
        }
    }

    package func get(_ id: String) async throws -> User {
        let logger = database.logger
        return try await database.client.withConnection { try await Self.load($0, id, logger: logger) }
    }

    package func list(limit: Int, after: String?) async throws -> UserPage {
        let logger = database.logger
        return try await database.client.withConnection { connection in
            var cursor: Int64 = 0
            if let after {
                guard let seq = try await connection.first("SELECT seq FROM users WHERE id = \(after)", as: Int64.self, logger)
                else { throw EngineError.invalid("after", "after must be a next_after value from an earlier page") }
                cursor = seq
            }
            var users: [User] = []
            for try await (id, email, fullName, status, createdAt) in try await connection.query(
                "SELECT id, email, full_name, status, created_at FROM users WHERE seq > \(cursor) ORDER BY seq LIMIT \(limit + 1)",
                logger: logger
            ).decode((String, String, String?, String, String).self) {
                users.append(Self.user(id, email, fullName, status, createdAt))
            }
            let page = Array(users.prefix(limit))
            return UserPage(users: page, nextAfter: users.count > limit ? page.last?.id : nil)
        }
    }

    package func disable(_ id: String) async throws -> User {
        try await writer.write { connection, logger in
            _ = try await Self.load(connection, id, lock: true, logger: logger)
            try await connection.run("UPDATE users SET status = 'disabled' WHERE id = \(id)", logger)
            return try await Self.load(connection, id, logger: logger)
        }
    }

    package func passwordHash(user id: String) async throws -> String? {
        let logger = database.logger
        return try await database.client.withConnection { connection in
            try await connection.first("SELECT password_hash FROM users WHERE id = \(id)", as: String?.self, logger) ?? nil
        }
    }

    package func find(emailKey: String) async throws -> (user: User, passwordHash: String?)? {
        let logger = database.logger
        return try await database.client.withConnection { connection in
            var found: (User, String?)?
            for try await (id, email, fullName, status, createdAt, hash) in try await connection.query(
                "SELECT id, email, full_name, status, created_at, password_hash FROM users WHERE email_key = \(emailKey)",
                logger: logger
            ).decode((String, String, String?, String, String, String?).self) {
                found = (Self.user(id, email, fullName, status, createdAt), hash)
            }
            return found
        }
    }

    package func setPasswordHash(user id: String, _ hash: String?, revokeSessionsAt: Date?) async throws {
        try await writer.write { connection, logger in
            _ = try await Self.load(connection, id, lock: true, logger: logger)
            try await connection.run(
                """
                UPDATE users SET password_hash = \(hash), sessions_after = COALESCE(\(revokeSessionsAt.map(Timestamps.string)), sessions_after)
                WHERE id = \(id)
                """, logger)
        }
    }

    package func sessionState(user id: String) async throws -> (user: User, sessionsAfter: Date?, revoked: Set<String>)? {
        let logger = database.logger
        return try await database.client.withConnection { connection in
            try await connection.withTransaction(logger: logger) { connection in
                var found: (User, String?)?
                for try await (email, fullName, status, createdAt, after) in try await connection.query(
                    "SELECT email, full_name, status, created_at, sessions_after FROM users WHERE id = \(id)", logger: logger
                ).decode((String, String?, String, String, String?).self) {
                    found = (Self.user(id, email, fullName, status, createdAt, unknownStatus: .disabled), after)
                }
                guard let found else { return nil }
                var revoked = Set<String>()
                for try await session in try await connection.query(
                    "SELECT id FROM revoked_sessions WHERE user_id = \(id)", logger: logger
                ).decode(String.self) {
                    revoked.insert(session)
                }
                return (found.0, found.1.flatMap(Timestamps.parse), revoked)
            }
        }
    }

    package func revokeSession(user id: String, session: String, expiresAt: Date, now: Date) async throws {
        try await writer.write { connection, logger in
            try await connection.run("DELETE FROM revoked_sessions WHERE expires_at < \(Timestamps.string(now))", logger)
            try await connection.run(
                """
                INSERT INTO revoked_sessions(id, user_id, expires_at) VALUES (\(session), \(id), \(Timestamps.string(expiresAt)))
                ON CONFLICT (id) DO NOTHING
                """, logger)
        }
    }

    package func issueToken(user id: String, purpose: String, hash: String, expiresAt: Date, now: Date) async throws {
        try await writer.write { connection, logger in
            _ = try await Self.load(connection, id, logger: logger)
            try await connection.run("DELETE FROM account_tokens WHERE expires_at < \(Timestamps.string(now))", logger)
            try await connection.run(
                """
                INSERT INTO account_tokens(token_hash, user_id, purpose, expires_at)
                VALUES (\(hash), \(id), \(purpose), \(Timestamps.string(expiresAt)))
                """, logger)
        }
    }

    package func consumeToken(hash: String, purpose: String, passwordHash: String?, now: Date) async throws -> User? {
        try await writer.write { connection, logger in
            let stamp = Timestamps.string(now)
            // Locked: two nodes consuming the same token at once use it once.
            guard
                let user = try await connection.first(
                    """
                    SELECT user_id FROM account_tokens
                    WHERE token_hash = \(hash) AND purpose = \(purpose) AND used_at IS NULL AND expires_at > \(stamp) FOR UPDATE
                    """, as: String.self, logger)
            else { return nil }
            try await connection.run("UPDATE account_tokens SET used_at = \(stamp) WHERE token_hash = \(hash)", logger)
            if purpose == "reset", let passwordHash {
                // Every session of the user ends; every other reset link of theirs too.
                try await connection.run(
                    "UPDATE users SET password_hash = \(passwordHash), sessions_after = \(stamp) WHERE id = \(user)", logger)
                try await connection.run(
                    "UPDATE account_tokens SET used_at = \(stamp) WHERE user_id = \(user) AND purpose = 'reset' AND used_at IS NULL",
                    logger)
            } else if purpose == "verify" {
                try await connection.run(
                    "UPDATE users SET email_verified_at = COALESCE(email_verified_at, \(stamp)) WHERE id = \(user)", logger)
            }
            return try await Self.load(connection, user, logger: logger)
        }
    }

    package func emailVerifiedAt(user id: String) async throws -> Date? {
        let logger = database.logger
        return try await database.client.withConnection { connection in
            (try await connection.first("SELECT email_verified_at FROM users WHERE id = \(id)", as: String?.self, logger) ?? nil)
                .flatMap(Timestamps.parse)
        }
    }

    package func setEmailVerified(user id: String, now: Date) async throws {
        try await writer.write { connection, logger in
            try await connection.run(
                "UPDATE users SET email_verified_at = COALESCE(email_verified_at, \(Timestamps.string(now))) WHERE id = \(id)",
                logger)
        }
    }

    package func oauthSignIn(
        provider: String, subject: String, email: String, emailKey: String, fullName: String?, freeCredits: Int, now: Date
    ) async throws -> (user: User, outcome: String) {
        let result = try await writer.write { connection, logger -> OAuthOutcome in
            let stamp = Timestamps.string(now)
            if let linked = try await connection.first(
                "SELECT user_id FROM oauth_identities WHERE provider = \(provider) AND subject = \(subject)", as: String.self, logger)
            {
                return OAuthOutcome(user: try await Self.load(connection, linked, logger: logger), outcome: "existing")
            }
            var outcome = "linked"
            let user: String
            if let (id, verified) = try await connection.first(
                "SELECT id, email_verified_at FROM users WHERE email_key = \(emailKey) FOR UPDATE", as: (String, String?).self, logger)
            {
                user = id
                if verified == nil {
                    // Whoever registered this address never proved it: the provider's user owns it.
                    try await connection.run("UPDATE users SET password_hash = NULL, sessions_after = \(stamp) WHERE id = \(user)", logger)
                    outcome = "taken_over"
                }
            } else {
                user = Identifiers.make("u")
                do {
                    try await connection.run(
                        """
                        INSERT INTO users(id, email, email_key, full_name, password_hash, status, created_at)
                        VALUES (\(user), \(email), \(emailKey), \(fullName), NULL, 'active', \(stamp))
                        """, logger)
                } catch where PostgresState.isUniqueViolation(error) {
                    // Another node created this email meanwhile: this call runs again and links it.
                    throw PostgresState.RunAgain()
                }
                try await Self.signupGrant(connection, user: user, freeCredits: freeCredits, now: now, logger: logger)
                outcome = "created"
            }
            try await connection.run(
                "UPDATE users SET email_verified_at = COALESCE(email_verified_at, \(stamp)) WHERE id = \(user)", logger)
            // Read committed: another node may have linked this identity since it was looked up
            // (it committed between the two reads); then this call runs again and finds it.
            guard
                try await connection.first(
                    """
                    INSERT INTO oauth_identities(provider, subject, user_id, email, created_at)
                    VALUES (\(provider), \(subject), \(user), \(email), \(stamp))
                    ON CONFLICT (provider, subject) DO NOTHING RETURNING 1
                    """, as: Int32.self, logger) != nil
            else { throw PostgresState.RunAgain() }
            return OAuthOutcome(user: try await Self.load(connection, user, logger: logger), outcome: outcome)
        }
        return (result.user, result.outcome)
    }

    private struct OAuthOutcome: Sendable {
        var user: User
        var outcome: String
    }

    // MARK: Inside a transaction

    /// The signup grant of free credits, once per user (its journal entry's idempotency key).
    static func signupGrant(_ connection: PostgresConnection, user: String, freeCredits: Int, now: Date, logger: Logger) async throws {
        guard freeCredits > 0 else { return }
        _ = try await PostgresLedger.append(
            connection, user: user, LedgerPlan.Entry(bucket: .free, amount: freeCredits, kind: "grant", reference: "signup"),
            now: now, idempotencyKey: "signup:\(user)", logger: logger)
    }

    static func load(_ connection: PostgresConnection, _ id: String, lock: Bool = false, logger: Logger) async throws -> User {
        let query: PostgresQuery =
            lock
            ? "SELECT email, full_name, status, created_at FROM users WHERE id = \(id) FOR UPDATE"
            : "SELECT email, full_name, status, created_at FROM users WHERE id = \(id)"
        guard let (email, fullName, status, createdAt) = try await connection.first(query, as: (String, String?, String, String).self, logger)
        else { throw EngineError.notFound("user", id) }
        return user(id, email, fullName, status, createdAt)
    }

    static func user(
        _ id: String, _ email: String, _ fullName: String?, _ status: String, _ createdAt: String,
        unknownStatus: User.Status = .active
    ) -> User {
        User(id: id, email: email, fullName: fullName, status: User.Status(rawValue: status) ?? unknownStatus, createdAt: createdAt)
    }
}

extension PostgresConnection {
    /// Runs a statement and drains its rows.
    func run(_ query: PostgresQuery, _ logger: Logger) async throws {
        _ = try await self.query(query, logger: logger).collect()
    }

    /// The first row decoded as `T`, if any.
    func first<T: PostgresDecodable>(_ query: PostgresQuery, as type: T.Type, _ logger: Logger) async throws -> T? {
        for try await value in try await self.query(query, logger: logger).decode(T.self) { return value }
        return nil
    }

    /// The first row decoded as a tuple of columns, if any.
    func first<each Column: PostgresDecodable>(
        _ query: PostgresQuery, as type: (repeat each Column).Type, _ logger: Logger
    ) async throws -> (repeat each Column)? {
        for try await value in try await self.query(query, logger: logger).decode((repeat each Column).self) { return value }
        return nil
    }
}
