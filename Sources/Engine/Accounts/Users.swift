public import Foundation
import Crypto
import _CryptoExtras
public import Protocol
import VectortCore
package import Storage
public import Observability

/// Users: created with the configured free credits as a ledger grant, never deleted, disabled
/// when they must stop spending.
public struct Users: Sendable {
    package let repository: any UserRepository
    public let freeOnSignup: Int
    let now: @Sendable () -> Date
    /// Sessions' state in memory (shared by every copy of this value).
    let sessionStates = SessionStates()
    let observer: Observer

    package init(
        repository: any UserRepository, freeOnSignup: Int, observer: Observer = Observer(),
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.observer = observer
        self.repository = repository
        self.freeOnSignup = freeOnSignup
        self.now = now
    }

    /// A new user; `via` says how they signed up (`control`, `password`), for the registrations metric.
    public func create(email: String, fullName: String? = nil, password: String? = nil, via: String = "control")
        async throws -> User
    {
        try EngineError.refuseNUL(["email": email, "full_name": fullName, "password": password])
        let email = email.trimmingCharacters(in: .whitespacesAndNewlines)
        try Self.validate(email: email)
        if let fullName, fullName.count > 200 { throw EngineError.invalid("full_name", "full_name is longer than 200 characters") }
        if let password, password.count < 8 || password.utf8.count > 1024 {
            throw EngineError.invalid("password", "password must be 8 to 1024 characters")
        }
        let passwordHash = try password.map(PasswordHash.make)
        let user = try await repository.create(
            email: email, emailKey: email.lowercased(), fullName: fullName, passwordHash: passwordHash,
            freeCredits: freeOnSignup, now: now())
        registered(user, via: via)
        return user
    }

    private func registered(_ user: User, via: String) {
        observer.metrics.increment(Metric.registrations, [via])
        observer.events.publish("user.created", ["user": .string(user.id), "via": .string(via)])
    }

    public func get(_ id: String) async throws -> User {
        try await repository.get(id)
    }

    public func list(limit: Int = 50, after: String? = nil) async throws -> UserPage {
        guard (1...500).contains(limit) else { throw EngineError.invalid("limit", "limit must be 1 to 500") }
        return try await repository.list(limit: limit, after: after)
    }

    public func disable(_ id: String) async throws -> User {
        defer { sessionStates.invalidate(id) }
        let user = try await repository.disable(id)
        observer.events.publish("user.disabled", ["user": .string(id)])
        return user
    }

    /// Whether `password` is the user's; false when the user has none.
    public func checkPassword(user id: String, _ password: String) async throws -> Bool {
        guard let stored = try await repository.passwordHash(user: id) else { return false }
        return try PasswordHash.verify(password, against: stored)
    }

    /// The user whose email and password these are; nil for an unknown email, a wrong password
    /// or a user without a password, in about the same time (an unknown email still derives a
    /// key), so the answer does not tell which. A disabled user is refused like a wrong password.
    public func authenticate(email: String, password: String) async throws -> User? {
        try EngineError.refuseNUL(["email": email, "password": password])
        guard password.utf8.count <= 1024 else { return nil }
        let key = email.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        guard let found = try await repository.find(emailKey: key), let stored = found.passwordHash else {
            _ = try? PasswordHash.verify(password, against: PasswordHash.decoy)
            return nil
        }
        if stored.hasPrefix("$5$") {
            // Brought over from the earlier deployment: checked once, then stored as scrypt.
            guard SHA256Crypt.verify(password, against: stored), found.user.status == .active else { return nil }
            try await repository.setPasswordHash(user: found.user.id, try PasswordHash.make(password), revokeSessionsAt: nil)
            return found.user
        }
        guard try PasswordHash.verify(password, against: stored), found.user.status == .active else { return nil }
        return found.user
    }

    /// `Users.Import`: a user from the platform's earlier deployment with the password hash it
    /// had there (SHA256-crypt `$5$…`, or this daemon's scrypt). No signup credits: they are not
    /// new. The first successful login replaces a SHA256-crypt hash with scrypt.
    public func importUser(email: String, passwordHash: String, fullName: String? = nil) async throws -> User {
        try EngineError.refuseNUL(["email": email, "password_hash": passwordHash, "full_name": fullName])
        let email = email.trimmingCharacters(in: .whitespacesAndNewlines)
        try Self.validate(email: email)
        if let fullName, fullName.count > 200 { throw EngineError.invalid("full_name", "full_name is longer than 200 characters") }
        guard SHA256Crypt.parse(passwordHash) != nil || (passwordHash.hasPrefix("scrypt$") && passwordHash.split(separator: "$").count == 6)
        else {
            throw EngineError.invalid("password_hash", "password_hash must be SHA256-crypt ($5$[rounds=N$]salt$hash) or scrypt")
        }
        let user = try await repository.create(
            email: email, emailKey: email.lowercased(), fullName: fullName, passwordHash: passwordHash, freeCredits: 0, now: now())
        registered(user, via: "import")
        return user
    }

