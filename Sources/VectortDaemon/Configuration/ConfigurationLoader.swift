import Build
import Configuration
import Engine
import Foundation
import Protocol
import SystemPackage

/// Reads `DaemonConfiguration` through apple/swift-configuration.
///
/// Every value is read as text and parsed here, so that a malformed value is an error naming its
/// key instead of silently falling back to the default.
struct ConfigurationLoader {
    /// The YAML file to read, `nil` for built-in defaults and environment only.
    var file: String?
    /// When false, a missing `file` is an error (it was named explicitly).
    var fileMayBeMissing: Bool
    var environment: [String: String]

    /// Picks the configuration file: `--config`, `$CONFIGURATION_DIRECTORY/vectortd.yaml`,
    /// `/etc/vectortd/vectortd.yaml`; none found means built-in defaults.
    static func locate(explicit: String?, environment: [String: String]) -> ConfigurationLoader {
        if let explicit {
            return ConfigurationLoader(file: explicit, fileMayBeMissing: false, environment: environment)
        }
        var candidates: [String] = []
        if let dirs = environment["CONFIGURATION_DIRECTORY"], !dirs.isEmpty {
            candidates += dirs.split(separator: ":").map { "\($0)/vectortd.yaml" }
        }
        candidates.append("/etc/vectortd/vectortd.yaml")
        let found = candidates.first { FileManager.default.fileExists(atPath: $0) }
        return ConfigurationLoader(file: found, fileMayBeMissing: true, environment: environment)
    }

    func load() async throws -> DaemonConfiguration {
        var providers: [any ConfigProvider] = [
            EnvironmentVariablesProvider(environmentVariables: environment).prefixKeys(with: "vectortd")
        ]
        var sources: [String] = ["defaults"]
        if let file {
            if !fileMayBeMissing && !FileManager.default.fileExists(atPath: file) {
                throw ConfigurationError(key: "--config", problem: "file \(file) does not exist")
            }
            do {
                // A file of only comments (like a fresh copy of the example) means "no keys";
                // the YAML provider would reject it for not being a mapping.
                if !Self.hasContent(file) {
                    sources.append(file)
                    return try finish(providers: providers, sources: sources)
                }
                providers.append(try await FileProvider<YAMLSnapshot>(filePath: FilePath(file), allowMissing: true))
            } catch let error as ConfigurationError {
                throw error
            } catch {
                throw ConfigurationError(key: "--config", problem: "cannot read \(file): \(error)")
            }
            sources.append(file)
        }
        return try finish(providers: providers, sources: sources)
    }

    private static func hasContent(_ file: String) -> Bool {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { return true }
        return text.split(whereSeparator: \.isNewline).contains { line in
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            return !trimmed.isEmpty && !trimmed.hasPrefix("#") && trimmed != "---" && trimmed != "..."
        }
    }

