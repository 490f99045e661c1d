import Foundation

extension DaemonConfiguration {
    /// Every effective key with its value, in documentation order. Used by `--check-config`
    /// and to compute what a reload changed.
    func flattened() -> [(key: String, value: String)] {
        let seconds = Self.secondsText
        let lines: [(key: String, value: String)] = [
            ("control.socket", control.socket ?? "(default)"),
            ("control.admin_group", control.adminGroup),
            ("control.client_group", control.clientGroup),
            ("control.max_message_bytes", String(control.maxMessageBytes)),
            ("control.max_connections", String(control.maxConnections)),
            ("control.max_pipelined_calls", String(control.maxPipelinedCalls)),
            ("control.max_unsent_reply_bytes", String(control.maxUnsentReplyBytes)),
            ("control.max_partial_frame_bytes", String(control.maxPartialFrameBytes)),
            ("control.idle_timeout_seconds", seconds(control.idleTimeoutSeconds)),
            ("control.frame_timeout_seconds", seconds(control.frameTimeoutSeconds)),
            ("database.path", database.path),
            ("database.max_batch", String(database.maxBatch)),
            ("projects.max_files", String(projects.maxFiles)),
            ("projects.max_version_bytes", String(projects.maxVersionBytes)),
            ("projects.diff_max_bytes", String(projects.diffMaxBytes)),
            ("shutdown.grace_seconds", seconds(shutdown.graceSeconds)),
            ("build.enabled", String(build.enabled)),
            ("build.esbuild_path", build.esbuildPath),
            ("build.node_paths", "[" + build.nodePaths.joined(separator: ", ") + "]"),
            ("build.timeout_seconds", seconds(build.timeoutSeconds)),
            ("build.max_output_bytes", String(build.maxOutputBytes)),
            ("build.external_packages", build.externalPackages),
            ("build.cdn_base", build.cdnBase),
            ("build.max_concurrent", String(build.maxConcurrent)),
            ("build.render_check", String(build.renderCheck)),
            ("build.render_seconds", seconds(build.renderSeconds)),
            ("log.level", log.level),
            ("log.target", log.target.rawValue),
            ("credits.free_on_signup", String(credits.freeOnSignup)),
            ("credits.prices.quick", String(credits.priceQuick)),
            ("credits.prices.advanced", String(credits.priceAdvanced)),
            ("credits.hold_max_age_seconds", seconds(credits.holdMaxAgeSeconds)),
            ("credits.packages", "[" + credits.packages.joined(separator: ", ") + "]"),
            ("generation.chain", generation.chain.map { "[" + $0.joined(separator: ", ") + "]" } ?? "(providers with keys, then template)"),
            ("generation.deadline_seconds.quick", seconds(generation.deadlineQuickSeconds)),
            ("generation.deadline_seconds.advanced", seconds(generation.deadlineAdvancedSeconds)),
            ("generation.max_continuations", String(generation.maxContinuations)),
            ("generation.max_output_tokens", String(generation.maxOutputTokens)),
            ("generation.max_prompt_bytes", String(generation.maxPromptBytes)),
            ("generation.context_max_bytes", String(generation.contextMaxBytes)),
            ("generation.history_turns", String(generation.historyTurns)),
            ("generation.max_concurrent_per_user", generation.maxConcurrentPerUser == 0 ? "0 (no limit)" : String(generation.maxConcurrentPerUser)),
            ("webhook.listen", webhook.listen.isEmpty ? "(disabled)" : webhook.listen),
            ("webhook.path", webhook.path),
            ("webhook.tolerance_seconds", seconds(webhook.toleranceSeconds)),
            ("webhook.max_body_bytes", String(webhook.maxBodyBytes)),
            ("webhook.read_timeout_seconds", seconds(webhook.readTimeoutSeconds)),
            ("webhook.max_connections", String(webhook.maxConnections)),
            ("api.listen", api.listen.isEmpty ? "(disabled)" : api.listen),
            ("api.preview_listen", api.previewListen.isEmpty ? "(disabled)" : api.previewListen),
            ("api.preview_url", api.previewURL.isEmpty ? "(http:// + api.preview_listen)" : api.previewURL),
            ("api.frontend_url", api.frontendURL),
            ("api.public_url", api.publicURL.isEmpty ? "(none)" : api.publicURL),
            ("oauth.google.client_id", oauth.google.clientID.isEmpty ? "(off)" : oauth.google.clientID),
            ("oauth.google.auth_url", oauth.google.authURL),
            ("oauth.google.token_url", oauth.google.tokenURL),
            ("oauth.google.jwks_url", oauth.google.jwksURL),
            ("oauth.google.issuer", oauth.google.issuer),
            ("oauth.github.client_id", oauth.github.clientID.isEmpty ? "(off)" : oauth.github.clientID),
            ("oauth.github.auth_url", oauth.github.authURL),
            ("oauth.github.token_url", oauth.github.tokenURL),
            ("oauth.github.api_base", oauth.github.apiBase),
            ("oauth.apple.client_id", oauth.apple.clientID.isEmpty ? "(off)" : oauth.apple.clientID),
            ("oauth.apple.team_id", oauth.apple.teamID),
            ("oauth.apple.key_id", oauth.apple.keyID),
            ("oauth.apple.auth_url", oauth.apple.authURL),
            ("oauth.apple.token_url", oauth.apple.tokenURL),
            ("oauth.apple.jwks_url", oauth.apple.jwksURL),
            ("oauth.apple.issuer", oauth.apple.issuer),
            ("mail.from", mail.from.isEmpty ? "(mail off)" : mail.from),
            ("mail.transport", mail.transport),
            ("mail.smtp_url", mail.smtpURL),
            ("mail.smtp_ca_file", mail.smtpCAFile.isEmpty ? "(system roots)" : mail.smtpCAFile),
            ("mail.sendgrid_api_base", mail.sendgridAPIBase),
            ("api.cors_origins", "[" + api.corsOrigins.joined(separator: ", ") + "]"),
            ("api.session_hours", seconds(api.sessionHours)),
            ("api.max_body_bytes", String(api.maxBodyBytes)),
            ("api.trusted_proxies", "[" + api.trustedProxies.joined(separator: ", ") + "]"),
            ("api.read_timeout_seconds", seconds(api.readTimeoutSeconds)),
            ("api.max_connections", String(api.maxConnections)),
            ("api.rate_limit.burst", String(api.rateBurst)),
            ("api.rate_limit.per_minute", seconds(api.ratePerMinute)),
            ("stripe.api_base", stripe.apiBase),
            ("stripe.api_version", stripe.apiVersion),
            ("deploy.stuck_minutes", seconds(deploy.stuckMinutes)),
            ("deploy.deadline_minutes.vercel", seconds(deploy.deadlineMinutes["vercel"] ?? 50)),
            ("deploy.deadline_minutes.netlify", seconds(deploy.deadlineMinutes["netlify"] ?? 20)),
            ("deploy.deadline_minutes.render", seconds(deploy.deadlineMinutes["render"] ?? 60)),
            ("deploy.vercel.api_base", deploy.vercelAPIBase),
            ("deploy.vercel.team_id", deploy.vercelTeamID.isEmpty ? "(personal account)" : deploy.vercelTeamID),
            ("deploy.netlify.api_base", deploy.netlifyAPIBase),
            ("deploy.netlify.account_slug", deploy.netlifyAccountSlug.isEmpty ? "(personal account)" : deploy.netlifyAccountSlug),
            ("deploy.render.api_base", deploy.renderAPIBase),
            ("deploy.render.owner_id", deploy.renderOwnerID.isEmpty ? "(none)" : deploy.renderOwnerID),
            ("github.api_base", github.apiBase),
            ("github.owner", github.owner.isEmpty ? "(the token's user)" : github.owner),
            ("payments.reconcile_minutes", seconds(payments.reconcileMinutes)),
            ("payments.checkout_expiry_minutes", String(payments.checkoutExpiryMinutes)),
            ("payments.success_url", payments.successURL ?? "(none)"),
            ("payments.cancel_url", payments.cancelURL ?? "(payments.success_url)"),
        ]
        return lines + providers.flatMap { $0.flattened() }
    }

