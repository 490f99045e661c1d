import AsyncHTTPClient
import Foundation
import GRDB
import Logging
import Protocol
import Testing
import VectortTesting

@testable import Engine
import VectortCore

@testable import Storage

/// A fresh random key line, as `openssl rand -base64 32` prints one.
private func keyLine() -> String {
    var generator = SystemRandomNumberGenerator()
    return Data((0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }).base64EncodedString()
}

@Suite("Users' own platform accounts: sealed under data-key, used before the operator's tokens")
struct ConnectedAccountTests {
    // MARK: The keyring

    @Test func aSealedTokenOpensOnlyUnderItsKeyAndForItsRow() throws {
        let first = keyLine(), second = keyLine()
        let keyring = try DataKeyring(credential: first + "\n")
        let sealed = try #require(keyring.seal("vc_secret", context: "u_1/vercel"))
        #expect(!sealed.contains("vc_secret"))
        #expect(sealed.hasPrefix("v1.\(keyring.currentID!)."), "the value names its key")
        #expect(try keyring.open(sealed, context: "u_1/vercel") == "vc_secret")
        #expect(throws: DataKeyring.OpenFailure.corrupt) { try keyring.open(sealed, context: "u_2/vercel") }
        #expect(keyring.seal("vc_secret", context: "u_1/vercel") != sealed, "a fresh nonce every time")

        // Rotation: the new key first encrypts; the old one still decrypts.
        let rotated = try DataKeyring(credential: "# rotated 2026-12\n\(second)\n\n\(first)\n")
        #expect(rotated.keys.count == 2 && rotated.currentID != keyring.currentID)
        #expect(try rotated.open(sealed, context: "u_1/vercel") == "vc_secret")
        let onlyNew = try DataKeyring(credential: second)
        #expect(throws: DataKeyring.OpenFailure.unknownKey(keyring.currentID!)) { try onlyNew.open(sealed, context: "u_1/vercel") }

        // The same key as 64 hex digits is the same key.
        let hex = Data(base64Encoded: first)!.map { String(format: "%02x", $0) }.joined()
        #expect(try DataKeyring(credential: hex).currentID == keyring.currentID)
    }

    @Test func aLineThatIsNotAKeyIsNamedWithoutShowingIt() {
        do {
            _ = try DataKeyring(credential: "\(keyLine())\nhunter2-is-not-a-key\n")
            Issue.record("a bad line was accepted")
        } catch {
            #expect(error.line == 2)
            #expect(!error.description.contains("hunter2"))
        }
        #expect(DataKeyring.empty.seal("x", context: "c") == nil)
    }

    // MARK: Connecting and using accounts

    struct Harness {
        let engine: TestEngine
        let accounts: ConnectedAccounts
        let keyring: Locked<DataKeyring>
        let vercel: FakeVercel
        let github: FakeGitHub
        let deployments: Deployments
        let exporter: GitHubExporter
        let user: String
        let project: String
    }