    private func finish(providers: [any ConfigProvider], sources: [String]) throws -> DaemonConfiguration {
        var sources = sources
        if environment.keys.contains(where: { $0.hasPrefix("VECTORTD_") && $0 != "VECTORTD_SOCKET" }) {
            sources.append("environment")
        }
        let values = Values(reader: ConfigReader(providers: providers))
        var c = DaemonConfiguration()
        c.sources = sources

        c.control.socket = try values.string("control.socket")
        c.control.adminGroup = try values.string("control.admin_group") ?? c.control.adminGroup
        c.control.clientGroup = try values.string("control.client_group") ?? c.control.clientGroup
        c.control.maxMessageBytes =
            try values.int("control.max_message_bytes", in: 1024...(1 << 30)) ?? c.control.maxMessageBytes
        c.control.maxConnections = try values.int("control.max_connections", in: 1...1_000_000) ?? c.control.maxConnections
        c.control.maxPipelinedCalls =
            try values.int("control.max_pipelined_calls", in: 1...65536) ?? c.control.maxPipelinedCalls
        c.control.maxUnsentReplyBytes =
            try values.int("control.max_unsent_reply_bytes", in: 65536...(1 << 34)) ?? c.control.maxUnsentReplyBytes
        c.control.maxPartialFrameBytes =
            try values.int("control.max_partial_frame_bytes", in: 65536...(1 << 40)) ?? c.control.maxPartialFrameBytes
        c.control.idleTimeoutSeconds =
            try values.double("control.idle_timeout_seconds", in: 1...604_800) ?? c.control.idleTimeoutSeconds
        c.control.frameTimeoutSeconds =
            try values.double("control.frame_timeout_seconds", in: 0.1...3600) ?? c.control.frameTimeoutSeconds

        c.database.path = try values.string("database.path") ?? c.database.path
        if c.database.path.isEmpty { throw ConfigurationError(key: "database.path", problem: "must not be empty") }
        c.database.maxBatch = try values.int("database.max_batch", in: 1...100_000) ?? c.database.maxBatch
        c.node.id = try values.string("node.id") ?? c.node.id
        if c.node.id.utf8.count > 200 {
            throw ConfigurationError(key: "node.id", problem: "must be at most 200 bytes")
        }
        c.node.heartbeatSeconds = try values.double("node.heartbeat_seconds", in: 0.1...3600) ?? c.node.heartbeatSeconds
        c.node.timeoutSeconds = try values.double("node.timeout_seconds", in: 0.5...86_400) ?? c.node.timeoutSeconds
        if c.node.timeoutSeconds < 2 * c.node.heartbeatSeconds {
            throw ConfigurationError(
                key: "node.timeout_seconds",
                problem: "\(c.node.timeoutSeconds) is less than twice node.heartbeat_seconds (\(c.node.heartbeatSeconds)): a live node would be taken for dead")
        }
        c.node.leaseSeconds = try values.double("node.lease_seconds", in: 1...86_400) ?? c.node.leaseSeconds
        c.database.url = try values.string("database.url") ?? c.database.url
        if !c.database.url.isEmpty, let problem = Engine.databaseURLProblem(c.database.url) {
            throw ConfigurationError(key: "database.url", problem: problem)
        }
        c.projects.maxFiles = try values.int("projects.max_files", in: 1...1_000_000) ?? c.projects.maxFiles
        if let configured = try values.int("projects.max_version_bytes", in: 1024...(1 << 30)) {
            c.projects.maxVersionBytes = configured
        } else {
            c.projects.maxVersionBytes = min(c.projects.maxVersionBytes, c.control.maxMessageBytes / 2)
        }
        if c.projects.maxVersionBytes > c.control.maxMessageBytes / 2 {
            throw ConfigurationError(
                key: "projects.max_version_bytes",
                problem: "\(c.projects.maxVersionBytes) is more than half of control.max_message_bytes (\(c.control.maxMessageBytes)); a version must fit in one message as JSON or base64")
        }

        c.projects.diffMaxBytes = try values.int("projects.diff_max_bytes", in: 1024...(1 << 26)) ?? c.projects.diffMaxBytes
        c.shutdown.graceSeconds = try values.double("shutdown.grace_seconds", in: 0...3600) ?? c.shutdown.graceSeconds

        c.build.enabled = try values.bool("build.enabled") ?? c.build.enabled
        c.build.esbuildPath = try values.string("build.esbuild_path") ?? c.build.esbuildPath
        if c.build.esbuildPath.isEmpty { throw ConfigurationError(key: "build.esbuild_path", problem: "must not be empty") }
        c.build.nodePaths = try values.stringArray("build.node_paths") ?? c.build.nodePaths
        c.build.timeoutSeconds = try values.double("build.timeout_seconds", in: 1...600) ?? c.build.timeoutSeconds
        c.build.maxOutputBytes = try values.int("build.max_output_bytes", in: 65536...(1 << 32)) ?? c.build.maxOutputBytes
        if let mode = try values.string("build.external_packages") {
            guard BuildSettings.ExternalPackages(rawValue: mode) != nil else {
                let modes = BuildSettings.ExternalPackages.allCases.map(\.rawValue).joined(separator: ", ")
                throw ConfigurationError(key: "build.external_packages", problem: "\"\(mode)\" is not one of \(modes)")
            }
            c.build.externalPackages = mode
        }
        c.build.cdnBase = try values.string("build.cdn_base") ?? c.build.cdnBase
        guard c.build.cdnBase.hasPrefix("https://") || c.build.cdnBase.hasPrefix("http://") else {
            throw ConfigurationError(key: "build.cdn_base", problem: "must be an http(s) URL")
        }
        c.build.maxConcurrent = try values.int("build.max_concurrent", in: 1...64) ?? c.build.maxConcurrent
        c.build.renderCheck = try values.bool("build.render_check") ?? c.build.renderCheck
        c.build.renderSeconds = try values.double("build.render_seconds", in: 0.5...60) ?? c.build.renderSeconds

        if let level = try values.string("log.level") {
            guard logLevelNames.contains(level) else {
                throw ConfigurationError(
                    key: "log.level", problem: "\"\(level)\" is not one of \(logLevelNames.joined(separator: ", "))")
            }
            c.log.level = level
        }
        if let target = try values.string("log.target") {
            guard let t = DaemonConfiguration.Log.Target(rawValue: target) else {
                throw ConfigurationError(key: "log.target", problem: "\"\(target)\" is not one of auto, journal, stderr")
            }
            c.log.target = t
        }

        c.credits.freeOnSignup = try values.int("credits.free_on_signup", in: 0...1_000_000) ?? c.credits.freeOnSignup
        c.credits.priceQuick = try values.int("credits.prices.quick", in: 0...1_000_000) ?? c.credits.priceQuick
        c.credits.priceAdvanced = try values.int("credits.prices.advanced", in: 0...1_000_000) ?? c.credits.priceAdvanced
        c.credits.holdMaxAgeSeconds =
            try values.double("credits.hold_max_age_seconds", in: 1...604_800) ?? c.credits.holdMaxAgeSeconds
        if let packages = try values.stringArray("credits.packages") {
            var ids = Set<String>()
            for package in packages {
                let parsed = try CreditPackageSpec.parse(package, key: "credits.packages")
                guard ids.insert(parsed.id).inserted else {
                    throw ConfigurationError(key: "credits.packages", problem: "package id \(parsed.id) appears twice")
                }
            }
            c.credits.packages = packages
        }

        c.generation.chain = try values.stringArray("generation.chain")
        c.generation.deadlineQuickSeconds =
            try values.double("generation.deadline_seconds.quick", in: 1...3600) ?? c.generation.deadlineQuickSeconds
        c.generation.deadlineAdvancedSeconds =
            try values.double("generation.deadline_seconds.advanced", in: 1...3600)
            ?? c.generation.deadlineAdvancedSeconds
        c.generation.maxContinuations =
            try values.int("generation.max_continuations", in: 0...10) ?? c.generation.maxContinuations
        c.generation.maxOutputTokens =
            try values.int("generation.max_output_tokens", in: 256...1_000_000) ?? c.generation.maxOutputTokens
        c.generation.maxPromptBytes =
            try values.int("generation.max_prompt_bytes", in: 1...1_000_000) ?? c.generation.maxPromptBytes
        c.generation.contextMaxBytes =
            try values.int("generation.context_max_bytes", in: 1_000...20_000_000) ?? c.generation.contextMaxBytes
        c.generation.historyTurns = try values.int("generation.history_turns", in: 0...100) ?? c.generation.historyTurns
        c.generation.maxConcurrentPerUser =
            try values.int("generation.max_concurrent_per_user", in: 0...10_000) ?? c.generation.maxConcurrentPerUser
        if let chain = c.generation.chain, chain.isEmpty {
            throw ConfigurationError(key: "generation.chain", problem: "must name at least one provider")
        }
        c.providers = try Self.readProviders(values, chain: c.generation.chain)

        c.metrics.listen = try values.string("metrics.listen") ?? c.metrics.listen
        if !c.metrics.listen.isEmpty, c.metrics.listen != "api" { _ = try HostPort.parse(c.metrics.listen, key: "metrics.listen") }
        c.metrics.enabled = try values.bool("metrics.enabled") ?? c.metrics.enabled
        c.events.buffer = try values.int("events.buffer", in: 16...1_000_000) ?? c.events.buffer
        c.idempotency.retentionDays = try values.int("idempotency.retention_days", in: 1...3650) ?? c.idempotency.retentionDays

        c.webhook.listen = try values.string("webhook.listen") ?? c.webhook.listen
        if !c.webhook.listen.isEmpty { _ = try HostPort.parse(c.webhook.listen, key: "webhook.listen") }
        c.webhook.path = try values.string("webhook.path") ?? c.webhook.path
        if !c.webhook.path.hasPrefix("/") {
            throw ConfigurationError(key: "webhook.path", problem: "must start with /")
        }
        c.webhook.toleranceSeconds =
            try values.double("webhook.tolerance_seconds", in: 1...86_400) ?? c.webhook.toleranceSeconds
        c.webhook.maxBodyBytes = try values.int("webhook.max_body_bytes", in: 1024...64 * 1_048_576) ?? c.webhook.maxBodyBytes
        c.webhook.readTimeoutSeconds =
            try values.double("webhook.read_timeout_seconds", in: 0.1...3600) ?? c.webhook.readTimeoutSeconds
        c.webhook.maxConnections = try values.int("webhook.max_connections", in: 1...100_000) ?? c.webhook.maxConnections
        c.api.listen = try values.string("api.listen") ?? c.api.listen
        if !c.api.listen.isEmpty { _ = try HostPort.parse(c.api.listen, key: "api.listen") }
        c.api.previewListen = try values.string("api.preview_listen") ?? c.api.previewListen
        if !c.api.previewListen.isEmpty { _ = try HostPort.parse(c.api.previewListen, key: "api.preview_listen") }
        c.api.frontendURL = try values.string("api.frontend_url") ?? c.api.frontendURL
        guard let frontend = URL(string: c.api.frontendURL), frontend.scheme == "https" || frontend.scheme == "http", frontend.host != nil
        else { throw ConfigurationError(key: "api.frontend_url", problem: "\"\(c.api.frontendURL)\" is not an http(s) URL") }
        if c.api.frontendURL.hasSuffix("/") { c.api.frontendURL.removeLast() }
        c.api.publicURL = try values.string("api.public_url") ?? c.api.publicURL
        if !c.api.publicURL.isEmpty {
            guard let url = URL(string: c.api.publicURL), url.scheme == "https" || url.scheme == "http", url.host != nil else {
                throw ConfigurationError(key: "api.public_url", problem: "\"\(c.api.publicURL)\" is not an http(s) URL")
            }
            if c.api.publicURL.hasSuffix("/") { c.api.publicURL.removeLast() }
        }
        for (name, keyPath) in [("google", \DaemonConfiguration.OAuthOptions.google), ("github", \.github), ("apple", \.apple)] {
            var provider = c.oauth[keyPath: keyPath]
            provider.clientID = try values.string("oauth.\(name).client_id") ?? provider.clientID
            for (field, path) in [("auth_url", \DaemonConfiguration.OAuthOptions.Provider.authURL), ("token_url", \.tokenURL),
                                  ("jwks_url", \.jwksURL), ("api_base", \.apiBase)] {
                guard let value = try values.string("oauth.\(name).\(field)") else { continue }
                guard let url = URL(string: value), url.scheme == "https" || url.scheme == "http", url.host != nil else {
                    throw ConfigurationError(key: "oauth.\(name).\(field)", problem: "\"\(value)\" is not an http(s) URL")
                }
                provider[keyPath: path] = value
            }
            provider.issuer = try values.string("oauth.\(name).issuer") ?? provider.issuer
            provider.teamID = try values.string("oauth.\(name).team_id") ?? provider.teamID
            provider.keyID = try values.string("oauth.\(name).key_id") ?? provider.keyID
            c.oauth[keyPath: keyPath] = provider
            if !provider.clientID.isEmpty, c.api.publicURL.isEmpty {
                throw ConfigurationError(key: "api.public_url", problem: "is required when oauth.\(name).client_id is set (the callback URL)")
            }
        }
        if !c.oauth.apple.clientID.isEmpty, c.oauth.apple.teamID.isEmpty || c.oauth.apple.keyID.isEmpty {
            throw ConfigurationError(key: "oauth.apple.team_id", problem: "team_id and key_id are required with oauth.apple.client_id")
        }
        c.mail.from = try values.string("mail.from") ?? c.mail.from
        if !c.mail.from.isEmpty, c.mail.from.split(separator: "@").count != 2 || c.mail.from.contains(where: \.isWhitespace) {
            throw ConfigurationError(key: "mail.from", problem: "\"\(c.mail.from)\" is not an email address")
        }
        c.mail.transport = try values.string("mail.transport") ?? c.mail.transport
        guard ["smtp", "sendgrid"].contains(c.mail.transport) else {
            throw ConfigurationError(key: "mail.transport", problem: "must be smtp or sendgrid, not \"\(c.mail.transport)\"")
        }
        c.mail.smtpURL = try values.string("mail.smtp_url") ?? c.mail.smtpURL
        guard let smtp = URLComponents(string: c.mail.smtpURL), smtp.scheme == "smtp", smtp.host?.isEmpty == false else {
            throw ConfigurationError(key: "mail.smtp_url", problem: "\"\(c.mail.smtpURL)\" is not smtp://[user@]host[:port]")
        }
        c.mail.smtpCAFile = try values.string("mail.smtp_ca_file") ?? c.mail.smtpCAFile
        c.mail.sendgridAPIBase = try values.string("mail.sendgrid_api_base") ?? c.mail.sendgridAPIBase
        guard let sendgrid = URL(string: c.mail.sendgridAPIBase), sendgrid.scheme == "https" || sendgrid.scheme == "http", sendgrid.host != nil
        else { throw ConfigurationError(key: "mail.sendgrid_api_base", problem: "\"\(c.mail.sendgridAPIBase)\" is not an http(s) URL") }
        c.api.previewURL = try values.string("api.preview_url") ?? c.api.previewURL
        if !c.api.previewURL.isEmpty {
            guard let url = URL(string: c.api.previewURL), url.scheme == "https" || url.scheme == "http", url.host != nil,
                url.path.isEmpty || url.path == "/"
            else { throw ConfigurationError(key: "api.preview_url", problem: "\"\(c.api.previewURL)\" is not an origin (scheme://host[:port])") }
            if c.api.previewURL.hasSuffix("/") { c.api.previewURL.removeLast() }
        }
        if let origins = try values.stringArray("api.cors_origins") {
            for origin in origins {
                guard let url = URL(string: origin), url.scheme == "https" || url.scheme == "http", url.host != nil, url.path.isEmpty
                else { throw ConfigurationError(key: "api.cors_origins", problem: "\"\(origin)\" is not an origin (scheme://host[:port])") }
            }
            c.api.corsOrigins = origins
        }
        c.api.sessionHours = try values.double("api.session_hours", in: 0.01...8760) ?? c.api.sessionHours
        c.api.maxBodyBytes = try values.int("api.max_body_bytes", in: 1024...1 << 30) ?? c.api.maxBodyBytes
        c.api.trustedProxies = try values.stringArray("api.trusted_proxies") ?? c.api.trustedProxies
        c.api.readTimeoutSeconds = try values.double("api.read_timeout_seconds", in: 0.1...3600) ?? c.api.readTimeoutSeconds
        c.api.maxConnections = try values.int("api.max_connections", in: 1...100_000) ?? c.api.maxConnections
        c.api.rateBurst = try values.int("api.rate_limit.burst", in: 1...1_000_000) ?? c.api.rateBurst
        c.api.ratePerMinute = try values.double("api.rate_limit.per_minute", in: 0.01...1_000_000) ?? c.api.ratePerMinute
        c.stripe.apiVersion = try values.string("stripe.api_version") ?? c.stripe.apiVersion
        c.payments.reconcileMinutes =
            try values.double("payments.reconcile_minutes", in: 0.01...10_080) ?? c.payments.reconcileMinutes
        c.payments.checkoutExpiryMinutes =
            try values.int("payments.checkout_expiry_minutes", in: 30...1440) ?? c.payments.checkoutExpiryMinutes
        for (key, value) in [("payments.success_url", try values.string("payments.success_url")),
                             ("payments.cancel_url", try values.string("payments.cancel_url"))] {
            guard let value, !value.isEmpty else { continue }
            guard let url = URL(string: value), url.scheme == "https" || url.scheme == "http", url.host != nil else {
                throw ConfigurationError(key: key, problem: "\"\(value)\" is not an http(s) URL")
            }
            if key == "payments.success_url" { c.payments.successURL = value } else { c.payments.cancelURL = value }
        }
        c.deploy.stuckMinutes = try values.double("deploy.stuck_minutes", in: 0.05...1440) ?? c.deploy.stuckMinutes
        for platform in ["vercel", "netlify", "render"] {
            if let minutes = try values.double("deploy.deadline_minutes.\(platform)", in: 0.1...10_080) {
                c.deploy.deadlineMinutes[platform] = minutes
            }
        }
        for (key, keyPath) in [("deploy.vercel.api_base", \DaemonConfiguration.DeployOptions.vercelAPIBase),
                               ("deploy.netlify.api_base", \.netlifyAPIBase), ("deploy.render.api_base", \.renderAPIBase)] {
            guard let value = try values.string(key) else { continue }
            guard let url = URL(string: value), url.scheme == "https" || url.scheme == "http", url.host != nil else {
                throw ConfigurationError(key: key, problem: "\"\(value)\" is not an http(s) URL")
            }
            c.deploy[keyPath: keyPath] = value
        }
        c.deploy.vercelTeamID = try values.string("deploy.vercel.team_id") ?? c.deploy.vercelTeamID
        c.deploy.netlifyAccountSlug = try values.string("deploy.netlify.account_slug") ?? c.deploy.netlifyAccountSlug
        c.deploy.renderOwnerID = try values.string("deploy.render.owner_id") ?? c.deploy.renderOwnerID
        c.github.apiBase = try values.string("github.api_base") ?? c.github.apiBase
        guard let githubURL = URL(string: c.github.apiBase), githubURL.scheme == "https" || githubURL.scheme == "http",
            githubURL.host != nil
        else { throw ConfigurationError(key: "github.api_base", problem: "\"\(c.github.apiBase)\" is not an http(s) URL") }
        c.github.owner = try values.string("github.owner") ?? c.github.owner
        c.stripe.apiBase = try values.string("stripe.api_base") ?? c.stripe.apiBase
        guard let url = URL(string: c.stripe.apiBase), url.scheme == "https" || url.scheme == "http", url.host != nil
        else {
            throw ConfigurationError(key: "stripe.api_base", problem: "\"\(c.stripe.apiBase)\" is not an http(s) URL")
        }
        return c
    }

