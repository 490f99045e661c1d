import AsyncHTTPClient
import Foundation
import GRDB
import Protocol
import Testing
import VectortTesting

@testable import Engine
import VectortCore

@Suite("GitHub export: one commit with exactly the version, through the Git Data API")
struct GitHubExportTests {
    static let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0xFF, 0x10]

    static let files = [
        ProjectFile(path: "index.html", contents: "<!doctype html>\n<title>Soap</title>\n"),
        ProjectFile(path: "src/app.js", contents: "console.log('soap');\n"),
        ProjectFile(path: "public/logo.png", bytes: png),
    ]

    static func withGitHub<T>(
        token: Bool = true, on backend: Backend = .sqlite, _ body: (TestEngine, FakeGitHub, GitHubExporter, String, String) async throws -> T
    ) async throws -> T {
        let github = try await FakeGitHub.start()
        let result: Result<T, any Error>
        do {
            result = .success(
                try await withEngine(on: backend) { engine in
                    let exporter = GitHubExporter(
                        projects: engine.projects, versions: engine.versions, http: HTTPClient.shared,
                        settings: { GitHubSettings(apiBase: github.baseURL, token: token ? github.token : nil) })
                    let user = try await engine.user()
                    let project = try await engine.projects.create(user: user, title: "Soap Shop!").id
                    return try await body(engine, github, exporter, user, project)
                })
        } catch {
            result = .failure(error)
        }
        await github.shutdown()
        return try result.get()
    }

    static func export(
        _ exporter: GitHubExporter, _ project: String, _ user: String, repo: String? = nil, force: Bool = false
    ) async throws -> GitHubExportResult {
        try await exporter.export(
            project: project, owner: user, version: nil, repo: repo, private: nil, message: nil, force: force)
    }

    @Test(arguments: Backend.allCases) func aVersionBecomesOneCommitInANewRepositoryAndAnotherOnTop(_ backend: Backend) async throws {
        try await Self.withGitHub(on: backend) { engine, github, exporter, user, project in
            _ = try await engine.versions.store(project: project, owner: user, files: Self.files)
            let first = try await Self.export(exporter, project, user)
            #expect(first.repo == "ada/soap-shop")
            #expect(first.createdRepository && first.committed)
            #expect(first.branch == "main")
            #expect(github.repository("ada/soap-shop")?.isPrivate == true)
            var tree = github.files("ada/soap-shop")
            #expect(tree == Dictionary(uniqueKeysWithValues: Self.files.map { ($0.path, $0.bytes) }), "exactly the version, byte for byte")
            #expect(github.history("ada/soap-shop").count == 2)
            let recorded = try await engine.projects.get(project, owner: user).github
            #expect(recorded == GitHubExport(repo: "ada/soap-shop", htmlURL: "https://github.com/ada/soap-shop", commitSHA: first.commitSHA, branch: "main"))

            let again = try await Self.export(exporter, project, user)
            #expect(!again.committed && again.commitSHA == first.commitSHA)
            #expect(github.history("ada/soap-shop").count == 2, "re-exporting the same version makes no commit")

            _ = try await engine.versions.store(
                project: project, owner: user, files: [Self.files[0], ProjectFile(path: "about.html", contents: "<p>about</p>\n")])
            let second = try await Self.export(exporter, project, user)
            #expect(second.committed && second.commitSHA != first.commitSHA)
            tree = github.files("ada/soap-shop")
            #expect(Set(tree.keys) == ["index.html", "about.html"], "files the new version deleted do not linger")
            #expect(github.history("ada/soap-shop").count == 3)
        }
    }

    @Test(arguments: Backend.allCases) func anEmptyRepositoryIsBootstrappedAndAForeignOneNeedsForce(_ backend: Backend) async throws {
        try await Self.withGitHub(on: backend) { engine, github, exporter, user, project in
            _ = try await engine.versions.store(project: project, owner: user, files: Self.files)
            github.addRepository("ada/empty")
            let empty = try await Self.export(exporter, project, user, repo: "ada/empty")
            #expect(!empty.createdRepository && empty.committed)
            #expect(Set(github.files("ada/empty").keys) == Set(Self.files.map(\.path)))

            github.addRepository("ada/theirs", file: ("README.md", "# theirs\n"))
            await expectEngineError(.conflict) { try await Self.export(exporter, project, user, repo: "ada/theirs") }
            #expect(github.history("ada/theirs").count == 1)
            let forced = try await Self.export(exporter, project, user, repo: "ada/theirs", force: true)
            #expect(forced.committed)
            #expect(Set(github.files("ada/theirs").keys) == Set(Self.files.map(\.path)))
            #expect(github.history("ada/theirs").count == 2, "on top of theirs, not replacing it")

            let org = try await Self.export(exporter, project, user, repo: "acme/soap")
            #expect(org.createdRepository && github.repository("acme/soap") != nil)
            #expect(github.requests.contains { $0.method == "POST" && $0.path == "/orgs/acme/repos" })
        }
    }

    /// A crash between GitHub's answer and the database leaves a repository the project made
    /// but never recorded: the next export finds its own mark on it and goes on without force.
    @Test func anExportCutOffBeforeItWasRecordedFindsItsOwnRepositoryAgain() async throws {
        try await Self.withGitHub { engine, github, exporter, user, project in
            _ = try await engine.versions.store(project: project, owner: user, files: Self.files)
            let first = try await Self.export(exporter, project, user)
            #expect(github.repository("ada/soap-shop")?.description?.hasSuffix("(\(project))") == true)
            try await engine.pool.write { db in try db.execute(sql: "UPDATE projects SET github = NULL WHERE id = ?", arguments: [project]) }
            #expect(try await engine.projects.get(project, owner: user).github == nil)

            let again = try await Self.export(exporter, project, user)
            #expect(again.repo == first.repo && !again.createdRepository)
            #expect(!again.committed, "the same version: nothing new to commit")
            #expect(try await engine.projects.get(project, owner: user).github?.repo == "ada/soap-shop")

            // Another project's repository of the same name is still someone else's.
            let other = try await engine.projects.create(user: user, title: "Soap Shop!").id
            _ = try await engine.versions.store(project: other, owner: user, files: Self.files)
            await expectEngineError(.conflict) { try await Self.export(exporter, other, user, repo: "ada/soap-shop") }
        }
    }

    @Test func badExportsAreNamed() async throws {
        try await Self.withGitHub { engine, github, exporter, user, project in
            await expectEngineError(.conflict) { try await Self.export(exporter, project, user) }
            _ = try await engine.versions.store(project: project, owner: user, files: Self.files)
            await expectEngineError(.invalidParameter, parameter: "repo") { try await Self.export(exporter, project, user, repo: "a/b/c") }
            await expectEngineError(.invalidParameter, parameter: "repo") { try await Self.export(exporter, project, user, repo: "../x") }
            let other = try await engine.user()
            await expectEngineError(.notFound) { try await Self.export(exporter, project, other) }
            #expect(github.requests.isEmpty, "nothing reached GitHub")
        }
        try await Self.withGitHub(token: false) { engine, _, exporter, user, project in
            _ = try await engine.versions.store(project: project, owner: user, files: Self.files)
            let error = await expectEngineError(.unavailable) { try await Self.export(exporter, project, user) }
            #expect(error?.details["reason"] == .string("platform_not_configured"))
        }
    }

    @Test(arguments: Backend.allCases) func anIdempotencyKeyReturnsTheFirstResult(_ backend: Backend) async throws {
        try await Self.withGitHub(on: backend) { engine, github, exporter, user, project in
            _ = try await engine.versions.store(project: project, owner: user, files: Self.files)
            let first = try await exporter.export(
                project: project, owner: user, version: nil, repo: nil, private: nil, message: nil, force: false,
                idempotencyKey: "export-1")
            let calls = github.requests.count
            let again = try await exporter.export(
                project: project, owner: user, version: nil, repo: nil, private: nil, message: nil, force: false,
                idempotencyKey: "export-1")
            #expect(again == first, "a replay reads back the first result")
            #expect(github.requests.count == calls, "a replay makes no call")
            await expectEngineError(.conflict) {
                try await exporter.export(
                    project: project, owner: user, version: nil, repo: "other", private: nil, message: nil, force: false,
                    idempotencyKey: "export-1")
            }
        }
    }
}
