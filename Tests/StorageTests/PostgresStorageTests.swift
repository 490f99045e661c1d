import Foundation
import Logging
import PostgresNIO
import Protocol
import Testing
import VectortCore
import VectortTesting

@testable import Storage

/// The PostgreSQL backend, with one or more nodes (each its own pool and group-commit
/// writer) on one private server: the same answers as the SQLite backend, and the money rules
/// held by the database across nodes.
@Suite("The PostgreSQL backend, across nodes")
struct PostgresStorageTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    struct Node {
        let database: Storage.PostgresDatabase
        let writer: PostgresWriter
        let node: PostgresNode
        let ledger: PostgresLedger
        let users: PostgresUsers
        var accounts: PostgresAccounts { PostgresAccounts(writer: writer, database: database) }
        var projects: PostgresProjects { PostgresProjects(writer: writer, database: database) }
        var versions: PostgresVersions { PostgresVersions(writer: writer, database: database) }
        var generations: PostgresGenerations { PostgresGenerations(writer: writer, database: database, node: node) }
        var deployments: PostgresDeployments { PostgresDeployments(writer: writer, database: database, node: node) }
        var payments: PostgresPayments { PostgresPayments(writer: writer, database: database, node: node) }
        let running: Task<Void, Never>
    }

    /// `count` nodes on a fresh database of a private server, running while `body` does.
    private func withNodes(_ count: Int, _ body: ([Node], PostgresServer, String) async throws -> Void) async throws {
        let server = try await PostgresServer.start()
        let name = "ledger"
        do {
            try await server.createDatabase(name)
            let location = try PostgresLocation(url: server.url(database: name))
            let logger = {
                var logger = Logger(label: "postgres-ledger-tests")
                logger.logLevel = .warning
                return logger
            }()
            // The nodes start at once: the migrations run once, under the advisory lock.
            let databases = try await withThrowingTaskGroup(of: Storage.PostgresDatabase.self) { group in
                for _ in 0..<count { group.addTask { try await Storage.PostgresDatabase.open(location, password: nil, logger: logger) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let nodes = databases.enumerated().map { index, database in
                let writer = PostgresWriter(database: database)
                let node = PostgresNode(id: "node-\(index)")
                return Node(
                    database: database, writer: writer, node: node, ledger: PostgresLedger(writer: writer, database: database, node: node),
                    users: PostgresUsers(writer: writer, database: database), running: Task { await writer.run() })
            }
            let result: Result<Void, any Error>
            do { result = .success(try await body(nodes, server, name)) } catch { result = .failure(error) }
            for node in nodes {
                node.writer.stop()
                await node.running.value
                node.database.close()
            }
            await server.stop()
            try result.get()
        } catch {
            await server.stop()
            throw error
        }
    }

    private func addUser(_ server: PostgresServer, _ database: String, _ id: String) async throws {
        try await server.psql(
            "INSERT INTO users(id, email, email_key, status, created_at) VALUES ('\(id)', '\(id)@example.com', '\(id)@example.com', 'active', '2027-01-15T08:00:00.000Z')",
            database: database)
    }

    private func grant(_ ledger: PostgresLedger, _ user: String, _ amount: Int, bucket: CreditBucket = .free, key: String? = nil)
        async throws -> CreditGrant
    {
        try await ledger.grant(
            CreditGrantRequest(
                user: user, amount: amount, bucket: bucket, reason: "test", expiresAt: nil, expiry: nil, idempotencyKey: key),
            now: Self.now)
    }

    @Test func aHoldSettlesAndReleasesAsOnSQLite() async throws {
        try await withNodes(1) { nodes, server, database in
            let ledger = nodes[0].ledger
            try await addUser(server, database, "u1")
            _ = try await grant(ledger, "u1", 10)
            #expect(try await ledger.balance(user: "u1", now: Self.now).total == 10)

            let hold = try await ledger.hold(user: "u1", amount: 7, reference: "job-1", idempotencyKey: nil, now: Self.now)
            #expect(hold.status == .held)
            #expect(hold.allocations == ["free": 7])
            let held = try await ledger.balance(user: "u1", now: Self.now)
            #expect(held.total == 3)
            #expect(held.held == 7)

            let settled = try await ledger.settle(hold: hold.id, charged: 5, now: Self.now)
            #expect(settled.status == .settled)
            #expect(settled.charged == 5)
            #expect(try await ledger.settle(hold: hold.id, charged: 5, now: Self.now) == settled, "a repeat answers the same")
            let after = try await ledger.balance(user: "u1", now: Self.now)
            #expect(after.total == 5)
            #expect(after.held == 0)

            let released = await #expect(throws: EngineError.self) { try await ledger.release(hold: hold.id, now: Self.now) }
            #expect(released?.wireError.name == .conflict)
            let refused = await #expect(throws: EngineError.self) {
                try await ledger.hold(user: "u1", amount: 6, reference: "job-2", idempotencyKey: nil, now: Self.now)
            }
            #expect(refused?.wireError.name == .insufficientCredits)
            let missing = await #expect(throws: EngineError.self) {
                try await ledger.hold(user: "nobody", amount: 1, reference: "job-3", idempotencyKey: nil, now: Self.now)
            }
            #expect(missing?.wireError.name == .notFound)

            let history = try await ledger.history(user: "u1", limit: 10, before: nil)
            #expect(history.entries.map(\.kind) == ["usage", "release", "hold", "grant"])
            #expect(history.entries.map(\.amount) == [-5, 7, -7, 10])
            let verification = try await ledger.verify()
            #expect(verification.mismatches.isEmpty)
            #expect(verification.entriesChecked == 4)
        }
    }

    /// Two-step requests (decide, then apply) share a batch without savepoints: one that fails
    /// in its decision leaves nothing and the others commit; one whose write (or a statement of
    /// whose decision) the server refuses sends the batch round again with a savepoint each,
    /// and it alone fails.
    @Test func twoStepRequestsNeedNoSavepointAndAFailedWriteRunsTheBatchAgainWithThem() async throws {
        try await withNodes(1) { nodes, server, name in
            try await server.psql("CREATE TABLE scratch (n INT PRIMARY KEY)", database: name)
            try await server.psql("INSERT INTO scratch VALUES (-1)", database: name)
            let writer = PostgresWriter(database: nodes[0].database, lanes: 1)
            let running = Task { await writer.run() }
            // Hold the one lane (in a batch of its own) until the twenty requests below have
            // queued behind it: they then go in one batch.
            let holding = Locked(false)
            let blocker = Task {
                try await writer.write { _, _ in
                    holding.value = true
                    let deadline = ContinuousClock.now + .seconds(300)
                    while writer.queued < 20 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
                }
            }
            let started = ContinuousClock.now
            while !holding.value {
                try #require(ContinuousClock.now - started < .seconds(300), "the writer never ran the first request")
                try await Task.sleep(for: .milliseconds(5))
            }
            let outcomes = await withTaskGroup(of: (Int, String).self) { group in
                for n in 0..<20 {
                    group.addTask {
                        do {
                            try await writer.write(
                                deciding: { connection, logger -> Int in
                                    _ = try await connection.query("SELECT n FROM scratch WHERE n = \(n) FOR UPDATE", logger: logger)
                                        .collect()
                                    if n % 5 == 1 { throw EngineError.conflict("request \(n) decided against itself") }
                                    if n == 13 { _ = try await connection.query("SELECT 1 / 0", logger: logger).collect() }
                                    return n == 7 ? -1 : n
                                },
                                then: { connection, value, logger in
                                    _ = try await connection.query("INSERT INTO scratch VALUES (\(value))", logger: logger).collect()
                                })
                            return (n, "ok")
                        } catch let error as EngineError {
                            return (n, error.wireError.name.rawValue)
                        } catch {
                            if PostgresState.isUniqueViolation(error) { return (n, "duplicate") }
                            if (error as? PSQLError)?.serverInfo?[.sqlState] == "22012" { return (n, "division by zero") }
                            return (n, "\(error)")
                        }
                    }
                }
                return await group.reduce(into: [Int: String]()) { $0[$1.0] = $1.1 }
            }
            try await blocker.value
            for n in 0..<20 {
                let expected =
                    n % 5 == 1 ? ErrorName.conflict.rawValue : n == 7 ? "duplicate" : n == 13 ? "division by zero" : "ok"
                #expect(outcomes[n] == expected, "request \(n): \(outcomes[n] ?? "none")")
            }
            // The twenty went in one batch, first without savepoints; the first refused
            // statement sent it round once more, with them.
            #expect(writer.statistics.largestBatch == 20, "\(writer.statistics)")
            #expect(writer.statistics.savepointReruns == 1, "\(writer.statistics)")
            let stored = try await server.psql("SELECT string_agg(n::text, ',' ORDER BY n) FROM scratch", database: name)
            let written = [-1] + (0..<20).filter { $0 % 5 != 1 && $0 != 7 && $0 != 13 }
            #expect(stored.trimmingCharacters(in: .whitespacesAndNewlines) == written.map(String.init).joined(separator: ","))
            writer.stop()
            await running.value
        }
    }

    @Test func twoHundredHoldsOnTwoNodesAgainstTenCreditsSpendExactlyTen() async throws {
        try await withNodes(2) { nodes, server, database in
            try await addUser(server, database, "u1")
            _ = try await grant(nodes[0].ledger, "u1", 10)
            let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<200 {
                    let ledger = nodes[index % 2].ledger
                    group.addTask {
                        do {
                            _ = try await ledger.hold(
                                user: "u1", amount: 2, reference: "job-\(index)", idempotencyKey: nil, now: Self.now)
                            return true
                        } catch let error as EngineError where error.wireError.name == .insufficientCredits {
                            return false
                        }
                    }
                }
                return try await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 }.count == 5)
            let balance = try await nodes[1].ledger.balance(user: "u1", now: Self.now)
            #expect(balance.total == 0)
            #expect(balance.held == 10)
            #expect(try await nodes[0].ledger.verify().mismatches.isEmpty)
        }
    }

    @Test func oneIdempotencyKeyOnBothNodesAtOnceGrantsOnce() async throws {
        try await withNodes(2) { nodes, server, database in
            try await addUser(server, database, "u1")
            let grants = try await withThrowingTaskGroup(of: CreditGrant.self) { group in
                for index in 0..<20 {
                    let ledger = nodes[index % 2].ledger
                    group.addTask { try await grant(ledger, "u1", 25, key: "purchase-1") }
                }
                return try await group.reduce(into: [CreditGrant]()) { $0.append($1) }
            }
            #expect(Set(grants.map(\.entry)).count == 1, "every replay answers the first grant")
            #expect(try await nodes[0].ledger.balance(user: "u1", now: Self.now).total == 25)
            let other = await #expect(throws: EngineError.self) { try await grant(nodes[1].ledger, "u1", 30, key: "purchase-1") }
            #expect(other?.wireError.name == .conflict)
            #expect(try await nodes[1].ledger.history(user: "u1", limit: 10, before: nil).entries.count == 1)
        }
    }

    @Test func settlesOfOneHoldFromBothNodesChargeOnce() async throws {
        try await withNodes(2) { nodes, server, database in
            try await addUser(server, database, "u1")
            _ = try await grant(nodes[0].ledger, "u1", 10)
            let hold = try await nodes[0].ledger.hold(user: "u1", amount: 4, reference: "job", idempotencyKey: nil, now: Self.now)
            let results = try await withThrowingTaskGroup(of: CreditHold.self) { group in
                for index in 0..<10 {
                    let ledger = nodes[index % 2].ledger
                    group.addTask { try await ledger.settle(hold: hold.id, charged: 3, now: Self.now) }
                }
                return try await group.reduce(into: [CreditHold]()) { $0.append($1) }
            }
            #expect(Set(results).count == 1)
            #expect(try await nodes[1].ledger.balance(user: "u1", now: Self.now).total == 7)
            let usage = try await nodes[1].ledger.history(user: "u1", limit: 20, before: nil).entries.filter { $0.kind == "usage" }
            #expect(usage.map(\.amount) == [-3])
            #expect(try await nodes[0].ledger.verify().mismatches.isEmpty)
        }
    }

    @Test func aDisabledUserCannotHold() async throws {
        try await withNodes(1) { nodes, server, database in
            try await addUser(server, database, "u1")
            _ = try await grant(nodes[0].ledger, "u1", 10)
            try await server.psql("UPDATE users SET status = 'disabled' WHERE id = 'u1'", database: database)
            let refused = await #expect(throws: EngineError.self) {
                try await nodes[0].ledger.hold(user: "u1", amount: 1, reference: "job", idempotencyKey: nil, now: Self.now)
            }
            #expect(refused?.wireError.name == .conflict)
        }
    }

    @Test func oneEmailCreatedOnBothNodesAtOnceMakesOneUserWithOneSignupGrant() async throws {
        try await withNodes(2) { nodes, _, _ in
            let outcomes = try await withThrowingTaskGroup(of: String?.self) { group in
                for index in 0..<10 {
                    let users = nodes[index % 2].users
                    group.addTask {
                        do {
                            return try await users.create(
                                email: "Ada@Example.com", emailKey: "ada@example.com", fullName: "Ada", passwordHash: nil,
                                freeCredits: 50, now: Self.now
                            ).id
                        } catch let error as EngineError where error.wireError.name == .alreadyExists {
                            return nil
                        }
                    }
                }
                return try await group.reduce(into: [String?]()) { $0.append($1) }
            }
            let created = outcomes.compactMap { $0 }
            #expect(created.count == 1)
            let user = try #require(created.first)
            #expect(try await nodes[1].ledger.balance(user: user, now: Self.now).total == 50)
            #expect(try await nodes[0].users.find(emailKey: "ada@example.com")?.user.id == user)
            #expect(try await nodes[0].ledger.verify().mismatches.isEmpty)
        }
    }

    @Test func usersPageDisableAndTokensWorkAsOnSQLite() async throws {
        try await withNodes(2) { nodes, _, _ in
            var ids: [String] = []
            for index in 0..<5 {
                ids.append(
                    try await nodes[index % 2].users.create(
                        email: "u\(index)@example.com", emailKey: "u\(index)@example.com", fullName: nil, passwordHash: "h\(index)",
                        freeCredits: 0, now: Self.now
                    ).id)
            }
            let first = try await nodes[0].users.list(limit: 2, after: nil)
            #expect(first.users.map(\.id) == Array(ids.prefix(2)))
            let second = try await nodes[1].users.list(limit: 10, after: first.nextAfter)
            #expect(second.users.map(\.id) == Array(ids.dropFirst(2)))
            #expect(second.nextAfter == nil)
            let bad = await #expect(throws: EngineError.self) { try await nodes[0].users.list(limit: 2, after: "nobody") }
            #expect(bad?.wireError.name == .invalidParameter)

            #expect(try await nodes[1].users.disable(ids[0]).status == .disabled)
            #expect(try await nodes[0].users.get(ids[0]).status == .disabled)
            #expect(try await nodes[0].users.passwordHash(user: ids[1]) == "h1")

            // A reset token is used once, whichever node is asked first.
            let expires = Self.now.addingTimeInterval(3600)
            try await nodes[0].users.issueToken(user: ids[1], purpose: "reset", hash: "t1", expiresAt: expires, now: Self.now)
            let uses = try await withThrowingTaskGroup(of: User?.self) { group in
                for index in 0..<6 {
                    let users = nodes[index % 2].users
                    group.addTask { try await users.consumeToken(hash: "t1", purpose: "reset", passwordHash: "new", now: Self.now) }
                }
                return try await group.reduce(into: [User?]()) { $0.append($1) }
            }
            #expect(uses.compactMap { $0 }.map(\.id) == [ids[1]])
            #expect(try await nodes[1].users.passwordHash(user: ids[1]) == "new")
            let state = try #require(try await nodes[0].users.sessionState(user: ids[1]))
            #expect(state.sessionsAfter == Self.now)
            try await nodes[1].users.revokeSession(user: ids[1], session: "s1", expiresAt: expires, now: Self.now)
            #expect(try await nodes[0].users.sessionState(user: ids[1])?.revoked == ["s1"])
        }
    }

    @Test func oneProviderIdentityOnBothNodesAtOnceMakesOneUser() async throws {
        try await withNodes(2) { nodes, _, _ in
            let results = try await withThrowingTaskGroup(of: (String, String).self) { group in
                for index in 0..<6 {
                    let users = nodes[index % 2].users
                    group.addTask {
                        let (user, outcome) = try await users.oauthSignIn(
                            provider: "github", subject: "42", email: "grace@example.com", emailKey: "grace@example.com",
                            fullName: "Grace", freeCredits: 20, now: Self.now)
                        return (user.id, outcome)
                    }
                }
                return try await group.reduce(into: [(String, String)]()) { $0.append($1) }
            }
            #expect(Set(results.map(\.0)).count == 1)
            #expect(results.filter { $0.1 == "created" }.count == 1)
            #expect(results.filter { $0.1 == "existing" }.count == 5)
            #expect(try await nodes[0].ledger.balance(user: results[0].0, now: Self.now).total == 20)
            #expect(try await nodes[1].users.emailVerifiedAt(user: results[0].0) == Self.now)
        }
    }

    @Test func connectedAccountsKeepOnlySealedTokensAndResealOnce() async throws {
        try await withNodes(2) { nodes, _, _ in
            let user = try await nodes[0].users.create(
                email: "a@example.com", emailKey: "a@example.com", fullName: nil, passwordHash: nil, freeCredits: 0, now: Self.now
            ).id
            let first = ConnectedAccount(platform: "vercel", account: "ada", connectedAt: "2027-01-01T00:00:00.000Z", checkedAt: "2027-01-01T00:00:00.000Z")
            _ = try await nodes[0].accounts.connect(user: user, first, sealedToken: "sealed-1", keyID: "k1")
            let again = ConnectedAccount(platform: "vercel", account: "ada2", connectedAt: "2027-02-01T00:00:00.000Z", checkedAt: "2027-02-01T00:00:00.000Z")
            let stored = try await nodes[1].accounts.connect(user: user, again, sealedToken: "sealed-2", keyID: "k1")
            #expect(stored.account == "ada2")
            #expect(stored.connectedAt == "2027-01-01T00:00:00.000Z", "a reconnect keeps when it was first connected")
            #expect(try await nodes[0].accounts.list(user: user) == [stored])
            #expect(try await nodes[0].accounts.sealedToken(user: user, platform: "vercel") == "sealed-2")
            #expect(try await nodes[1].accounts.sealed(notUnder: "k2").map(\.sealed) == ["sealed-2"])
            #expect(try await nodes[0].accounts.reseal(user: user, platform: "vercel", old: "sealed-2", new: "sealed-3", keyID: "k2"))
            #expect(try await !nodes[1].accounts.reseal(user: user, platform: "vercel", old: "sealed-2", new: "sealed-4", keyID: "k2"))
            #expect(try await nodes[1].accounts.sealed(notUnder: "k2").isEmpty)
            #expect(try await nodes[1].accounts.disconnect(user: user, platform: "vercel") == stored)
            #expect(try await nodes[0].accounts.disconnect(user: user, platform: "vercel") == nil)
            let missing = await #expect(throws: EngineError.self) {
                try await nodes[0].accounts.connect(user: "nobody", first, sealedToken: "s", keyID: "k1")
            }
            #expect(missing?.wireError.name == .notFound)
        }
    }

    @Test func projectsPageUpdateCarryPreviewTokensAndDeleteWithTheirContents() async throws {
        try await withNodes(2) { nodes, server, database in
            let user = try await nodes[0].users.create(
                email: "p@example.com", emailKey: "p@example.com", fullName: nil, passwordHash: nil, freeCredits: 0, now: Self.now
            ).id
            var ids: [String] = []
            for index in 0..<3 {
                ids.append(
                    try await nodes[index % 2].projects.create(
                        user: user, title: "P\(index)", description: nil, type: "static", now: Self.now
                    ).id)
            }
            let page = try await nodes[0].projects.list(user: user, limit: 2, after: nil)
            #expect(page.projects.map(\.id) == Array(ids.prefix(2)))
            #expect(try await nodes[1].projects.list(user: user, limit: 2, after: page.nextAfter).projects.map(\.id) == [ids[2]])
            let updated = try await nodes[1].projects.update(
                ids[0], owner: user, title: "Renamed", description: "d", config: #"{"theme":"dark"}"#, now: Self.now)
            #expect(updated.title == "Renamed")
            #expect(updated.config == ["theme": "dark"])
            let notYours = await #expect(throws: EngineError.self) { try await nodes[0].projects.get(ids[0], owner: "someone") }
            #expect(notYours?.wireError.name == .notFound)

            let tokens = try await nodes[0].projects.previewTokens(ids)
            #expect(tokens.count == 3)
            #expect(Set(tokens.values).count == 3)
            let token = try #require(tokens[ids[1]])
            #expect(try await nodes[1].projects.project(previewToken: token)?.project == ids[1])
            try await nodes[1].projects.setPreviewToken(ids[1], owner: user, token: "fresh")
            #expect(try await nodes[0].projects.project(previewToken: token) == nil)

            // A version's content shared with another project stays; the project's own goes.
            try await server.psql(
                """
                INSERT INTO blobs VALUES ('shared', '\\x01'), ('own', '\\x02');
                INSERT INTO versions(id, project_id, number, files, bytes, created_at) VALUES
                    ('v1', '\(ids[0])', 1, 2, 2, 'x'), ('v2', '\(ids[1])', 1, 1, 1, 'x');
                INSERT INTO version_files VALUES ('v1', 'a', 'shared', 1), ('v1', 'b', 'own', 1), ('v2', 'a', 'shared', 1);
                """, database: database)
            #expect(try await nodes[0].projects.delete(ids[0], owner: user).id == ids[0])
            let left = try await server.psql("SELECT string_agg(hash, ',' ORDER BY hash) FROM blobs", database: database)
            #expect(left.trimmingCharacters(in: .whitespacesAndNewlines) == "shared")
            let gone = await #expect(throws: EngineError.self) { try await nodes[1].projects.get(ids[0], owner: nil) }
            #expect(gone?.wireError.name == .notFound)
        }
    }

    @Test func aGitHubExportIsRecordedOnceUnderItsKey() async throws {
        try await withNodes(2) { nodes, _, _ in
            let user = try await nodes[0].users.create(
                email: "g@example.com", emailKey: "g@example.com", fullName: nil, passwordHash: nil, freeCredits: 0, now: Self.now
            ).id
            let project = try await nodes[0].projects.create(user: user, title: "G", description: nil, type: nil, now: Self.now).id
            let export = GitHubExport(repo: "ada/app", htmlURL: "https://github.com/ada/app", commitSHA: "abc", branch: "main")
            let result = GitHubExportResult(
                project: project, version: "v1", repo: "ada/app", htmlURL: "https://github.com/ada/app", commitSHA: "abc",
                branch: "main", createdRepository: true, committed: true, files: 3)
            #expect(try await nodes[0].projects.exportReplay(key: "e1", request: "r") == nil)
            let first = try await nodes[0].projects.recordGitHub(
                project, owner: user, export: export, key: "e1", request: "r", result: result, now: Self.now)
            var other = result
            other.commitSHA = "def"
            let replayed = try await nodes[1].projects.recordGitHub(
                project, owner: user, export: export, key: "e1", request: "r", result: other, now: Self.now)
            #expect(replayed == first)
            #expect(try await nodes[1].projects.exportReplay(key: "e1", request: "r") == first)
            let conflict = await #expect(throws: EngineError.self) { try await nodes[0].projects.exportReplay(key: "e1", request: "other") }
            #expect(conflict?.wireError.name == .conflict)
            #expect(try await nodes[1].projects.get(project, owner: user).github == export)
        }
    }

    @Test func versionsStoreShareContentsBuildRestoreAndNumberAcrossNodes() async throws {
        try await withNodes(2) { nodes, server, database in
            let user = try await nodes[0].users.create(
                email: "v@example.com", emailKey: "v@example.com", fullName: nil, passwordHash: nil, freeCredits: 0, now: Self.now
            ).id
            let project = try await nodes[0].projects.create(user: user, title: "V", description: nil, type: nil, now: Self.now).id
            let binary = ProjectFile(path: "logo.png", bytes: [0x89, 0x50, 0x00, 0xFF])
            let first = try await nodes[0].versions.store(
                project: project, owner: user,
                files: [ProjectFile(path: "index.html", contents: "<h1>One</h1>"), ProjectFile(path: "app.js", contents: "1"), binary],
                origin: VersionOrigin(provider: "openai", model: "gpt-4o"),
                build: VersionBuild(
                    status: .ok, durationMs: 12, errors: [], files: [ProjectFile(path: "dist/app.js", contents: "built")]),
                now: Self.now)
            #expect(first.number == 1)
            #expect(first.files == 3)
            let second = try await nodes[1].versions.store(
                project: project, owner: user,
                files: [ProjectFile(path: "index.html", contents: "<h1>Two</h1>"), binary, ProjectFile(path: "new.css", contents: "a{}")],
                origin: VersionOrigin(base: first.id), build: nil, now: Self.now)
            #expect(second.number == 2)
            #expect(second.changes == FileChangeCounts(changed: 1, added: 1, deleted: 1))
            #expect(try await nodes[0].projects.get(project, owner: user).currentVersion == second.id)

            let code = try await nodes[0].versions.code(project: project, owner: user, version: "1", path: nil)
            #expect(code.files.map(\.path) == ["app.js", "index.html", "logo.png"])
            #expect(code.files.last?.binary == [0x89, 0x50, 0x00, 0xFF], "bytes read back whole, NUL included")
            let one = try await nodes[1].versions.code(project: project, owner: user, version: nil, path: "new.css")
            #expect(one.files.map(\.contents) == ["a{}"])
            let missing = await #expect(throws: EngineError.self) {
                try await nodes[1].versions.code(project: project, owner: user, version: "9", path: nil)
            }
            #expect(missing?.wireError.name == .notFound)
            // The shared PNG is stored once.
            let blobs = try await server.psql("SELECT count(*) FROM blobs", database: database)
            #expect(blobs.trimmingCharacters(in: .whitespacesAndNewlines) == "6")

            #expect(try await nodes[0].versions.build(project: project, owner: user, version: "1", ).status == .ok)
            #expect(try await nodes[0].versions.builtCode(project: project, owner: user, version: "1", path: nil).files.map(\.path) == ["dist/app.js"])
            let unbuilt = await #expect(throws: EngineError.self) {
                try await nodes[0].versions.builtCode(project: project, owner: user, version: nil, path: nil)
            }
            #expect(unbuilt?.wireError.name == .conflict)
            let stored = try await nodes[1].versions.storeBuild(
                project: project, owner: user, version: second.id,
                build: VersionBuild(status: .failed, durationMs: 3, errors: [GenerationIssue(path: "a.js", rule: "syntax", message: "bad")], files: []),
                now: Self.now)
            #expect(stored.status == .failed)
            #expect(stored.errors.map(\.rule) == ["syntax"])

            let restored = try await nodes[0].versions.restore(project: project, owner: user, version: "1", now: Self.now)
            #expect(restored.number == 3)
            #expect(restored.baseVersion == first.id)
            #expect(try await nodes[1].versions.code(project: project, owner: user, version: "3", path: nil).files == code.files)
            let same = await #expect(throws: EngineError.self) {
                try await nodes[0].versions.restore(project: project, owner: user, version: "3", now: Self.now)
            }
            #expect(same?.wireError.name == .nothingChanged)

            // Versions stored from both nodes at once are numbered one after the other.
            let numbers = try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<8 {
                    let versions = nodes[index % 2].versions
                    group.addTask {
                        try await versions.store(
                            project: project, owner: user, files: [ProjectFile(path: "i.html", contents: "\(index)")],
                            origin: VersionOrigin(), build: nil, now: Self.now
                        ).number
                    }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(numbers.sorted() == Array(4...11))
            #expect(try await nodes[1].versions.list(project: project, owner: user).versions.map(\.number) == Array((1...11).reversed()))
            #expect(try await nodes[0].versions.createdAt(version: first.id) == Timestamps.string(Self.now))
        }
    }

    @Test func aGenerationStartsCompletesReplaysAndFailsAsOnSQLite() async throws {
        try await withNodes(2) { nodes, _, _ in
            let user = try await nodes[0].users.create(
                email: "gen@example.com", emailKey: "gen@example.com", fullName: nil, passwordHash: nil, freeCredits: 100, now: Self.now
            ).id
            let project = try await nodes[0].projects.create(user: user, title: "G", description: nil, type: nil, now: Self.now).id
            let request = GenerationStartRequest(
                project: project, owner: user, prompt: "a to-do app", mode: .quick, price: 30, idempotencyKey: "gen-1")
            guard case .started(let id, let hold, _) = try await nodes[0].generations.start(request, now: Self.now) else {
                Issue.record("the first start replayed")
                return
            }
            #expect(hold.amount == 30)
            #expect(try await nodes[1].projects.get(project, owner: user).status == .generating)
            let busy = await #expect(throws: EngineError.self) {
                try await nodes[1].generations.start(
                    GenerationStartRequest(project: project, owner: user, prompt: "other", mode: .quick, price: 30, idempotencyKey: nil),
                    now: Self.now)
            }
            #expect(busy?.wireError.name == .conflict)
            let attempt = GenerationAttempt(
                provider: "openai", model: "gpt-4o", purpose: "answer", outcome: "ok", durationMs: 900,
                usage: GenerationUsage(inputTokens: 120, outputTokens: 800, cachedInputTokens: 20),
                cost: Cost(amountMicros: 4_200, currency: "usd"), startedAt: Timestamps.string(Self.now))
            let result = try await nodes[1].generations.complete(
                GenerationSuccess(
                    generation: id, project: project, hold: hold.id,
                    files: [ProjectFile(path: "index.html", contents: "<h1>Hi</h1>"), ProjectFile(path: "B.css", contents: "b{}")],
                    provider: "openai", model: "gpt-4o", usage: GenerationUsage(inputTokens: 120, outputTokens: 800, cachedInputTokens: 20),
                    attempts: [attempt], durationMs: 1_000),
                now: Self.now)
            #expect(result.creditsCharged == 30)
            #expect(result.versionNumber == 1)
            #expect(result.files == ["B.css", "index.html"])
            #expect(try await nodes[0].ledger.balance(user: user, now: Self.now).total == 70)

            // The same key replays the stored result, from either node.
            guard case .replay(let replayed) = try await nodes[0].generations.start(request, now: Self.now) else {
                Issue.record("the same key started again")
                return
            }
            #expect(replayed.version == result.version)
            #expect(replayed.files == result.files)
            #expect(replayed.cost == Cost(amountMicros: 4_200, currency: "usd"))
            let record = try await nodes[1].generations.get(id)
            #expect(record.status == .completed)
            #expect(record.attempts.map(\.provider) == ["openai"])
            #expect(record.usage.cachedInputTokens == 20)
            #expect(try await nodes[0].generations.list(project: project, owner: user, limit: 10).generations.map(\.id) == [id])
            let base = try #require(try await nodes[0].generations.editBase(project: project, owner: user, version: nil, historyTurns: 4))
            #expect(base.history == ["a to-do app"])
            #expect(base.files.map(\.path) == ["B.css", "index.html"])

            // A failed generation gives its hold back and frees its key; the project keeps its version.
            guard case .started(let second, _, _) = try await nodes[1].generations.start(
                GenerationStartRequest(project: project, owner: user, prompt: "again", mode: .quick, price: 30, idempotencyKey: "gen-2"),
                now: Self.now)
            else { return }
            #expect(try await nodes[0].ledger.balance(user: user, now: Self.now).total == 40)
            try await nodes[0].generations.fail(
                GenerationFailure(
                    generation: second, status: .failed, error: "provider_error", message: "boom",
                    usage: GenerationUsage(inputTokens: 5, outputTokens: 0), attempts: [], durationMs: nil),
                now: Self.now.addingTimeInterval(2))
            #expect(try await nodes[1].ledger.balance(user: user, now: Self.now).total == 70)
            #expect(try await nodes[1].projects.get(project, owner: user).status == .completed)
            let failed = try await nodes[1].generations.get(second)
            #expect(failed.status == .failed)
            #expect(failed.durationMs == 2_000)
            let usage = try await nodes[0].generations.usage(user: user, since: nil, until: nil, groupBy: "provider")
            #expect(usage.map(\.key) == ["none", "openai"])
            #expect(usage.last?.inputTokens == 120)
            #expect(usage.last?.cost == Cost(amountMicros: 4_200, currency: "usd"))
            #expect(try await nodes[0].ledger.verify().mismatches.isEmpty)
        }
    }

    @Test func thePerUserLimitHoldsAcrossNodes() async throws {
        try await withNodes(2) { nodes, _, _ in
            let user = try await nodes[0].users.create(
                email: "lim@example.com", emailKey: "lim@example.com", fullName: nil, passwordHash: nil, freeCredits: 1000, now: Self.now
            ).id
            var projects: [String] = []
            for index in 0..<6 {
                projects.append(
                    try await nodes[0].projects.create(user: user, title: "L\(index)", description: nil, type: nil, now: Self.now).id)
            }
            let started = try await withThrowingTaskGroup(of: Bool.self) { group in
                for (index, project) in projects.enumerated() {
                    let generations = nodes[index % 2].generations
                    group.addTask {
                        do {
                            _ = try await generations.start(
                                GenerationStartRequest(
                                    project: project, owner: user, prompt: "p", mode: .quick, price: 10, idempotencyKey: nil,
                                    maxConcurrentPerUser: 2),
                                now: Self.now)
                            return true
                        } catch let error as EngineError where error.wireError.name == .rateLimited {
                            return false
                        }
                    }
                }
                return try await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(started.filter { $0 }.count == 2)
            // Each node recovers its own running generations (as at a restart), not the other's.
            let recovered = [
                try await nodes[0].generations.recoverInterrupted(now: Self.now),
                try await nodes[1].generations.recoverInterrupted(now: Self.now),
            ]
            #expect(recovered.reduce(0, +) == 2)
            #expect(try await nodes[0].ledger.balance(user: user, now: Self.now).total == 1000)
        }
    }

    @Test func deployJobsAreCreatedOncePerKeyAndMoveUntilTheyEnd() async throws {
        try await withNodes(2) { nodes, server, database in
            let user = try await nodes[0].users.create(
                email: "d@example.com", emailKey: "d@example.com", fullName: nil, passwordHash: nil, freeCredits: 0, now: Self.now
            ).id
            let request = DeploymentCreate(
                user: user, project: "p1", version: "v1", platform: "vercel", settings: ["team": "ada"], idempotencyKey: "dep-1")
            let created = try await withThrowingTaskGroup(of: (Deployment, Bool).self) { group in
                for index in 0..<6 {
                    let deployments = nodes[index % 2].deployments
                    group.addTask { try await deployments.create(request, now: Self.now) }
                }
                return try await group.reduce(into: [(Deployment, Bool)]()) { $0.append($1) }
            }
            #expect(Set(created.map(\.0.id)).count == 1, "one job for one key, from both nodes at once")
            #expect(created.filter { !$0.1 }.count == 1)
            let job = created[0].0
            #expect(job.state == .queued)
            var other = request
            other.version = "v2"
            let conflict = await #expect(throws: EngineError.self) { try await nodes[1].deployments.create(other, now: Self.now) }
            #expect(conflict?.wireError.name == .conflict)
            let second = try await nodes[1].deployments.create(
                DeploymentCreate(user: user, project: "p2", version: "v9", platform: "netlify", settings: [:], idempotencyKey: nil),
                now: Self.now.addingTimeInterval(1)).deployment

            // Node 0 leases both due jobs; node 1 gets neither while the leases hold.
            let leased = try await nodes[0].deployments.due(at: Self.now.addingTimeInterval(5), limit: 10)
            #expect(Set(leased.map(\.deployment.id)) == [job.id, second.id])
            #expect(leased.allSatisfy { $0.lease != nil })
            #expect(try await nodes[1].deployments.due(at: Self.now.addingTimeInterval(5), limit: 10).isEmpty)
            #expect(try await nodes[0].deployments.activeCount() == 2)
            let later = Self.now.addingTimeInterval(60)
            let lease = try #require(leased.first { $0.deployment.id == job.id }?.lease)
            let building = try await nodes[0].deployments.save(
                DeploymentUpdate(id: job.id, state: .building, platformID: "dpl_1", url: nil, reason: nil, lastProgress: Self.now, polls: 1, nextStepAt: later, lease: lease),
                now: Self.now)
            #expect(building.platformID == "dpl_1")
            // Node 0's leases expire: node 1 takes the job that is due, with a new token, and
            // node 0's save under its old token is refused and changes nothing.
            try await server.psql("UPDATE deployments SET lease_until = now() - interval '1 second'", database: database)
            let taken = try await nodes[1].deployments.due(at: Self.now.addingTimeInterval(5), limit: 10)
            #expect(taken.map(\.deployment.id) == [second.id])
            let stale = await #expect(throws: DeploymentLeaseLost.self) {
                try await nodes[0].deployments.save(
                    DeploymentUpdate(id: second.id, state: .failed, platformID: nil, url: nil, reason: "stale", lastProgress: Self.now, polls: 9, nextStepAt: nil,
                        lease: try #require(leased.first { $0.deployment.id == second.id }?.lease)),
                    now: Self.now)
            }
            #expect(stale?.deployment == second.id)
            #expect(try await nodes[1].deployments.get(second.id, user: nil).deployment.state == .queued)
            #expect(try await nodes[1].deployments.resumeAll(now: Self.now.addingTimeInterval(5)) == 1)
            let live = try await nodes[1].deployments.save(
                DeploymentUpdate(id: job.id, state: .live, platformID: "dpl_1", url: "https://app.vercel.app", reason: nil, lastProgress: later, polls: 2, nextStepAt: nil),
                now: later)
            #expect(live.state == .live)
            #expect(live.finishedAt == Timestamps.string(later))
            // An ended job stays as it ended.
            let ignored = try await nodes[0].deployments.save(
                DeploymentUpdate(id: job.id, state: .failed, platformID: nil, url: nil, reason: "late", lastProgress: later, polls: 3, nextStepAt: nil),
                now: later)
            #expect(ignored.state == .live)
            let record = try await nodes[0].deployments.get(job.id, user: user)
            #expect(record.settings == ["team": "ada"])
            #expect(record.polls == 2)
            let hidden = await #expect(throws: EngineError.self) { try await nodes[0].deployments.get(job.id, user: "someone") }
            #expect(hidden?.wireError.name == .notFound)
            let all = try await nodes[1].deployments.list(user: user, project: nil, state: nil, limit: 1, after: nil)
            #expect(all.deployments.map(\.id) == [second.id])
            #expect(try await nodes[1].deployments.list(user: user, project: nil, state: nil, limit: 1, after: all.nextAfter).deployments.map(\.id) == [job.id])
            #expect(try await nodes[0].deployments.list(user: nil, project: nil, state: .live, limit: 10, after: nil).deployments.map(\.id) == [job.id])
            #expect(try await nodes[0].deployments.activeCount() == 1)
        }
    }

    @Test func oneStripeEventDeliveredToBothNodesGrantsOnce() async throws {
        try await withNodes(2) { nodes, server, database in
            let user = try await nodes[0].users.create(
                email: "pay@example.com", emailKey: "pay@example.com", fullName: nil, passwordHash: nil, freeCredits: 0, now: Self.now
            ).id
            let package = CreditPackage(id: "starter", credits: 500, price: Money(amountMinor: 900, currency: "usd"))
            let request = PaymentCreateRequest(
                user: user, package: package, successURL: "https://app.example/ok", cancelURL: "https://app.example/no",
                idempotencyKey: "buy-1", expiresAt: Self.now.addingTimeInterval(1800))
            let created = try await withThrowingTaskGroup(of: String.self) { group in
                for index in 0..<4 {
                    let payments = nodes[index % 2].payments
                    group.addTask { try await payments.create(request, now: Self.now).payment.id }
                }
                return try await group.reduce(into: Set<String>()) { $0.insert($1) }
            }
            #expect(created.count == 1)
            let payment = try #require(created.first)
            _ = try await nodes[1].payments.attachSession(payment: payment, session: "cs_1", url: "https://checkout/cs_1")

            // A refund's fact arrives before the payment's intent is known: it waits, then applies in order.
            let early = StripeEventInput(
                id: "evt_refund", type: "charge.refunded", created: 1_800_000_100, source: "webhook", body: Array("{}".utf8),
                fact: StripeFact(.refunded, paymentIntent: "pi_1", amount: 300, currency: "usd"))
            #expect(try await nodes[0].payments.apply(early, now: Self.now).outcome == "unmatched")

            let paid = StripeEventInput(
                id: "evt_paid", type: "checkout.session.completed", created: 1_800_000_050, source: "webhook",
                body: Array(#"{"id":"evt_paid"}"#.utf8),
                fact: StripeFact(.paid, payment: payment, session: "cs_1", paymentIntent: "pi_1", amount: 900, currency: "usd"))
            let results = try await withThrowingTaskGroup(of: StripeEventResult.self) { group in
                for index in 0..<6 {
                    let payments = nodes[index % 2].payments
                    group.addTask { try await payments.apply(paid, now: Self.now) }
                }
                return try await group.reduce(into: [StripeEventResult]()) { $0.append($1) }
            }
            #expect(results.filter { !$0.duplicate }.count == 1, "the event id decides once, whichever node it reaches")
            let applied = try #require(results.first { !$0.duplicate })
            #expect(applied.outcome == "applied")
            #expect(applied.credits == 500 - 166, "the waiting refund of 300 of 900 took back its share")
            #expect(try await nodes[0].ledger.balance(user: user, now: Self.now).total == 334)

            let detail = try await nodes[1].payments.get(payment, user: user)
            #expect(detail.payment.status == .partiallyRefunded)
            #expect(detail.events.map(\.id) == ["evt_paid", "evt_refund"])
            #expect(detail.entries.map(\.amount) == [500, -166])
            #expect(try await nodes[0].payments.latestEventCreated() == 1_800_000_100)
            #expect(try await nodes[0].payments.list(user: user, status: nil, limit: 10, after: nil).payments.map(\.id) == [payment])

            // A pending payment past its expiry expires once.
            let stale = try await nodes[0].payments.create(
                PaymentCreateRequest(
                    user: user, package: package, successURL: "https://a/ok", cancelURL: "https://a/no", idempotencyKey: nil,
                    expiresAt: Self.now.addingTimeInterval(10)),
                now: Self.now
            ).payment.id
            #expect(try await nodes[1].payments.expirePending(now: Self.now.addingTimeInterval(60)).map(\.id) == [stale])
            #expect(try await nodes[0].payments.expirePending(now: Self.now.addingTimeInterval(60)).isEmpty)

            // One node at a time reconciles: the lease holder renews, the other waits it out.
            #expect(try await nodes[0].payments.claimReconciler(for: 60))
            #expect(try await !nodes[1].payments.claimReconciler(for: 60))
            #expect(try await nodes[0].payments.claimReconciler(for: 60))
            try await server.psql("UPDATE leases SET until = now() - interval '1 second'", database: database)
            #expect(try await nodes[1].payments.claimReconciler(for: 60))
            #expect(try await !nodes[0].payments.claimReconciler(for: 60))
            #expect(try await nodes[0].ledger.verify().mismatches.isEmpty)
        }
    }

    @Test func aNodeRecoversItsOwnLeftoversAndADeadNodesOnceButNeverALiveNodesWork() async throws {
        try await withNodes(3) { nodes, server, database in
            let user = try await nodes[0].users.create(
                email: "n@example.com", emailKey: "n@example.com", fullName: nil, passwordHash: nil, freeCredits: 100, now: Self.now
            ).id
            for node in nodes {
                try await server.psql(
                    "INSERT INTO nodes(id, started_at, heartbeat_at) VALUES ('\(node.node.id)', 'x', now())", database: database)
            }
            var projects: [String] = []
            for index in 0..<3 {
                projects.append(
                    try await nodes[0].projects.create(user: user, title: "N\(index)", description: nil, type: nil, now: Self.now).id)
            }
            // Each node runs a generation (a hold of 10 each) and takes one more hold of its own.
            for (index, node) in nodes.enumerated() {
                _ = try await node.generations.start(
                    GenerationStartRequest(project: projects[index], owner: user, prompt: "p", mode: .quick, price: 10, idempotencyKey: nil),
                    now: Self.now)
                _ = try await node.ledger.hold(user: user, amount: 5, reference: "extra-\(index)", idempotencyKey: nil, now: Self.now)
            }
            #expect(try await nodes[0].ledger.balance(user: user, now: Self.now).total == 55)

            // Node 0 restarts: it recovers its own generation and hold, not the live nodes'.
            #expect(try await nodes[0].generations.recoverInterrupted(now: Self.now) == 1)
            #expect(try await nodes[0].ledger.releaseHolds(createdBefore: Self.now.addingTimeInterval(1), now: Self.now) == 1)
            #expect(try await nodes[0].ledger.balance(user: user, now: Self.now).total == 70)
            #expect(try await nodes[1].projects.get(projects[1], owner: user).status == .generating)

            // Node 2 stops beating. The first node to look recovers its work, once (a sweep of
            // old holds looks, as a start does). Node 1 last beat as long ago, but it promised
            // to beat only every hour (its own timeout is two): it is judged by that, not by
            // the looking node's 30 s.
            try await server.psql(
                "UPDATE nodes SET heartbeat_at = now() - interval '1 hour' WHERE id = '\(nodes[2].node.id)'", database: database)
            try await server.psql(
                "UPDATE nodes SET heartbeat_at = now() - interval '1 hour', timeout_seconds = 7200 WHERE id = '\(nodes[1].node.id)'",
                database: database)
            let claims = try await withThrowingTaskGroup(of: Int.self) { group in
                for node in nodes.prefix(2) {
                    group.addTask { try await node.ledger.releaseHolds(createdBefore: Self.now.addingTimeInterval(-600), now: Self.now) }
                }
                return try await group.reduce(0, +)
            }
            // The generation's hold goes back with its failure, the extra hold by the sweep: once.
            #expect(claims == 1, "node 2's extra hold, released by one of the two")
            #expect(try await nodes[0].ledger.balance(user: user, now: Self.now).total == 85)
            #expect(try await nodes[1].projects.get(projects[2], owner: user).status == .failed, "the dead node's generation failed")
            #expect(try await nodes[1].projects.get(projects[1], owner: user).status == .generating, "the live node's runs on")
            let left = try await server.psql("SELECT string_agg(id, ',' ORDER BY id) FROM nodes", database: database)
            #expect(left.trimmingCharacters(in: .whitespacesAndNewlines) == "\(nodes[0].node.id),\(nodes[1].node.id)")
            #expect(try await nodes[0].ledger.verify().mismatches.isEmpty)
        }
    }

    @Test(arguments: [
        ("postgres://vectort:secret@db.example.com/vectortd", "password"),
        ("mysql://vectort@db.example.com/vectortd", "postgres://"),
        ("postgres://db.example.com/vectortd", "user"),
        ("postgres://vectort@db.example.com/", "database"),
        ("postgres://vectort@/vectortd", "host"),
        ("postgres://vectort@db.example.com/vectortd?host=/run/postgresql", "not both"),
        ("postgres://vectort@/vectortd?host=run/postgresql", "absolute"),
        ("postgres://vectort@db.example.com/vectortd?sslmode=require", "sslmode"),
    ])
    func badDatabaseURLsAreRefusedByName(url: String, named: String) {
        #expect {
            try PostgresLocation(url: url)
        } throws: { error in
            "\(error)".contains(named)
        }
    }

    @Test func databaseURLsNameAHostOrASocketDirectory() throws {
        let tcp = try PostgresLocation(url: "postgres://vectort@db.example.com:6543/vectortd")
        #expect(tcp.user == "vectort")
        #expect(tcp.database == "vectortd")
        #expect(tcp.host == "db.example.com")
        #expect(tcp.port == 6543)
        #expect(tcp.socketDirectory == nil)
        let socket = try PostgresLocation(url: "postgresql://vectort@/vectortd?host=/run/postgresql")
        #expect(socket.socketDirectory == "/run/postgresql")
        #expect(socket.host == nil)
        #expect(socket.port == 5432)
    }
}
