import Foundation
import Protocol
import Testing
import VectortTesting

extension DaemonSuite {
    @Suite("users' own platform accounts through vectortctl and the real daemon")
    struct ConnectedAccountDaemonTests {
        static func keyLine() -> String {
            var generator = SystemRandomNumberGenerator()
            return Data((0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }).base64EncodedString()
        }

        @Test func aConnectedAccountDeploysInTheUsersAccountAcrossAKeyRotation() async throws {
            let vercel = try await FakeVercel.start()
            defer { Task { await vercel.shutdown() } }
            vercel.setInstant(true)
            let token = "vc_user_\(UUID().uuidString)"
            vercel.tokens.add(token, account: "grace")
            let oldKey = Self.keyLine(), newKey = Self.keyLine()
            var options = DeployDaemonTests.options(vercel)
            options.credentials["data-key"] = oldKey + "\n"
            let daemon = try await DaemonProcess(options)
            let client = try await daemon.connect()
            let (user, project) = try await DeployDaemonTests.generatedProject(client, email: "grace@example.com")
            let ctl = { (arguments: [String], input: String?) in
                try await runCommand(
                    Binaries.vectortctl, arguments, environment: ["PATH": "/usr/bin:/bin", "VECTORTD_SOCKET": daemon.socketPath],
                    input: input)
            }

            let refused = try await ctl(["users", "connect", user, "vercel", "--json"], "vc_not_a_token\n")
            #expect(refused.status == 2)
            #expect(refused.stderr.contains("io.vectort.InvalidParameter"), "\(refused.stderr)")
            let empty = try await ctl(["users", "connect", user, "vercel"], "")
            #expect(empty.status != 0 && empty.stderr.contains("standard input is empty"), "\(empty.stderr)")

            let connected = try await ctl(["users", "connect", user, "vercel"], token + "\n")
            #expect(connected.status == 0, "\(connected.stderr)")
            #expect(connected.stdout.contains("connected vercel account grace"), "\(connected.stdout)")
            let listed = try await ctl(["users", "accounts", user, "--json"], nil)
            let accounts = try JSONDecoder().decode(ConnectedAccountList.self, from: Data(listed.stdout.utf8))
            #expect(accounts.accounts.map(\.account) == ["grace"])
            #expect(!listed.stdout.contains(token))
            let table = try await ctl(["users", "accounts", user], nil)
            #expect(table.stdout.contains("PLATFORM") && table.stdout.contains("grace"), "\(table.stdout)")

            // Rotation: the new key first (tokens are sealed again on reload), then the old one goes.
            try daemon.directory.write("credentials/data-key", "\(newKey)\n\(oldKey)\n", mode: 0o600)
            _ = try await client.call(MethodName.reload)
            try daemon.directory.write("credentials/data-key", "\(newKey)\n", mode: 0o600)
            _ = try await client.call(MethodName.reload)

            let job = try await client.call(
                MethodName.deploymentsStart, ["user": .string(user), "project": .string(project), "platform": "vercel"])
            let id = try #require(job["id"]?.stringValue)
            let states = try await DeployDaemonTests.waitLive(client, [id])
            #expect(states[id]?["state"] == "live", "\(states[id] ?? .null)")
            #expect(vercel.deployment(tagged: id)?.account == "grace", "the user's own account, after the rotation")

            let gone = try await ctl(["users", "disconnect", user, "vercel"], nil)
            #expect(gone.status == 0 && gone.stdout.contains("disconnected vercel account grace"), "\(gone.stderr)")
            #expect(!daemon.output.contains(token), "the user's token reached the log")
            #expect(!daemon.output.contains(oldKey) && !daemon.output.contains(newKey), "a data key reached the log")
        }

        @Test func aDataKeyThatIsNotAKeyStopsTheDaemonAndIsNotShown() async throws {
            let directory = try TemporaryDirectory(prefix: "vtdk")
            try directory.write("creds/data-key", "\(Self.keyLine())\nopen-sesame\n")
            let result = try await runCommand(
                Binaries.vectortd,
                ["--check-config", "--state-directory", directory.file("state"), "--credentials-directory", directory.file("creds")],
                environment: ["PATH": "/usr/bin:/bin", "HOME": directory.path])
            #expect(result.status == 1)
            #expect(result.stderr.contains("data-key line 2"), "\(result.stderr)")
            #expect(!result.stderr.contains("open-sesame"))
        }
    }
}
