package import Foundation
import Crypto
import _CryptoExtras
public import Protocol
import VectortCore
package import Storage

/// Users: created with the configured free credits as a ledger grant, never deleted, disabled
/// when they must stop spending.
public struct Users: Sendable {
    package let repository: any UserRepository
    public let freeOnSignup: Int
    let now: @Sendable () -> Date

    package init(repository: any UserRepository, freeOnSignup: Int, now: @escaping @Sendable () -> Date = { Date() }) {
        self.repository = repository
        self.freeOnSignup = freeOnSignup
        self.now = now
    }

    public func create(email: String, fullName: String? = nil, password: String? = nil) async throws -> User {
        try EngineError.refuseNUL(["email": email, "full_name": fullName, "password": password])
        let email = email.trimmingCharacters(in: .whitespacesAndNewlines)
        try Self.validate(email: email)
        if let fullName, fullName.count > 200 { throw EngineError.invalid("full_name", "full_name is longer than 200 characters") }
        if let password, password.count < 8 || password.utf8.count > 1024 {
            throw EngineError.invalid("password", "password must be 8 to 1024 characters")
        }
        let passwordHash = try password.map(PasswordHash.make)
        return try await repository.create(
            email: email, emailKey: email.lowercased(), fullName: fullName, passwordHash: passwordHash,
            freeCredits: freeOnSignup, now: now())
    }

    public func get(_ id: String) async throws -> User {
        try await repository.get(id)
    }

    public func list(limit: Int = 50, after: String? = nil) async throws -> UserPage {
        guard (1...500).contains(limit) else { throw EngineError.invalid("limit", "limit must be 1 to 500") }
        return try await repository.list(limit: limit, after: after)
    }

    public func disable(_ id: String) async throws -> User {
        try await repository.disable(id)
    }

    /// Whether `password` is the user's; false when the user has none.
    public func checkPassword(user id: String, _ password: String) async throws -> Bool {
        guard let stored = try await repository.passwordHash(user: id) else { return false }
        return try PasswordHash.verify(password, against: stored)
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