    static func withHarness(on backend: Backend = .sqlite, _ body: (Harness) async throws -> Void) async throws {
        let vercel = try await FakeVercel.start()
        let github = try await FakeGitHub.start()
        vercel.setInstant(true)
        do {
            try await withEngine(on: backend) { engine in
                let keyring = Locked(try DataKeyring(credential: keyLine()))
                let accounts = ConnectedAccounts(
                    repository: engine.storage.accounts, users: engine.users, http: HTTPClient.shared, keyring: { keyring.value },
                    bases: { ["vercel": vercel.baseURL, "github": github.baseURL] }, now: { engine.clock.date },
                    logger: Logger(label: "accounts-tests"))
                let exporter = GitHubExporter(
                    projects: engine.projects, versions: engine.versions, http: HTTPClient.shared,
                    settings: { GitHubSettings(apiBase: github.baseURL, token: github.token) }, accounts: accounts)
                let settings = DeploySettings(
                    stuckMinutes: 10, vercel: .init(apiBase: vercel.baseURL, token: vercel.token, deadlineMinutes: 50))
                let deployments = Deployments(
                    repository: engine.storage.deployments, projects: engine.projects, versions: engine.versions,
                    http: HTTPClient.shared, settings: { settings }, clock: engine.clock, logger: Logger(label: "accounts-tests"),
                    github: exporter, accounts: accounts)
                let user = try await engine.user()
                let project = try await engine.projects.create(user: user, title: "Soap").id
                let version = try await engine.versions.store(
                    project: project, owner: user, files: [ProjectFile(path: "src/main.jsx", contents: "x\n")])
                _ = try await engine.storage.versions.storeBuild(
                    project: project, owner: user, version: version.id,
                    build: VersionBuild(status: .ok, durationMs: 1, errors: [], files: DeploymentTests.site), now: engine.clock.date)
                try await body(
                    Harness(
                        engine: engine, accounts: accounts, keyring: keyring, vercel: vercel, github: github,
                        deployments: deployments, exporter: exporter, user: user, project: project))
            }
        } catch {
            await vercel.shutdown()
            await github.shutdown()
            throw error
        }
        await vercel.shutdown()
        await github.shutdown()
    }

    /// Runs one Vercel job of the harness's user to its end.
    static func deploy(_ h: Harness) async throws -> Deployment {
        let job = try await h.deployments.start(
            project: h.project, owner: h.user, platform: "vercel", version: nil, settings: nil, idempotencyKey: nil)
        try await DeploymentTests.drive(h.engine, h.deployments) { try await h.deployments.get(job.id, owner: h.user).state.isTerminal }
        return try await h.deployments.get(job.id, owner: h.user)
    }

    @Test func aConnectedAccountDeploysAndExportsInTheUsersOwnAccountAndItsTokenNeverRestsInClear() async throws {
        try await Self.withHarness { h in
            let token = "vc_user_\(UUID().uuidString)"
            h.vercel.tokens.add(token, account: "grace")
            let account = try await h.accounts.connect(user: h.user, platform: "vercel", token: token + "\n")
            #expect(account.account == "grace" && account.platform == "vercel")
            #expect(try await h.accounts.list(user: h.user).accounts == [account])

            let done = try await Self.deploy(h)
            #expect(done.state == .live, "\(done.reason ?? "")")
            #expect(h.vercel.deployment(tagged: done.id)?.account == "grace", "the user's token, not the operator's")

            // GitHub: the repository is created under the user's own login.
            let githubToken = "ghp_user_\(UUID().uuidString.prefix(12))"
            h.github.tokens.add(githubToken, account: "grace-gh")
            _ = try await h.accounts.connect(user: h.user, platform: "github", token: githubToken)
            let export = try await h.exporter.export(
                project: h.project, owner: h.user, version: nil, repo: nil, private: nil, message: nil, force: false)
            #expect(export.repo == "grace-gh/soap")

            // Neither token is anywhere in the database file, its WAL or the rows.
            let rows = try await h.engine.pool.read { db in try String.fetchAll(db, sql: "SELECT sealed_token FROM connected_accounts") }
            #expect(rows.count == 2 && rows.allSatisfy { $0.hasPrefix("v1.") })
            for file in try FileManager.default.contentsOfDirectory(atPath: h.engine.directory.path) {
                let bytes = try Data(contentsOf: h.engine.directory.appendingPathComponent(file))
                #expect(bytes.range(of: Data(token.utf8)) == nil, "\(file) holds the Vercel token")
                #expect(bytes.range(of: Data(githubToken.utf8)) == nil, "\(file) holds the GitHub token")
            }

            // Disconnected: the operator's account again.
            #expect(try await h.accounts.disconnect(user: h.user, platform: "vercel").account == "grace")
            let again = try await Self.deploy(h)
            #expect(h.vercel.deployment(tagged: again.id)?.account == "operator")
            await expectEngineError(.notFound) { try await h.accounts.disconnect(user: h.user, platform: "vercel") }
        }
    }

