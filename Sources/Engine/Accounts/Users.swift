package import Foundation
import Crypto
import _CryptoExtras
package import GRDB
public import Protocol
import VectortCore
import Generation
package import Storage

/// Users: created with the configured free credits as a ledger grant, never deleted, disabled
/// when they must stop spending.
public struct Users: Sendable {
    package let writer: LedgerWriter
    package let pool: DatabasePool
    public let freeOnSignup: Int
    let now: @Sendable () -> Date

    package init(
writer: LedgerWriter, pool: DatabasePool, freeOnSignup: Int, now: @escaping @Sendable () -> Date = { Date() }) {
        self.writer = writer
        self.pool = pool
        self.freeOnSignup = freeOnSignup
        self.now = now
    }

    public func create(email: String, fullName: String? = nil, password: String? = nil) async throws -> User {
        let email = email.trimmingCharacters(in: .whitespacesAndNewlines)
        try Self.validate(email: email)
        if let fullName, fullName.count > 200 { throw EngineError.invalid("full_name", "full_name is longer than 200 characters") }
        if let password, password.count < 8 || password.utf8.count > 1024 {
            throw EngineError.invalid("password", "password must be 8 to 1024 characters")
        }
        let passwordHash = try password.map(PasswordHash.make)
        let now = now()
        let free = freeOnSignup
        return try await writer.write { db in
            let key = email.lowercased()
            if try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM users WHERE email_key = ?"), arguments: [key]) == true {
                throw EngineError.alreadyExists("user", email)
            }
            let id = Identifiers.make("u")
            try db.cachedStatement(sql: """
                    INSERT INTO users(id, email, email_key, full_name, password_hash, status, created_at)
                    VALUES (?, ?, ?, ?, ?, 'active', ?)
                    """).execute(arguments: [id, email, key, fullName, passwordHash, Timestamps.string(now)])
            if free > 0 {
                try Ledger.append(
                    db, user: id, bucket: .free, amount: free, kind: "grant", reference: "signup", now: now,
                    idempotencyKey: "signup:\(id)")
            }
            return try Self.load(db, id)
        }
    }

    public func get(_ id: String) async throws -> User {
        try await pool.read { db in try Self.load(db, id) }
    }

    public func list(limit: Int = 50, after: String? = nil) async throws -> UserPage {
        guard (1...500).contains(limit) else { throw EngineError.invalid("limit", "limit must be 1 to 500") }
        return try await pool.read { db in
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

    public func disable(_ id: String) async throws -> User {
        try await writer.write { db in
            _ = try Self.load(db, id)
            try db.cachedStatement(sql: "UPDATE users SET status = 'disabled' WHERE id = ?").execute(arguments: [id])
            return try Self.load(db, id)
        }
    }

    /// Whether `password` is the user's; false when the user has none.
    public func checkPassword(user id: String, _ password: String) async throws -> Bool {
        let stored = try await pool.read { db in
            try String.fetchOne(db.cachedStatement(sql: "SELECT password_hash FROM users WHERE id = ?"), arguments: [id])
        }
        guard let stored else { return false }
        return try PasswordHash.verify(password, against: stored)
    }

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

    static func validate(email: String) throws {
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard email.utf8.count <= 254, parts.count == 2, !parts[0].isEmpty, parts[1].contains("."),
            !parts[1].hasPrefix("."), !parts[1].hasSuffix("."),
            !email.contains(where: { $0.isWhitespace || $0.isNewline || $0 == "\0" })
        else {
            throw EngineError.invalid("email", "\"\(email)\" is not an email address")
        }
    }
}

/// scrypt password hashes: `scrypt$N$r$p$salt$hash` (salt and hash base64).
enum PasswordHash {
    static let rounds = 16384, blockSize = 8, parallelism = 1

    static func make(_ password: String) throws -> String {
        var salt = [UInt8](repeating: 0, count: 16)
        var generator = SystemRandomNumberGenerator()
        for i in salt.indices { salt[i] = generator.next() }
        let key = try derive(password, salt: salt, rounds: rounds, blockSize: blockSize, parallelism: parallelism)
        return "scrypt$\(rounds)$\(blockSize)$\(parallelism)$\(Data(salt).base64EncodedString())$\(key.base64EncodedString())"
    }

    static func verify(_ password: String, against stored: String) throws -> Bool {
        let parts = stored.split(separator: "$").map(String.init)
        guard parts.count == 6, parts[0] == "scrypt", let n = Int(parts[1]), let r = Int(parts[2]), let p = Int(parts[3]),
            let salt = Data(base64Encoded: parts[4]), let expected = Data(base64Encoded: parts[5])
        else { return false }
        let key = try derive(password, salt: Array(salt), rounds: n, blockSize: r, parallelism: p)
        // Constant time: compare every byte whatever the first difference.
        guard key.count == expected.count else { return false }
        return zip(key, expected).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    private static func derive(_ password: String, salt: [UInt8], rounds: Int, blockSize: Int, parallelism: Int) throws
        -> Data
    {
        let key = try KDF.Scrypt.deriveKey(
            from: Array(password.utf8), salt: salt, outputByteCount: 32, rounds: rounds, blockSize: blockSize,
            parallelism: parallelism)
        return key.withUnsafeBytes { Data($0) }
    }
}
