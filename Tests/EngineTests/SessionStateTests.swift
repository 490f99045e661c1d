import Foundation
import Protocol
import Testing
import VectortTesting

@testable import Engine

@Suite("Sessions' state in memory: a change counts at once, a stale read is never stored")
struct SessionStateTests {
    static let user = User(id: "u_1", email: "a@example.com", fullName: nil, status: .active, createdAt: "2026-01-01T00:00:00.000Z")

    @Test func aReadThatBeganBeforeAnInvalidationIsNotStored() {
        let states = SessionStates()
        let version = states.version("u_1")
        // Meanwhile the user logs out (or is disabled): the entry is invalidated.
        states.invalidate("u_1")
        states.store("u_1", SessionStates.Entry(user: Self.user, sessionsAfter: nil, revoked: []), ifStill: version)
        #expect(states.entry("u_1") == nil, "the stale read was dropped")
        let fresh = states.version("u_1")
        states.store("u_1", SessionStates.Entry(user: Self.user, sessionsAfter: nil, revoked: ["j1"]), ifStill: fresh)
        #expect(states.entry("u_1")?.revoked == ["j1"])
    }

    @Test func logoutDisableAndPasswordChangesCountOnTheNextRequest() async throws {
        try await withEngine { engine in
            let user = try await engine.users.create(email: "s@example.com", password: "a long password")
            let issued = engine.clock.date.addingTimeInterval(-10)
            #expect(try await engine.users.sessionUser(user: user.id, session: "j1", issuedAt: issued)?.id == user.id)
            try await engine.users.revokeSession(user: user.id, session: "j1", expiresAt: engine.clock.date.addingTimeInterval(3600))
            #expect(try await engine.users.sessionUser(user: user.id, session: "j1", issuedAt: issued) == nil)
            #expect(try await engine.users.sessionUser(user: user.id, session: "j2", issuedAt: issued)?.id == user.id)
            engine.clock.advance(by: .seconds(5))
            try await engine.users.setPassword(user: user.id, "another long password")
            #expect(try await engine.users.sessionUser(user: user.id, session: "j2", issuedAt: issued) == nil, "issued before the change")
            let later = engine.clock.date.addingTimeInterval(1)
            #expect(try await engine.users.sessionUser(user: user.id, session: "j3", issuedAt: later)?.id == user.id)
            _ = try await engine.users.disable(user.id)
            #expect(try await engine.users.sessionUser(user: user.id, session: "j3", issuedAt: later) == nil)
        }
    }
}