    /// Sets a new password (8 to 1024 characters) and voids every session issued before now.
    public func setPassword(user id: String, _ password: String) async throws {
        try EngineError.refuseNUL(["user": id, "password": password])
        guard password.count >= 8, password.utf8.count <= 1024 else {
            throw EngineError.invalid("password", "password must be 8 to 1024 characters")
        }
        defer { sessionStates.invalidate(id) }
        try await repository.setPasswordHash(user: id, try PasswordHash.make(password), revokeSessionsAt: now())
    }

    /// The user of a web session if it still counts (active user, not revoked, not voided).
    public func sessionUser(user id: String, session: String, issuedAt: Date) async throws -> User? {
        var entry = sessionStates.entry(id)
        if entry == nil {
            let version = sessionStates.version(id)
            guard let read = try await repository.sessionState(user: id) else { return nil }
            let fresh = SessionStates.Entry(user: read.user, sessionsAfter: read.sessionsAfter, revoked: read.revoked)
            sessionStates.store(id, fresh, ifStill: version)
            entry = fresh
        }
        guard let entry, entry.user.status == .active, !entry.revoked.contains(session) else { return nil }
        if let after = entry.sessionsAfter, issuedAt <= after { return nil }
        return entry.user
    }

    /// Revokes one web session until it would have expired.
    public func revokeSession(user id: String, session: String, expiresAt: Date) async throws {
        defer { sessionStates.invalidate(id) }
        try await repository.revokeSession(user: id, session: session, expiresAt: expiresAt, now: now())
    }

    /// Signs in with an identity a provider vouched for (`email` verified by it): see
    /// `UserRepository.oauthSignIn`. A disabled user is `Conflict`.
    public func oauthSignIn(provider: String, subject: String, email: String, fullName: String?) async throws
        -> (user: User, outcome: String)
    {
        try EngineError.refuseNUL(["provider": provider, "subject": subject, "email": email, "full_name": fullName])
        let email = email.trimmingCharacters(in: .whitespacesAndNewlines)
        try Self.validate(email: email)
        guard !subject.isEmpty, subject.utf8.count <= 255 else { throw EngineError.invalid("subject", "the provider gave no subject") }
        let result = try await repository.oauthSignIn(
            provider: provider, subject: subject, email: email, emailKey: email.lowercased(),
            fullName: fullName.map { String($0.prefix(200)) }, freeCredits: freeOnSignup, now: now())
        sessionStates.invalidate(result.user.id)
        if result.outcome == "created" { registered(result.user, via: provider) }
        guard result.user.status == .active else { throw EngineError.conflict("user \(result.user.id) is disabled") }
        return result
    }

    // MARK: Links sent by mail

    /// A password reset for the user with this email: the token to mail (valid 30 minutes,
    /// single use), or nil for an unknown or disabled account (the caller answers the same).
    public func startPasswordReset(email: String) async throws -> (user: User, token: String)? {
        try EngineError.refuseNUL(["email": email])
        let key = email.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        guard let found = try await repository.find(emailKey: key), found.user.status == .active else { return nil }
        let token = Self.randomToken()
        try await repository.issueToken(
            user: found.user.id, purpose: "reset", hash: Self.tokenHash(token), expiresAt: now().addingTimeInterval(30 * 60), now: now())
        return (found.user, token)
    }

    /// Sets the password of the reset token's user; every session of theirs ends. A token that
    /// is unknown, used or expired is `InvalidParameter` (`token`) and changes nothing.
    public func finishPasswordReset(token: String, password: String) async throws -> User {
        try EngineError.refuseNUL(["token": token, "password": password])
        guard password.count >= 8, password.utf8.count <= 1024 else {
            throw EngineError.invalid("password", "password must be 8 to 1024 characters")
        }
        let hash = try PasswordHash.make(password)
        guard let user = try await repository.consumeToken(hash: Self.tokenHash(token), purpose: "reset", passwordHash: hash, now: now())
        else { throw EngineError.invalid("token", "the reset link is unknown, used or expired: ask for a new one") }
        sessionStates.invalidate(user.id)
        return user
    }

    /// An email verification token for the user (valid 7 days, single use).
    public func startVerification(user id: String) async throws -> String {
        let token = Self.randomToken()
        try await repository.issueToken(
            user: id, purpose: "verify", hash: Self.tokenHash(token), expiresAt: now().addingTimeInterval(7 * 86_400), now: now())
        return token
    }

    /// Marks the token's user's email verified.
    public func verifyEmail(token: String) async throws -> User {
        try EngineError.refuseNUL(["token": token])
        guard let user = try await repository.consumeToken(hash: Self.tokenHash(token), purpose: "verify", passwordHash: nil, now: now())
        else { throw EngineError.invalid("token", "the verification link is unknown, used or expired") }
        return user
    }

    public func emailVerified(user id: String) async throws -> Bool {
        try await repository.emailVerifiedAt(user: id) != nil
    }

    static func randomToken() -> String { TokenEncoding.base64URL(TokenEncoding.randomBytes(32)) }

    static func tokenHash(_ token: String) -> String { TokenEncoding.hex(SHA256.hash(data: Data(token.utf8))) }

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

    /// A hash of nothing anyone knows, checked for unknown emails so they take as long.
    static let decoy: String = (try? make(UUID().uuidString)) ?? ""

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