    /// Seconds as written in configuration: `30`, `0.25`.
    static func secondsText(_ value: Double) -> String {
        value.rounded() == value ? String(Int(value)) : String(value)
    }

    /// Keys whose effective value differs between two configurations.
    func changedKeys(comparedTo other: DaemonConfiguration) -> [String] {
        let mine = Dictionary(uniqueKeysWithValues: flattened().map { ($0.key, $0.value) })
        return other.flattened().filter { mine[$0.key] != $0.value }.map(\.key)
    }

    /// Keys that only take effect after a restart.
    static let restartOnlyKeys: Set<String> = [
        "control.socket", "database.path", "database.max_batch", "log.target", "shutdown.grace_seconds",
        "webhook.listen", "webhook.path", "webhook.max_connections", "webhook.read_timeout_seconds",
        "mail.smtp_ca_file", "api.frontend_url", "api.public_url", "oauth.google.client_id", "oauth.google.auth_url", "oauth.google.token_url",
        "oauth.google.jwks_url", "oauth.google.issuer", "oauth.github.client_id", "oauth.github.auth_url",
        "oauth.github.token_url", "oauth.github.api_base", "oauth.apple.client_id", "oauth.apple.team_id", "oauth.apple.key_id",
        "oauth.apple.auth_url", "oauth.apple.token_url", "oauth.apple.jwks_url", "oauth.apple.issuer", "mail.from", "mail.transport", "mail.smtp_url", "mail.sendgrid_api_base",
        "api.listen", "api.preview_listen", "api.preview_url", "api.cors_origins", "api.max_body_bytes", "api.trusted_proxies", "api.read_timeout_seconds",
        "api.max_connections", "api.rate_limit.burst", "api.rate_limit.per_minute", "api.session_hours",
        "payments.reconcile_minutes",
        "credits.free_on_signup", "credits.packages", "credits.hold_max_age_seconds",
        "projects.max_files", "projects.max_version_bytes",
    ]
}
