import Configuration
import Auth
import Engine
import Foundation
import SystemPackage

/// A secret value. Its descriptions never show the value, so it cannot leak into logs by accident.
struct Secret: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The value itself; read it only where it is used (an Authorization header, an HMAC key).
    let value: String

    var description: String { "<redacted>" }
    var debugDescription: String { "<redacted>" }
}

/// Secrets from `$CREDENTIALS_DIRECTORY/<name>` files (systemd `LoadCredential=`), or from
/// `VECTORTD_<NAME>` environment variables (upper case, `-` as `_`). Never from the YAML file.
struct Secrets: Sendable, Equatable {
    enum Source: String, Sendable, Equatable {
        case credentials
        case environment
    }

    struct Entry: Sendable, Equatable {
        var secret: Secret
        var source: Source
    }

    /// The secret names vectortd knows (DESIGN.md "Configuration").
    static let knownNames = [
        "openai-api-key", "anthropic-api-key", "gemini-api-key", "stripe-secret-key", "stripe-webhook-secret",
        "vercel-token", "netlify-token", "render-api-key", "github-token", "jwt-secret", "data-key",
        "smtp-password", "sendgrid-api-key", "google-client-secret", "github-client-secret", "apple-private-key",
        "database-password",
    ]

    /// The known names plus the key of every configured provider entry.
    static func names(for configuration: DaemonConfiguration) -> [String] {
        knownNames + configuration.providerSecretNames.filter { !knownNames.contains($0) }
    }

    private(set) var entries: [String: Entry] = [:]

    subscript(name: String) -> Secret? { entries[name]?.secret }

    /// Environment variable for a secret: `openai-api-key` → `VECTORTD_OPENAI_API_KEY`.
    static func environmentName(for name: String) -> String {
        "VECTORTD_" + name.uppercased().map { $0.isLetter || $0.isNumber ? String($0) : "_" }.joined()
    }

    static func load(
        names: [String] = knownNames, credentialsDirectory: String?, environment: [String: String]
    ) async throws -> Secrets {
        var secrets = Secrets()
        var files: DirectoryFilesProvider?
        if let credentialsDirectory, !credentialsDirectory.isEmpty {
            do {
                files = try await DirectoryFilesProvider(directoryPath: FilePath(credentialsDirectory))
            } catch {
                throw ConfigurationError(
                    key: "CREDENTIALS_DIRECTORY", problem: "cannot read \(credentialsDirectory): \(error)")
            }
        }
        let fileReader = files.map { ConfigReader(provider: $0) }
        for name in names {
            if let value = fileReader?.string(forKey: ConfigKey([name]), isSecret: true), !value.isEmpty {
                secrets.entries[name] = Entry(secret: Secret(value: value), source: .credentials)
            } else if let value = environment[environmentName(for: name)]?.trimmingCharacters(in: .whitespacesAndNewlines),
                !value.isEmpty
            {
                secrets.entries[name] = Entry(secret: Secret(value: value), source: .environment)
            }
        }
        // A jwt-secret line too short for HMAC-SHA256 fails here, naming the line.
        if let jwt = secrets["jwt-secret"] {
            for (index, line) in jwt.value.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let secret = line.trimmingCharacters(in: .whitespaces)
                guard !secret.isEmpty, secret.utf8.count < SessionKeys.minimumSecretBytes else { continue }
                throw ConfigurationError(
                    key: "jwt-secret",
                    problem: "line \(index + 1) is shorter than \(SessionKeys.minimumSecretBytes) bytes (make one with: openssl rand -base64 48)")
            }
        }
        // A data-key that is not a list of keys fails here, naming the line, never showing it.
        if let dataKey = secrets["data-key"] {
            do {
                _ = try DataKeyring(credential: dataKey.value)
            } catch {
                throw ConfigurationError(key: "data-key", problem: error.description)
            }
        }
        return secrets
    }

    /// The `data-key` credential's keys (none when it is not set).
    var dataKeyring: DataKeyring {
        (try? DataKeyring(credential: self["data-key"]?.value ?? "")) ?? .empty
    }

    /// Names whose presence or value differs, never the values.
    func changedNames(comparedTo other: Secrets) -> [String] {
        Set(entries.keys).union(other.entries.keys).filter { entries[$0]?.secret != other.entries[$0]?.secret }.sorted()
    }
}
