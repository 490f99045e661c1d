import Foundation
import Protocol
import Testing
import VectortTesting

extension DaemonSuite {
    @Suite("vectortd --check-config")
    struct CheckConfigTests {
        private func check(_ yaml: String?, environment extra: [String: String] = [:], credentials: [String: String] = [:])
            async throws -> CommandResult
        {
            let directory = try TemporaryDirectory(prefix: "vtk")
            var arguments = ["--check-config", "--state-directory", directory.file("state")]
            if let yaml { arguments += ["--config", try directory.write("vectortd.yaml", yaml)] }
            if !credentials.isEmpty {
                for (name, value) in credentials { try directory.write("creds/\(name)", value) }
                arguments += ["--credentials-directory", directory.file("creds")]
            }
            var environment = ["PATH": "/usr/bin:/bin", "HOME": directory.path]
            environment.merge(extra) { _, new in new }
            return try await runCommand(Binaries.vectortd, arguments, environment: environment)
        }

        @Test func builtInDefaultsAreValid() async throws {
            let result = try await check(nil)
            #expect(result.status == 0, "stderr: \(result.stderr)")
            #expect(result.stdout.contains("control.max_message_bytes: 16777216"))
            #expect(result.stdout.contains("shutdown.grace_seconds: 20"))
            #expect(result.stdout.contains("node.heartbeat_seconds: 5"))
            #expect(result.stdout.contains("node.timeout_seconds: 30"))
            #expect(result.stdout.contains("node.lease_seconds: 120"))
        }

        @Test func environmentOverridesTheFile() async throws {
            let result = try await check("control:\n  max_connections: 7\n", environment: ["VECTORTD_CONTROL_MAX_CONNECTIONS": "9"])
            #expect(result.status == 0)
            #expect(result.stdout.contains("control.max_connections: 9"))
        }

        @Test func invalidValuesNameTheKeyAndExitOne() async throws {
            let cases = [
                ("control:\n  max_connections: lots\n", "control.max_connections"),
                ("control:\n  max_message_bytes: 10\n", "control.max_message_bytes"),
                ("log:\n  level: chatty\n", "log.level"),
                ("webhook:\n  listen: nowhere\n", "webhook.listen"),
                ("stripe:\n  api_base: ftp://example\n", "stripe.api_base"),
                ("shutdown:\n  grace_seconds: -1\n", "shutdown.grace_seconds"),
                ("node:\n  heartbeat_seconds: 5\n  timeout_seconds: 6\n", "node.timeout_seconds"),
                ("node:\n  lease_seconds: 0\n", "node.lease_seconds"),
                ("node:\n  id: \"\(String(repeating: "n", count: 201))\"\n", "node.id"),
            ]
            for (yaml, key) in cases {
                let result = try await check(yaml)
                #expect(result.status == 1, "\(key) accepted")
                #expect(result.stderr.contains(key), "stderr: \(result.stderr)")
                #expect(result.stderr.split(separator: "\n").count == 1, "one clear line")
            }
        }

        @Test func missingExplicitFileIsAnError() async throws {
            let result = try await runCommand(
                Binaries.vectortd, ["--check-config", "--config", "/nonexistent/vectortd.yaml"],
                environment: ["PATH": "/usr/bin:/bin"])
            #expect(result.status == 1)
            #expect(result.stderr.contains("/nonexistent/vectortd.yaml"))
        }

        @Test func secretsAreReportedButNeverPrinted() async throws {
            let secretValue = "sk_test_\(UInt64.random(in: 1...UInt64.max))"
            let envSecret = "sk-env-\(UInt64.random(in: 1...UInt64.max))"
            let result = try await check(
                nil, environment: ["VECTORTD_OPENAI_API_KEY": envSecret], credentials: ["stripe-secret-key": secretValue + "\n"])
            #expect(result.status == 0)
            #expect(result.stdout.contains("secrets.stripe-secret-key: <redacted> (from credentials)"))
            #expect(result.stdout.contains("secrets.openai-api-key: <redacted> (from environment)"))
            #expect(result.stdout.contains("secrets.github-token: (not set)"))
            #expect(!result.stdout.contains(secretValue) && !result.stderr.contains(secretValue))
            #expect(!result.stdout.contains(envSecret) && !result.stderr.contains(envSecret))
        }

        @Test func exampleConfigurationFileIsValid() async throws {
            let example = Binaries.repositoryRoot + "/etc/vectortd.yaml"
            try #require(FileManager.default.fileExists(atPath: example))
            let result = try await runCommand(
                Binaries.vectortd, ["--check-config", "--config", example], environment: ["PATH": "/usr/bin:/bin"])
            #expect(result.status == 0, "stderr: \(result.stderr)")
        }
    }
}