    @Test(arguments: Backend.allCases) func aRevokedTokenFailsTheJobWithAReasonThatSaysToReconnect(_ backend: Backend) async throws {
        try await Self.withHarness(on: backend) { h in
            let token = "vc_user_\(UUID().uuidString)"
            h.vercel.tokens.add(token, account: "grace")
            _ = try await h.accounts.connect(user: h.user, platform: "vercel", token: token)
            h.vercel.tokens.revoke(token)
            let done = try await Self.deploy(h)
            #expect(done.state == .failed)
            #expect(done.reason?.contains("connect the account again") == true, "\(done.reason ?? "")")
            #expect(h.vercel.creates == 0, "no fall back to the operator's account")
        }
    }

    @Test(arguments: Backend.allCases) func badConnectionsAreNamedAndStoreNothing(_ backend: Backend) async throws {
        try await Self.withHarness(on: backend) { h in
            await expectEngineError(.invalidParameter, parameter: "token") {
                try await h.accounts.connect(user: h.user, platform: "vercel", token: "vc_wrong")
            }
            await expectEngineError(.invalidParameter, parameter: "platform") {
                try await h.accounts.connect(user: h.user, platform: "heroku", token: "x")
            }
            await expectEngineError(.invalidParameter, parameter: "token") {
                try await h.accounts.connect(user: h.user, platform: "vercel", token: "two words")
            }
            await expectEngineError(.notFound) { try await h.accounts.connect(user: "u_nobody", platform: "vercel", token: h.vercel.token) }
            h.keyring.value = .empty
            let missing = await expectEngineError(.unavailable) {
                try await h.accounts.connect(user: h.user, platform: "vercel", token: h.vercel.token)
            }
            #expect(missing?.details["reason"] == "data_key_missing")
            let stored = try await h.engine.count("connected_accounts")
            #expect(stored == 0)
        }
    }

    @Test func aKeyRotationReSealsEveryTokenAndARemovedKeyIsNamed() async throws {
        try await Self.withHarness { h in
            let old = h.keyring.value
            var tokens: [String: String] = [:]
            for index in 0..<3 {
                let user = index == 0 ? h.user : try await h.engine.user()
                let token = "vc_\(index)_\(UUID().uuidString.prefix(8))"
                h.vercel.tokens.add(token, account: "acct\(index)")
                _ = try await h.accounts.connect(user: user, platform: "vercel", token: token)
                tokens[user] = token
            }
            let newLine = keyLine()
            // The operator puts a new key first and keeps the old one.
            let oldLine = try #require(old.keys.first)
            h.keyring.value = DataKeyring(keys: [try #require(DataKeyring(credential: newLine).keys.first), oldLine])
            #expect(try await h.accounts.reencrypt() == (resealed: 3, unreadable: 0))
            #expect(try await h.accounts.reencrypt() == (resealed: 0, unreadable: 0), "nothing left under the old key")
            let ids = try await h.engine.pool.read { db in try String.fetchAll(db, sql: "SELECT DISTINCT key_id FROM connected_accounts") }
            #expect(ids == [h.keyring.value.currentID])
            // The old key can go now.
            h.keyring.value = try DataKeyring(credential: newLine)
            for (user, token) in tokens { #expect(try await h.accounts.token(user: user, platform: "vercel") == token) }

            // A key removed too early: the account says to reconnect, and the job never falls back.
            h.keyring.value = try DataKeyring(credential: keyLine())
            let unreadable = await expectEngineError(.conflict) { try await h.accounts.token(user: h.user, platform: "vercel") }
            #expect(unreadable?.details["reason"] == "account_unreadable")
            #expect(try await h.accounts.reencrypt() == (resealed: 0, unreadable: 3))
            let refused = await expectEngineError(.conflict) { try await Self.deploy(h) }
            #expect(refused?.message.contains("connect it again") == true)
            let jobs = try await h.engine.count("deployments")
            #expect(jobs == 0, "no job, and no fall back to the operator's account")
        }
    }
}
