import Foundation
import GRDB
import Protocol
import Testing

@testable import Engine
@testable import Generation
import VectortCore

@testable import Storage

@Suite("Users: sign-up credits, unique emails, hashed passwords")
struct UserSignupTests {
    @Test(arguments: Backend.allCases) func aNewUserReceivesTheFreeCreditsAsASignupGrantEntry(_ backend: Backend) async throws {
        try await withEngine(on: backend, freeOnSignup: 7) { engine in
            let user = try await engine.users.create(email: "ada@example.com", fullName: "Ada Lovelace")
            #expect(user.status == .active)
            #expect(user.fullName == "Ada Lovelace")
            let balance = try await engine.ledger.balance(user: user.id)
            #expect(balance.total == 7)
            #expect(balance.buckets == ["free": 7, "monthly": 0, "topup": 0])
            #expect(balance.held == 0)
            let history = try await engine.ledger.history(user: user.id)
            #expect(history.entries.count == 1)
            let entry = try #require(history.entries.first)
            #expect(entry.kind == "grant")
            #expect(entry.bucket == .free)
            #expect(entry.amount == 7)
            #expect(entry.reference == "signup")
            #expect(try await engine.ledger.verify().ok)
        }
    }

    @Test(arguments: Backend.allCases) func noFreeCreditsConfiguredMeansNoSignupEntry(_ backend: Backend) async throws {
        try await withEngine(on: backend, freeOnSignup: 0) { engine in
            let user = try await engine.user()
            #expect(try await engine.ledger.balance(user: user).total == 0)
            #expect(try await engine.ledger.history(user: user).entries.isEmpty)
        }
    }

    @Test(arguments: Backend.allCases) func emailsAreUniqueWhateverTheirCase(_ backend: Backend) async throws {
        try await withEngine(on: backend) { engine in
            _ = try await engine.users.create(email: "Grace@Example.com")
            let before = try await engine.rowCounts()
            await expectEngineError(.alreadyExists) { try await engine.users.create(email: "grace@example.COM") }
            await expectEngineError(.alreadyExists) { try await engine.users.create(email: "  GRACE@EXAMPLE.COM ") }
            #expect(try await engine.rowCounts() == before)
        }
    }

    @Test(arguments: Backend.allCases) func concurrentSignupsWithOneEmailCreateOneUser(_ backend: Backend) async throws {
        try await withEngine(on: backend) { engine in
            let created = await withTaskGroup(of: Bool.self) { group in
                for i in 0..<20 {
                    group.addTask {
                        (try? await engine.users.create(email: i.isMultiple(of: 2) ? "x@example.com" : "X@example.com"))
                            != nil
                    }
                }
                return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            let users = try await engine.count("users")
            let entries = try await engine.count("credit_entries")
            #expect(created == 1)
            #expect(users == 1)
            #expect(entries == 1)
        }
    }

    @Test(arguments: [
        "", "plain", "@example.com", "a@", "a@example", "a@@example.com", "a@b@example.com", "a b@example.com",
        "a@.example.com", "a@example.com.", "a\u{0}@example.com", String(repeating: "a", count: 250) + "@x.io",
    ])
    func malformedEmailsAreRefusedAsTheEmailParameter(email: String) async throws {
        try await withEngine { engine in
            let before = try await engine.rowCounts()
            await expectEngineError(.invalidParameter, parameter: "email") { try await engine.users.create(email: email) }
            #expect(try await engine.rowCounts() == before)
        }
    }

    @Test(arguments: Backend.allCases) func passwordsAreStoredAsScryptHashesAndCheckedAgainstThem(_ backend: Backend) async throws {
        try await withEngine(on: backend) { engine in
            let password = "correct horse battery staple"
            let user = try await engine.users.create(email: "p@example.com", password: password)
            let stored = try await engine.rows("SELECT password_hash FROM users WHERE id = '\(user.id)'").first?["password_hash"]
            let hash = try #require(stored)
            #expect(hash.hasPrefix("scrypt$"))
            #expect(!hash.contains(password))
            #expect(!hash.contains(Data(password.utf8).base64EncodedString()))
            #expect(try await engine.users.checkPassword(user: user.id, password))
            #expect(try await !engine.users.checkPassword(user: user.id, password + "!"))
            #expect(try await !engine.users.checkPassword(user: user.id, ""))

            let other = try await engine.users.create(email: "q@example.com", password: password)
            let otherHash = try await engine.rows("SELECT password_hash FROM users WHERE id = '\(other.id)'").first?["password_hash"]
            #expect(otherHash != hash, "each hash has its own salt")
        }
    }

    @Test(arguments: Backend.allCases) func aUserWithoutAPasswordNeverMatchesOne(_ backend: Backend) async throws {
        try await withEngine(on: backend) { engine in
            let user = try await engine.user()
            #expect(try await !engine.users.checkPassword(user: user, "anything at all"))
        }
    }

    @Test(arguments: Backend.allCases) func shortPasswordsAndLongNamesAreRefusedBeforeAnythingIsWritten(_ backend: Backend) async throws {
        try await withEngine(on: backend) { engine in
            let before = try await engine.rowCounts()
            await expectEngineError(.invalidParameter, parameter: "password") {
                try await engine.users.create(email: "s@example.com", password: "1234567")
            }
            await expectEngineError(.invalidParameter, parameter: "full_name") {
                try await engine.users.create(email: "s@example.com", fullName: String(repeating: "n", count: 201))
            }
            #expect(try await engine.rowCounts() == before)
        }
    }

    @Test(arguments: Backend.allCases) func usersArePagedOldestFirst(_ backend: Backend) async throws {
        try await withEngine(on: backend) { engine in
            var ids: [String] = []
            for i in 0..<5 { ids.append(try await engine.user("u\(i)@example.com")) }
            var seen: [String] = []
            var after: String?
            var pages = 0
            repeat {
                let page = try await engine.users.list(limit: 2, after: after)
                seen += page.users.map(\.id)
                after = page.nextAfter
                pages += 1
            } while after != nil
            #expect(seen == ids)
            #expect(pages == 3)
            await expectEngineError(.invalidParameter, parameter: "limit") { try await engine.users.list(limit: 0) }
            await expectEngineError(.invalidParameter, parameter: "limit") { try await engine.users.list(limit: 501) }
            await expectEngineError(.invalidParameter, parameter: "after") { try await engine.users.list(after: "u_nope") }
        }
    }

    @Test(arguments: Backend.allCases) func disablingAUserKeepsItAndMarksItDisabled(_ backend: Backend) async throws {
        try await withEngine(on: backend) { engine in
            let user = try await engine.user()
            let disabled = try await engine.users.disable(user)
            #expect(disabled.status == .disabled)
            #expect(try await engine.users.get(user).status == .disabled)
            await expectEngineError(.notFound) { try await engine.users.disable("u_0000000000000000") }
            await expectEngineError(.notFound) { try await engine.users.get("u_0000000000000000") }
        }
    }
}
