import Foundation
import Protocol
import Testing
import VectortTesting

extension DaemonSuite {
    @Suite("GitHub export through the real daemon and vectortctl")
    struct ExportDaemonTests {
        @Test func aGeneratedAppIsPushedAsOneCommitWithEveryFile() async throws {
            let github = try await FakeGitHub.start()
            defer { Task { await github.shutdown() } }
            var options = DaemonProcess.Options()
            options.config = "github:\n  api_base: \"\(github.baseURL)\"\n"
            options.credentials["github-token"] = github.token
            let daemon = try await DaemonProcess(options)
            let client = try await daemon.connect()
            let user = try #require(try await client.call(MethodName.usersCreate, ["email": "gh@example.com"])["id"]?.stringValue)
            let project = try #require(
                try await client.call(MethodName.projectsCreate, ["user": .string(user), "title": "Paper Planes"])["id"]?.stringValue)
            _ = try await client.call(
                MethodName.projectsGenerate, ["user": .string(user), "project": .string(project), "prompt": "a landing page"],
                timeout: 120)
            let environment = ["PATH": "/usr/bin:/bin", "VECTORTD_SOCKET": daemon.socketPath]
            let run = try await runCommand(
                Binaries.vectortctl, ["export", "github", project, "--json"], environment: environment)
            #expect(run.status == 0, "\(run.stderr)")
            let result = try JSONDecoder().decode(GitHubExportResult.self, from: Data(run.stdout.utf8))
            #expect(result.repo == "ada/paper-planes")
            #expect(result.committed)
            let code = try await client.call(MethodName.projectsGetCode, ["project": .string(project)])
            let files = try #require(code["files"]?.arrayValue)
            var expected: [String: [UInt8]] = [:]
            for file in files { expected[file["path"]?.stringValue ?? ""] = Array((file["contents"]?.stringValue ?? "").utf8) }
            #expect(github.files("ada/paper-planes") == expected, "byte-identical to the version")
            #expect(github.history("ada/paper-planes").count == 2)
            let again = try await runCommand(Binaries.vectortctl, ["export", "github", project], environment: environment)
            #expect(again.stdout.contains("no commit"), "\(again.stdout)")
            let shown = try await client.call(MethodName.projectsGet, ["project": .string(project)])
            #expect(shown["github"]?["commit_sha"]?.stringValue == result.commitSHA)
            #expect(!daemon.output.contains(github.token), "the token reached the log")
        }
    }
}
