public import Foundation
import Crypto
import JWTKit
import VectortCore

/// What a session token says: whose it is, its id (for revocation) and when it ends.
public struct SessionClaims: Sendable, Equatable {
    public var user: String
    public var id: String
    public var issuedAt: Date
    public var expiresAt: Date
}

/// Session tokens: JWT HS256 through jwt-kit, signed with the first line of the `jwt-secret`
/// credential and accepted under any of its lines (a rotation). Each token's `kid` is the first
/// 8 hex digits of the SHA-256 of the secret that signed it, so verification picks its key
/// without trying them all; `alg` must be HS256 (jwt-kit refuses `none` and any other algorithm
/// for an HMAC key).
public struct SessionKeys: Sendable {
    private let keys: JWTKeyCollection
    /// The signing key's id; nil without a secret.
    public let signingKID: String?
    /// Tokens already verified under these keys, until they expire: a browser sends the same
    /// token with every request, and its signature cannot change. Bounded; a reload (new keys)
    /// starts empty. Revocation is not cached: the caller checks it on every request.
    private let verified = Locked<[String: SessionClaims]>([:])

    /// Secrets shorter than this are refused: an HMAC-SHA256 key should be at least as long
    /// as its output.
    public static let minimumSecretBytes = 32

    /// `credential`: one secret per line; blank lines and lines shorter than
    /// `minimumSecretBytes` (which configuration loading refuses) are skipped.
    public static func make(credential: String) async -> SessionKeys {
        let collection = JWTKeyCollection()
        var first: String?
        for line in credential.split(whereSeparator: \.isNewline) {
            let secret = line.trimmingCharacters(in: .whitespaces)
            guard secret.utf8.count >= minimumSecretBytes else { continue }
            let kid = keyID(secret)
            await collection.add(hmac: HMACKey(from: Data(secret.utf8)), digestAlgorithm: .sha256, kid: JWKIdentifier(string: kid))
            if first == nil { first = kid }
        }
        return SessionKeys(keys: collection, signingKID: first)
    }

    private init(keys: JWTKeyCollection, signingKID: String?) {
        self.keys = keys
        self.signingKID = signingKID
    }

    public static func keyID(_ secret: String) -> String {
        TokenEncoding.hex(SHA256.hash(data: Data(secret.utf8)).prefix(4))
    }

    /// A new token for `user`, valid for `lifetime` from `now`.
    public func sign(user: String, now: Date, lifetime: TimeInterval) async throws -> (token: String, claims: SessionClaims) {
        guard let signingKID else { throw SessionError.notConfigured }
        let id = TokenEncoding.hex(TokenEncoding.randomBytes(16))
        let expires = Date(timeIntervalSince1970: (now.timeIntervalSince1970 + lifetime).rounded(.down))
        let payload = SessionPayload(
            sub: SubjectClaim(value: user), jti: IDClaim(value: id), iat: IssuedAtClaim(value: now),
            exp: ExpirationClaim(value: expires))
        let token = try await keys.sign(payload, kid: JWKIdentifier(string: signingKID))
        return (token, SessionClaims(user: user, id: id, issuedAt: now, expiresAt: expires))
    }

    /// The claims of a token this daemon signed with any configured secret that has not expired.
    public func verify(_ token: String) async throws -> SessionClaims {
        guard signingKID != nil else { throw SessionError.notConfigured }
        let now = Date()
        if let known = verified.withLock({ $0[token] }) {
            guard known.expiresAt > now else { throw SessionError.expired }
            return known
        }
        do {
            let payload = try await keys.verify(token, as: SessionPayload.self)
            let claims = SessionClaims(user: payload.sub.value, id: payload.jti.value, issuedAt: payload.iat.value, expiresAt: payload.exp.value)
            verified.withLock { cache in
                if cache.count >= 50_000 { cache.removeAll(keepingCapacity: true) }
                cache[token] = claims
            }
            return claims
        } catch let error as JWTError where error.errorType == .claimVerificationFailure {
            throw SessionError.expired
        } catch {
            throw SessionError.invalid
        }
    }
}

public enum SessionError: Error, Equatable, CustomStringConvertible {
    case notConfigured
    case invalid
    case expired

    public var description: String {
        switch self {
        case .notConfigured: "sessions need the jwt-secret credential"
        case .invalid: "the session token is not valid"
        case .expired: "the session has expired"
        }
    }
}

struct SessionPayload: JWTPayload {
    var sub: SubjectClaim
    var jti: IDClaim
    var iat: IssuedAtClaim
    var exp: ExpirationClaim

    func verify(using algorithm: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired()
    }
}