    /// Typed reads with errors that name the key.
    struct Values {
        let reader: ConfigReader

        func string(_ key: String) throws -> String? {
            reader.string(forKey: ConfigKey(key))
        }

        func int(_ key: String, in range: ClosedRange<Int>) throws -> Int? {
            guard let text = try string(key) else { return nil }
            guard let value = Int(text.trimmingCharacters(in: .whitespaces)) else {
                throw ConfigurationError(key: key, problem: "\"\(text)\" is not an integer")
            }
            guard range.contains(value) else {
                throw ConfigurationError(key: key, problem: "\(value) is outside \(range.lowerBound)...\(range.upperBound)")
            }
            return value
        }

        func double(_ key: String, in range: ClosedRange<Double>) throws -> Double? {
            guard let text = try string(key) else { return nil }
            guard let value = Double(text.trimmingCharacters(in: .whitespaces)), value.isFinite else {
                throw ConfigurationError(key: key, problem: "\"\(text)\" is not a number")
            }
            guard range.contains(value) else {
                throw ConfigurationError(
                    key: key, problem: "\(value) is outside \(range.lowerBound)...\(range.upperBound)")
            }
            return value
        }

        func bool(_ key: String) throws -> Bool? {
            guard let text = try string(key) else { return nil }
            switch text.trimmingCharacters(in: .whitespaces).lowercased() {
            case "true", "yes", "on", "1": return true
            case "false", "no", "off", "0": return false
            default: throw ConfigurationError(key: key, problem: "\"\(text)\" is not true or false")
            }
        }

        func stringArray(_ key: String) throws -> [String]? {
            if let array = reader.stringArray(forKey: ConfigKey(key)) {
                return array.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            }
            return nil
        }
    }
}

/// `host:port` as written in `webhook.listen`.
struct HostPort: Equatable, Sendable {
    var host: String
    var port: Int

    static func parse(_ text: String, key: String) throws -> HostPort {
        guard let colon = text.lastIndex(of: ":") else {
            throw ConfigurationError(key: key, problem: "\"\(text)\" is not host:port")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            throw ConfigurationError(key: key, problem: "\"\(text)\" is not host:port with a port in 0...65535")
        }
        return HostPort(host: host, port: port)
    }
}
