import Foundation
import Testing
import VectortTesting

@testable import VectortDaemon

@Suite("Secrets from systemd credentials or the environment")
struct SecretsTests {
    @Test func credentialFileIsReadWithoutItsTrailingNewline() async throws {
        let directory = try TemporaryDirectory()
        try directory.write("stripe-secret-key", "sk_test_123\n")
        let secrets = try await Secrets.load(credentialsDirectory: directory.path, environment: [:])
        #expect(secrets["stripe-secret-key"]?.value == "sk_test_123")
        #expect(secrets.entries["stripe-secret-key"]?.source == .credentials)
        #expect(secrets["openai-api-key"] == nil)
    }

    @Test func environmentVariableIsUsedWhenThereIsNoFile() async throws {
        let secrets = try await Secrets.load(
            credentialsDirectory: nil, environment: ["VECTORTD_OPENAI_API_KEY": " sk-openai \n"])
        #expect(secrets["openai-api-key"]?.value == "sk-openai")
        #expect(secrets.entries["openai-api-key"]?.source == .environment)
    }

    @Test func credentialFileWinsOverTheEnvironment() async throws {
        let directory = try TemporaryDirectory()
        try directory.write("openai-api-key", "from-file")
        let secrets = try await Secrets.load(
            credentialsDirectory: directory.path, environment: ["VECTORTD_OPENAI_API_KEY": "from-env"])
        #expect(secrets["openai-api-key"]?.value == "from-file")
    }

    @Test func emptyValuesCountAsAbsent() async throws {
        let directory = try TemporaryDirectory()
        try directory.write("github-token", "\n")
        let secrets = try await Secrets.load(
            credentialsDirectory: directory.path,
            environment: ["VECTORTD_GITHUB_TOKEN": "ghp_env", "VECTORTD_VERCEL_TOKEN": "  "])
        #expect(secrets["github-token"]?.value == "ghp_env")
        #expect(secrets["vercel-token"] == nil)
    }

    @Test func onlyTheRequestedNamesAreLoaded() async throws {
        let directory = try TemporaryDirectory()
        try directory.write("unrelated-file", "value")
        let secrets = try await Secrets.load(
            names: ["jwt-secret"], credentialsDirectory: directory.path,
            environment: ["VECTORTD_JWT_SECRET": "jwt-secret-of-at-least-32-bytes-0123456789", "VECTORTD_OPENAI_API_KEY": "o"])
        #expect(Array(secrets.entries.keys) == ["jwt-secret"])
    }

    @Test func unreadableCredentialsDirectoryIsAnError() async throws {
        let directory = try TemporaryDirectory()
        let error = await #expect(throws: ConfigurationError.self) {
            _ = try await Secrets.load(credentialsDirectory: directory.path + "/missing", environment: [:])
        }
        #expect(error?.key == "CREDENTIALS_DIRECTORY")
    }

    @Test func aJWTSecretTooShortForHMACNamesItsLineNotItsValue() async throws {
        let error = await #expect(throws: ConfigurationError.self) {
            _ = try await Secrets.load(
                credentialsDirectory: nil,
                environment: ["VECTORTD_JWT_SECRET": "a-long-enough-secret-for-hmac-sha256-0123\nshort-one"])
        }
        #expect(error?.key == "jwt-secret")
        #expect(error?.problem.contains("line 2") == true && error?.problem.contains("short-one") == false)
    }

    @Test(arguments: [
        ("openai-api-key", "VECTORTD_OPENAI_API_KEY"),
        ("stripe-webhook-secret", "VECTORTD_STRIPE_WEBHOOK_SECRET"),
        ("jwt-secret", "VECTORTD_JWT_SECRET"),
    ])
    func environmentNameIsUpperCaseWithUnderscores(name: String, variable: String) {
        #expect(Secrets.environmentName(for: name) == variable)
    }

    @Test func secretNeverShowsItsValue() async throws {
        let secret = Secret(value: "sk_live_topsecret")
        #expect(secret.description == "<redacted>")
        #expect(String(reflecting: secret) == "<redacted>")
        #expect(!"\(secret)".contains("topsecret"))
        let secrets = try await Secrets.load(
            credentialsDirectory: nil, environment: ["VECTORTD_STRIPE_SECRET_KEY": "sk_live_topsecret"])
        #expect(!String(describing: secrets).contains("topsecret"))
        #expect(!String(reflecting: secrets).contains("topsecret"))
    }

    @Test func changedNamesListsAddedRemovedAndAlteredSecretsOnly() async throws {
        let old = try await Secrets.load(
            credentialsDirectory: nil,
            environment: ["VECTORTD_OPENAI_API_KEY": "a", "VECTORTD_GITHUB_TOKEN": "g", "VECTORTD_JWT_SECRET": "jwt-secret-of-at-least-32-bytes-0123456789"])
        let new = try await Secrets.load(
            credentialsDirectory: nil,
            environment: ["VECTORTD_OPENAI_API_KEY": "b", "VECTORTD_JWT_SECRET": "jwt-secret-of-at-least-32-bytes-0123456789", "VECTORTD_VERCEL_TOKEN": "v"])
        #expect(old.changedNames(comparedTo: new) == ["github-token", "openai-api-key", "vercel-token"])
        #expect(new.changedNames(comparedTo: new) == [])
    }
}
