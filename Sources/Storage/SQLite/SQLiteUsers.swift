import Foundation
import GRDB
import Protocol
import VectortCore

/// Users in SQLite. The static functions run inside a transaction the caller holds, so other
/// repositories compose them into theirs.
struct SQLiteUsers: UserRepository {
    let writer: LedgerWriter
    let pool: DatabasePool

    func create(
        email: String, emailKey: String, fullName: String?, passwordHash: String?, freeCredits: Int, now: Date
    ) async throws -> User {
        try await writer.write { db in
            if try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM users WHERE email_key = ?"), arguments: [emailKey]) == true {
                throw EngineError.alreadyExists("user", email)
            }
            let id = Identifiers.make("u")
            try db.cachedStatement(sql: """
                    INSERT INTO users(id, email, email_key, full_name, password_hash, status, created_at)
                    VALUES (?, ?, ?, ?, ?, 'active', ?)
                    """).execute(arguments: [id, email, emailKey, fullName, passwordHash, Timestamps.string(now)])
            if freeCredits > 0 {
                try SQLiteLedger.append(
                    db, user: id, bucket: .free, amount: freeCredits, kind: "grant", reference: "signup", now: now,
                    idempotencyKey: "signup:\(id)")
            }
            return try Self.load(db, id)
        }
    }

    func get(_ id: String) async throws -> User {
        try await pool.read { db in try Self.load(db, id) }
    }

    func list(limit: Int, after: String?) async throws -> UserPage {
        try await pool.read { db in
            var cursor: Int64 = 0
            if let after {
                guard let rowid = try Int64.fetchOne(db, sql: "SELECT rowid FROM users WHERE id = ?", arguments: [after])
                else { throw EngineError.invalid("after", "after must be a next_after value from an earlier page") }
                cursor = rowid
            }
            let ids = try String.fetchAll(db.cachedStatement(sql: "SELECT id FROM users WHERE rowid > ? ORDER BY rowid LIMIT ?"), arguments: [cursor, limit + 1])
            let users = try ids.prefix(limit).map { try Self.load(db, $0) }
            return UserPage(users: users, nextAfter: ids.count > limit ? users.last?.id : nil)
        }
    }

    func disable(_ id: String) async throws -> User {
        try await writer.write { db in
            _ = try Self.load(db, id)
            try db.cachedStatement(sql: "UPDATE users SET status = 'disabled' WHERE id = ?").execute(arguments: [id])
            return try Self.load(db, id)
        }
    }

    func passwordHash(user id: String) async throws -> String? {
        try await pool.read { db in
            try String.fetchOne(db.cachedStatement(sql: "SELECT password_hash FROM users WHERE id = ?"), arguments: [id])
        }
    }

    func find(emailKey: String) async throws -> (user: User, passwordHash: String?)? {
        try await pool.read { db in
            guard
                let row = try Row.fetchOne(
                    db.cachedStatement(sql: "SELECT id, password_hash FROM users WHERE email_key = ?"), arguments: [emailKey])
            else { return nil }
            return (try Self.load(db, row["id"]), row["password_hash"])
        }
    }

    func setPasswordHash(user id: String, _ hash: String?, revokeSessionsAt: Date?) async throws {
        try await writer.write { db in
            try Self.requireExists(db, id)
            try db.cachedStatement(sql: "UPDATE users SET password_hash = ?, sessions_after = COALESCE(?, sessions_after) WHERE id = ?")
                .execute(arguments: [hash, revokeSessionsAt.map(Timestamps.string), id])
        }
    }

    func sessionState(user id: String) async throws -> (user: User, sessionsAfter: Date?, revoked: Set<String>)? {
        try await pool.read { db in
            guard
                let row = try Row.fetchOne(
                    db.cachedStatement(sql: "SELECT email, full_name, status, created_at, sessions_after FROM users WHERE id = ?"),
                    arguments: [id])
            else { return nil }
            let user = User(
                id: id, email: row["email"], fullName: row["full_name"], status: User.Status(rawValue: row["status"]) ?? .disabled,
                createdAt: row["created_at"])
            let revoked = try String.fetchAll(db.cachedStatement(sql: "SELECT id FROM revoked_sessions WHERE user_id = ?"), arguments: [id])
            return (user, (row["sessions_after"] as String?).flatMap(Timestamps.parse), Set(revoked))
        }
    }

    func revokeSession(user id: String, session: String, expiresAt: Date, now: Date) async throws {
        try await writer.write { db in
            try db.cachedStatement(sql: "DELETE FROM revoked_sessions WHERE expires_at < ?").execute(arguments: [Timestamps.string(now)])
            try db.cachedStatement(sql: "INSERT OR IGNORE INTO revoked_sessions(id, user_id, expires_at) VALUES (?, ?, ?)")
                .execute(arguments: [session, id, Timestamps.string(expiresAt)])
        }
    }

    func issueToken(user id: String, purpose: String, hash: String, expiresAt: Date, now: Date) async throws {
        try await writer.write { db in
            try Self.requireExists(db, id)
            try db.cachedStatement(sql: "DELETE FROM account_tokens WHERE expires_at < ?").execute(arguments: [Timestamps.string(now)])
            try db.cachedStatement(sql: "INSERT INTO account_tokens(token_hash, user_id, purpose, expires_at) VALUES (?, ?, ?, ?)")
                .execute(arguments: [hash, id, purpose, Timestamps.string(expiresAt)])
        }
    }

    func consumeToken(hash: String, purpose: String, passwordHash: String?, now: Date) async throws -> User? {
        try await writer.write { db in
            let stamp = Timestamps.string(now)
            guard
                let user = try String.fetchOne(
                    db.cachedStatement(sql: """
                        SELECT user_id FROM account_tokens
                        WHERE token_hash = ? AND purpose = ? AND used_at IS NULL AND expires_at > ?
                        """), arguments: [hash, purpose, stamp])
            else { return nil }
            try db.cachedStatement(sql: "UPDATE account_tokens SET used_at = ? WHERE token_hash = ?").execute(arguments: [stamp, hash])
            if purpose == "reset", let passwordHash {
                // Every session of the user ends; every other reset link of theirs too.
                try db.cachedStatement(sql: "UPDATE users SET password_hash = ?, sessions_after = ? WHERE id = ?")
                    .execute(arguments: [passwordHash, stamp, user])
                try db.cachedStatement(sql: "UPDATE account_tokens SET used_at = ? WHERE user_id = ? AND purpose = 'reset' AND used_at IS NULL")
                    .execute(arguments: [stamp, user])
            } else if purpose == "verify" {
                try db.cachedStatement(sql: "UPDATE users SET email_verified_at = COALESCE(email_verified_at, ?) WHERE id = ?")
                    .execute(arguments: [stamp, user])
            }
            return try Self.load(db, user)
        }
    }

    func emailVerifiedAt(user id: String) async throws -> Date? {
        try await pool.read { db in
            try String.fetchOne(db.cachedStatement(sql: "SELECT email_verified_at FROM users WHERE id = ?"), arguments: [id])
                .flatMap(Timestamps.parse)
        }
    }

    func setEmailVerified(user id: String, now: Date) async throws {
        try await writer.write { db in
            try db.cachedStatement(sql: "UPDATE users SET email_verified_at = COALESCE(email_verified_at, ?) WHERE id = ?")
                .execute(arguments: [Timestamps.string(now), id])
        }
    }

    func oauthSignIn(
        provider: String, subject: String, email: String, emailKey: String, fullName: String?, freeCredits: Int, now: Date
    ) async throws -> (user: User, outcome: String) {
        try await writer.write { db in
            let stamp = Timestamps.string(now)
            if let linked = try String.fetchOne(
                db.cachedStatement(sql: "SELECT user_id FROM oauth_identities WHERE provider = ? AND subject = ?"),
                arguments: [provider, subject])
            {
                return (try Self.load(db, linked), "existing")
            }
            var outcome = "linked"
            let user: String
            if let row = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT id, email_verified_at FROM users WHERE email_key = ?"), arguments: [emailKey])
            {
                user = row["id"]
                if (row["email_verified_at"] as String?) == nil {
                    // Whoever registered this address never proved it: the provider's user owns it.
                    try db.cachedStatement(sql: "UPDATE users SET password_hash = NULL, sessions_after = ? WHERE id = ?")
                        .execute(arguments: [stamp, user])
                    outcome = "taken_over"
                }
            } else {
                user = Identifiers.make("u")
                try db.cachedStatement(sql: """
                        INSERT INTO users(id, email, email_key, full_name, password_hash, status, created_at)
                        VALUES (?, ?, ?, ?, NULL, 'active', ?)
                        """).execute(arguments: [user, email, emailKey, fullName, stamp])
                if freeCredits > 0 {
                    try SQLiteLedger.append(
                        db, user: user, bucket: .free, amount: freeCredits, kind: "grant", reference: "signup", now: now,
                        idempotencyKey: "signup:\(user)")
                }
                outcome = "created"
            }
            try db.cachedStatement(sql: "UPDATE users SET email_verified_at = COALESCE(email_verified_at, ?) WHERE id = ?")
                .execute(arguments: [stamp, user])
            try db.cachedStatement(sql: "INSERT INTO oauth_identities(provider, subject, user_id, email, created_at) VALUES (?, ?, ?, ?, ?)")
                .execute(arguments: [provider, subject, user, email, stamp])
            return (try Self.load(db, user), outcome)
        }
    }

    // MARK: Inside a transaction

    static func load(_ db: GRDB.Database, _ id: String) throws -> User {
        guard
            let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT email, full_name, status, created_at FROM users WHERE id = ?"), arguments: [id])
        else { throw EngineError.notFound("user", id) }
        return User(
            id: id, email: row["email"], fullName: row["full_name"], status: User.Status(rawValue: row["status"]) ?? .active,
            createdAt: row["created_at"])
    }

    static func requireExists(_ db: GRDB.Database, _ id: String) throws {
        guard try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM users WHERE id = ?"), arguments: [id]) == true else {
            throw EngineError.notFound("user", id)
        }
    }

    /// A disabled user can do nothing that costs or moves credits.
    static func requireActive(_ db: GRDB.Database, _ id: String) throws {
        guard let status = try String.fetchOne(db.cachedStatement(sql: "SELECT status FROM users WHERE id = ?"), arguments: [id]) else {
            throw EngineError.notFound("user", id)
        }
        guard status == "active" else { throw EngineError.conflict("user \(id) is disabled") }
    }
}
