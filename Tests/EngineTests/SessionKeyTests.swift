import Auth
import Foundation
import Testing

@Suite("Session tokens: JWT HS256 through jwt-kit, rotation by lines of jwt-secret")
struct SessionKeyTests {
    @Test func aTokenVerifiesUnderEveryLineAndNoLongerOnceItsSecretIsGone() async throws {
        let now = Date()
        let old = await SessionKeys.make(credential: "old-secret-0123456789abcdef0123456789\n")
        let (token, claims) = try await old.sign(user: "u_1", now: now, lifetime: 3600)
        #expect(claims.user == "u_1" && claims.id.count == 32)
        let verified = try await old.verify(token)
        #expect(verified.user == claims.user && verified.id == claims.id && verified.expiresAt == claims.expiresAt)
        #expect(abs(verified.issuedAt.timeIntervalSince(claims.issuedAt)) < 0.001)
        #expect(old.signingKID == SessionKeys.keyID("old-secret-0123456789abcdef0123456789"))

        // Rotation: the new secret signs, the old one still verifies.
        let rotated = await SessionKeys.make(credential: "new-secret-0123456789abcdef0123456789\nold-secret-0123456789abcdef0123456789\n")
        #expect(rotated.signingKID == SessionKeys.keyID("new-secret-0123456789abcdef0123456789"))
        #expect(try await rotated.verify(token).user == "u_1")
        let fresh = try await rotated.sign(user: "u_2", now: now, lifetime: 3600).token
        await #expect(throws: SessionError.invalid) { try await old.verify(fresh) }

        let newOnly = await SessionKeys.make(credential: "new-secret-0123456789abcdef0123456789")
        await #expect(throws: SessionError.invalid) { try await newOnly.verify(token) }
        await #expect(throws: SessionError.invalid) { try await newOnly.verify("not.a.token") }

        let expired = try await old.sign(user: "u_1", now: now.addingTimeInterval(-7200), lifetime: 3600).token
        await #expect(throws: SessionError.expired) { try await old.verify(expired) }

        let none = await SessionKeys.make(credential: "\n")
        #expect(none.signingKID == nil)
        await #expect(throws: SessionError.notConfigured) { try await none.sign(user: "u", now: now, lifetime: 1) }
    }
}
