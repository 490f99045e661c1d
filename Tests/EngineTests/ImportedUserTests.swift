import Foundation
import GRDB
import Protocol
import Testing

@testable import Engine
import VectortCore

@testable import Storage

@Suite("Users from the earlier deployment: SHA256-crypt hashes verified, then rehashed with scrypt")
struct ImportedUserTests {
    /// Vectors from glibc's crypt(3) (Python's `crypt.crypt` on Debian 12).
    @Test(arguments: [
        ("Hello world!", "$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5"),
        ("Hello world!", "$5$rounds=10000$saltstringsaltst$3xv.VbSHBb41AL9AvLeujZkZRBAwqFMz2.opqey6IcA"),
        ("correct horse battery staple", "$5$rounds=5000$abcdefgh12345678$rTQlozObndtG5TRbUS5FJa39DJ0HD8RXzZEgR4vxT4B"),
        (String(repeating: "x", count: 70), "$5$rounds=1000$roundstoolow$d11gCUL3q5pqkzokMV.sokpdjiM2tcU5UwZGZodYII8"),
    ])
    func glibcVectorsVerify(_ password: String, _ stored: String) {
        #expect(SHA256Crypt.verify(password, against: stored))
        #expect(!SHA256Crypt.verify(password + "!", against: stored))
    }

    @Test func malformedHashesNeverVerify() {
        for stored in ["", "$5$", "$5$salt$short", "$6$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5", "$5$rounds=x$s$" + String(repeating: "a", count: 43)] {
            #expect(!SHA256Crypt.verify("Hello world!", against: stored), "\(stored)")
        }
    }

    @Test(arguments: Backend.allCases) func anImportedUserLogsInOnceWithTheOldHashAndIsThenScrypt(_ backend: Backend) async throws {
        try await withEngine(on: backend) { engine in
            let user = try await engine.users.importUser(
                email: "Old.Timer@example.com", passwordHash: "$5$rounds=5000$abcdefgh12345678$rTQlozObndtG5TRbUS5FJa39DJ0HD8RXzZEgR4vxT4B")
            #expect(try await engine.ledger.balance(user: user.id).total == 0, "no signup credits for an imported user")
            #expect(try await engine.users.authenticate(email: "old.timer@example.com", password: "wrong horse") == nil)
            let signedIn = try await engine.users.authenticate(email: "old.timer@example.com", password: "correct horse battery staple")
            #expect(signedIn?.id == user.id)
            let stored = try #require(try await engine.storage.users.passwordHash(user: user.id))
            #expect(stored.hasPrefix("scrypt$"), "rehashed at the first login")
            #expect(try await engine.users.authenticate(email: "old.timer@example.com", password: "correct horse battery staple")?.id == user.id)

            await expectEngineError(.invalidParameter, parameter: "password_hash") {
                try await engine.users.importUser(email: "x@example.com", passwordHash: "md5:abc")
            }
            await expectEngineError(.alreadyExists) {
                try await engine.users.importUser(email: "OLD.TIMER@example.com", passwordHash: "$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5")
            }
        }
    }
}
