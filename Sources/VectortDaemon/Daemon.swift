import AsyncHTTPClient
import Build
import Engine
import Auth
import VectortAPI
import Foundation
import Logging
import NIOCore
import NIOPosix
import Protocol
import ServiceLifecycle
import Synchronization
import UnixSignals
import Generation
import VectortCore
import Observability

/// Wires the daemon: database, control server, reload, watchdog and systemd notifications,
/// run as one ServiceGroup in dependency order (shutdown runs in reverse).
struct Daemon {
    var configuration: DaemonConfiguration
    var secrets: Secrets
    var paths: DaemonPaths
    var loader: ConfigurationLoader
    var levels: LogLevelControl
    var notifier: SystemdNotifier
    var logger: Logger

    func run() async throws {
        let startedAt = Date()
        let activation: SocketActivation
        do {
            activation = try SocketActivation.fromEnvironment()
        } catch {
            throw ControlServer.StartError(description: "\(error)", errno: EBADF)
        }
        if !activation.ignored.isEmpty {
            logger.warning("ignoring inherited sockets", metadata: ["names": "\(activation.ignored.joined(separator: ","))"])
        }
        try FileManager.default.createDirectory(
            atPath: paths.runtimeDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])

        let openFiles = OpenFileLimit.raiseToHard()
        let connectionRoom = OpenFileLimit.connections(allowedBy: openFiles)
        if let openFiles, let connectionRoom, configuration.control.maxConnections > connectionRoom {
            logger.warning(
                "control.max_connections is above what the open-files limit allows: serving fewer",
                metadata: [
                    "control.max_connections": "\(configuration.control.maxConnections)", "open_files.limit": "\(openFiles)",
                    "control.connections_served": "\(connectionRoom)",
                ])
        }

        let databasePath = paths.databasePath(configuration.database.path)
        let postgres = configuration.database.url.isEmpty ? nil : configuration.database.url
        notifier.status(postgres == nil ? "opening database \(databasePath)" : "connecting to PostgreSQL")
        let packages = try configuration.credits.packages.map { try CreditPackageSpec.parse($0, key: "credits.packages") }
        let observer = Observer(
            metrics: Telemetry(enabled: configuration.metrics.enabled), eventCapacity: configuration.events.buffer)
        let engine: Engine
        do {
            var options = Engine.Options(
                databasePath: databasePath, maxBatch: configuration.database.maxBatch, packages: packages,
                freeOnSignup: configuration.credits.freeOnSignup,
                versionLimits: VersionLimits(
                    maxFiles: configuration.projects.maxFiles, maxBytes: configuration.projects.maxVersionBytes),
                build: Self.buildSettings(configuration, paths: paths), observer: observer)
            options.databaseURL = postgres
            options.databasePassword = secrets["database-password"]?.value
            options.nodeID =
                configuration.node.id.isEmpty
                ? Engine.defaultNodeID(stateDirectory: paths.stateDirectory) : configuration.node.id
            options.nodeHeartbeat = .milliseconds(Int64(configuration.node.heartbeatSeconds * 1000))
            options.nodeTimeout = .milliseconds(Int64(configuration.node.timeoutSeconds * 1000))
            options.leaseDuration = .milliseconds(Int64(configuration.node.leaseSeconds * 1000))
            engine = try await Engine.connect(options, logger: logger)
        } catch let unavailable as SiteBuilder.Unavailable {
            throw ControlServer.StartError(description: unavailable.description, errno: ENOENT)
        } catch {
            let name = postgres == nil ? databasePath : "PostgreSQL"
            throw ControlServer.StartError(description: "cannot open the database \(name): \(error)", errno: EIO)
        }
        let writerTask = Task { await engine.run() }
        let fleet = ProviderFleet(logger: logger)
        let breakerLogger = logger
        let registry = ProviderRegistry(
            providers: fleet.providers(configuration, secrets), chain: fleet.chain(configuration, secrets),
            onTransition: {
                Self.log($0, breakerLogger)
                Self.observe($0, observer)
            })
        // Every configured provider's breaker starts closed: a series from the first scrape.
        for entry in configuration.providers { observer.metrics.record(Metric.providerBreakerState, [entry.name], 0) }
        let generationSettings = Locked(Self.generationSettings(configuration))
        let retentionDays = Locked(configuration.idempotency.retentionDays)
        let pipeline = GenerationPipeline(
            store: engine.generations, chain: FallbackChain(registry: registry),
            settings: { generationSettings.value }, builder: engine.versions.builder, observer: observer, logger: logger)

        // Holds still open belong to calls that died with the previous process.
        notifier.status("releasing credit holds left by the previous run")
        let recovery = try await engine.recover()
        if recovery.interruptedGenerations > 0 {
            logger.notice(
                "generations interrupted by the previous run recorded as failed",
                metadata: ["generations.interrupted": "\(recovery.interruptedGenerations)"])
        }
        if recovery.releasedHolds > 0 || recovery.expiredBuckets > 0 {
            logger.notice(
                "credit holds released and monthly credits expired at start",
                metadata: [
                    "credits.released_holds": "\(recovery.releasedHolds)",
                    "credits.expired_buckets": "\(recovery.expiredBuckets)",
                ])
        }

        let group = MultiThreadedEventLoopGroup.singleton
        let controlLoop = group.next()
        let controlPath = activation.control.flatMap(ControlServer.socketPath(of:)) ?? paths.socket

        let stripeHTTP = HTTPClient(
            eventLoopGroup: MultiThreadedEventLoopGroup.singleton,
            configuration: HTTPClient.Configuration(timeout: .init(connect: .seconds(5), read: .seconds(20))))
        let paymentSettings = Locked(Self.paymentSettings(configuration, secrets, packages: packages))
        let payments = engine.payments(http: stripeHTTP, settings: { paymentSettings.value }, logger: logger)
        let webhookAddress = Locked<String?>(nil)
        let metricsAddress = Locked<String?>(nil)
        let apiAddress = Locked<String?>(nil)
        let previewAddress = Locked<String?>(nil)
        let sessionKeys = Locked<SessionKeys?>(await SessionKeys.make(credential: secrets["jwt-secret"]?.value ?? ""))
        let githubSettings = Locked(Self.githubSettings(configuration, secrets))
        let deploySettings = Locked(Self.deploySettings(configuration, secrets))
        let keyring = Locked(secrets.dataKeyring)
        let accounts = engine.accounts(
            http: stripeHTTP, keyring: { keyring.value },
            bases: {
                let deploy = deploySettings.value
                return [
                    "github": githubSettings.value.apiBase, "vercel": deploy.vercel.apiBase, "netlify": deploy.netlify.apiBase,
                    "render": deploy.render.apiBase,
                ]
            }, logger: logger)
        let github = GitHubExporter(
            projects: engine.projects, versions: engine.versions, http: stripeHTTP, settings: { githubSettings.value },
            accounts: accounts)
        let deployments = engine.deployments(
            http: stripeHTTP, settings: { deploySettings.value }, logger: logger, github: github, accounts: accounts)
        // Tokens sealed under a key that is no longer the first are sealed again under it.
        do { _ = try await accounts.reencrypt() } catch {
            logger.error("connected account tokens could not be re-encrypted", metadata: ["error": "\(error)"])
        }

        let stateBox = StateBox()
        let health = HealthMonitor(
            engine: engine, controlLoop: controlLoop,
            sinceLastAcceptFailure: { stateBox.state?.sinceLastAcceptFailure })
        let reloader = Reloader(
            configuration: configuration, secrets: secrets, loader: loader,
            credentialsDirectory: paths.credentialsDirectory, notifier: notifier, levels: levels,
            apply: { newConfiguration, newSecrets in
                stateBox.state?.settings = Self.controlSettings(newConfiguration, connectionRoom: connectionRoom)
                generationSettings.value = Self.generationSettings(newConfiguration)
                retentionDays.value = newConfiguration.idempotency.retentionDays
                paymentSettings.value = Self.paymentSettings(newConfiguration, newSecrets, packages: packages)
                githubSettings.value = Self.githubSettings(newConfiguration, newSecrets)
                deploySettings.value = Self.deploySettings(newConfiguration, newSecrets)
                keyring.value = newSecrets.dataKeyring
                sessionKeys.value = await SessionKeys.make(credential: newSecrets["jwt-secret"]?.value ?? "")
                do { _ = try await accounts.reencrypt() } catch {
                    logger.error("connected account tokens could not be re-encrypted", metadata: ["error": "\(error)"])
                }
                await registry.configure(
                    providers: fleet.providers(newConfiguration, newSecrets), chain: fleet.chain(newConfiguration, newSecrets))
            },
            status: {
                Self.status(
                    controlPath: controlPath, connections: stateBox.state?.connectionCount ?? 0,
                    deployments: deployments.inFlightCount)
            },
            logger: logger)

        var methods = MethodTable()
        let describeBox = DescribeBox()
        ServiceMethods.register(
            into: &methods,
            identity: DaemonIdentity(
                version: vectortVersion, startedAt: startedAt, controlSocket: controlPath,
                webhook: { webhookAddress.value }, api: { apiAddress.value }, preview: { previewAddress.value },
                metrics: { metricsAddress.value },
                builds: engine.versions.builder.map {
                    ServiceInfo.Builds(enabled: $0.settings.enabled, esbuild: $0.settings.enabled ? $0.esbuildExecutable : nil)
                },
                payments: {
                    let settings = paymentSettings.value
                    return ServiceInfo.Payments(enabled: settings.configured, webhookSecrets: settings.webhookSecrets.count)
                },
                maxMessageBytes: {
                    stateBox.state?.settings.maxMessageBytes ?? configuration.control.maxMessageBytes
                },
                storage: { engine.storageDescription() }),
            health: health, reloader: reloader, describe: { describeBox.descriptors },
            interfaces: { describeBox.interfaces })
        AccountMethods.register(
            into: &methods, users: engine.users, projects: engine.projects, versions: engine.versions,
            exporter: engine.exporter, diffLimit: configuration.projects.diffMaxBytes)
        ConnectedAccountMethods.register(into: &methods, accounts: accounts)
        CreditMethods.register(into: &methods, ledger: engine.ledger)
        GenerationMethods.register(
            into: &methods, pipeline: pipeline, store: engine.generations, registry: registry, engine: engine)
        PaymentMethods.register(into: &methods, payments: payments)
        ExportMethods.register(into: &methods, github: github)
        DeploymentMethods.register(into: &methods, deployments: deployments)
        ObservabilityMethods.register(
            into: &methods, observer: observer, store: engine.generations, deployments: { try await deployments.snapshot() })
        describeBox.descriptors = methods.descriptors
        describeBox.interfaces = methods.interfaces

        let state = ControlServerState(
            methods: methods, settings: Self.controlSettings(configuration, connectionRoom: connectionRoom), logger: logger,
            metrics: observer.metrics, beforeCancellingCalls: { pipeline.beginShutdown() })
        stateBox.state = state
        let signals = await UnixSignalsSequence(trapping: .sighup)
        let server = try await ControlServer.start(
            group: group, inheritedFD: activation.control, path: controlPath, state: state,
            graceSeconds: configuration.shutdown.graceSeconds, logger: logger)

        // The writer started early (start-up sweeps); the service takes it over for shutdown.
        var services: [any Service] = [
            LedgerWriterService(engine: engine, startedTask: writerTask),
            CreditMaintenanceService(
                ledger: engine.ledger, holdMaxAge: configuration.credits.holdMaxAgeSeconds,
                retentionDays: { retentionDays.value }, interval: .seconds(60), logger: logger),
            server,
            ReloadSignalService(signals: signals, reloader: reloader, logger: logger),
        ]
        // The webhook and the API on one address: one listener serves both.
        let sharedListener = !configuration.api.listen.isEmpty && configuration.api.listen == configuration.webhook.listen
            && !configuration.api.listen.hasSuffix(":0")
        if !configuration.webhook.listen.isEmpty && !sharedListener {
            let address = try HostPort.parse(configuration.webhook.listen, key: "webhook.listen")
            services.append(
                WebhookServer(
                    settings: WebhookServer.Settings(
                        host: address.host, port: address.port, path: configuration.webhook.path,
                        maxBodyBytes: configuration.webhook.maxBodyBytes,
                        readTimeoutSeconds: configuration.webhook.readTimeoutSeconds,
                        maxConnections: configuration.webhook.maxConnections),
                    payments: payments, ping: { try await engine.ping() }, bound: { webhookAddress.value = $0 },
                    logger: logger))
        }
        if !configuration.api.listen.isEmpty {
            let address = try HostPort.parse(configuration.api.listen, key: "api.listen")
            let api = configuration.api
            services.append(
                APIServer(
                    settings: APIServer.Settings(
                        host: address.host, port: address.port, maxBodyBytes: api.maxBodyBytes,
                        readTimeoutSeconds: api.readTimeoutSeconds, maxConnections: api.maxConnections,
                        corsOrigins: api.corsOrigins, trustedProxies: api.trustedProxies, sessionHours: api.sessionHours,
                        rateBurst: api.rateBurst, ratePerMinute: api.ratePerMinute, frontendURL: api.frontendURL),
                    services: APIServices(
                        users: engine.users, projects: engine.projects, versions: engine.versions, ledger: engine.ledger,
                        pipeline: pipeline, payments: payments, deployments: deployments, github: github, zip: engine.exporter,
                        generations: engine.generations, accounts: accounts, diffLimit: configuration.projects.diffMaxBytes,
                        ping: { try await engine.ping() }),
                    sessions: { sessionKeys.value },
                    previewBase: {
                        if !api.previewURL.isEmpty { return api.previewURL }
                        return previewAddress.value.map { "http://" + $0 }
                    }, mailer: try Self.mailer(configuration, secrets, http: stripeHTTP),
                    oauth: Self.oauthSettings(configuration, secrets), http: stripeHTTP,
                    webhook: sharedListener
                        ? WebhookRoute(
                            path: configuration.webhook.path, maxBodyBytes: configuration.webhook.maxBodyBytes,
                            handle: { body, signature in
                                let answer = await payments.webhook(body: body, signature: signature)
                                return (answer.status, answer.text)
                            }) : nil,
                    metrics: observer.metrics, servesMetrics: configuration.metrics.listen == "api" && configuration.metrics.enabled,
                    bound: { address in
                        apiAddress.value = address
                        if sharedListener { webhookAddress.value = address }
                        if configuration.metrics.listen == "api" && configuration.metrics.enabled { metricsAddress.value = address }
                    },
                    logger: logger))
        }
        if !configuration.api.previewListen.isEmpty {
            let address = try HostPort.parse(configuration.api.previewListen, key: "api.preview_listen")
            services.append(
                PreviewServer(
                    settings: PreviewServer.Settings(
                        host: address.host, port: address.port,
                        cdnBase: configuration.build.externalPackages == "cdn" ? configuration.build.cdnBase : nil,
                        maxConnections: configuration.api.maxConnections, readTimeoutSeconds: configuration.api.readTimeoutSeconds),
                    projects: engine.projects, versions: engine.versions, bound: { previewAddress.value = $0 }, logger: logger))
        }
        if configuration.metrics.enabled, !configuration.metrics.listen.isEmpty, configuration.metrics.listen != "api" {
            let address = try HostPort.parse(configuration.metrics.listen, key: "metrics.listen")
            services.append(
                MetricsServer(
                    host: address.host, port: address.port, metrics: observer.metrics, bound: { metricsAddress.value = $0 },
                    logger: logger))
        }
        services.append(DeployPollerService(deployments: deployments))
        services.append(
            ProviderPublisher(
                engine: engine, registry: registry,
                interval: .milliseconds(Int64(configuration.node.heartbeatSeconds * 1000)), logger: logger))
        let reconcileMinutes = Locked(configuration.payments.reconcileMinutes)
        services.append(
            ReconcilerService(
                payments: payments, interval: { .milliseconds(Int64(reconcileMinutes.value * 60_000)) }, logger: logger))
        if let interval = notifier.watchdogInterval() {
            logger.info("watchdog enabled", metadata: ["watchdog.interval": "\(interval)"])
            services.append(
                WatchdogService(
                    interval: interval, check: { await health.check(timeout: $0) }, ping: { notifier.watchdogPing() },
                    logger: logger))
        }
        services.append(
            NotifierService(
                notifier: notifier,
                status: {
                    Self.status(controlPath: controlPath, connections: state.connectionCount, deployments: deployments.inFlightCount)
                },
                onReady: { server.startAccepting() }, logger: logger))
        // Last in, first to hear of the shutdown: event streams end before the control server drains.
        services.append(EventBusService(events: observer.events))

        var groupConfiguration = ServiceGroupConfiguration(
            services: services.map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger)
        groupConfiguration.maximumGracefulShutdownDuration = .milliseconds(
            Int64((configuration.shutdown.graceSeconds + ControlServer.cancellationSeconds + 3) * 1000))
        groupConfiguration.maximumCancellationDuration = .seconds(5)
        do {
            try await ServiceGroup(configuration: groupConfiguration).run()
        } catch {
            await fleet.shutdown()
            try? await stripeHTTP.shutdown()
            throw error
        }
        await fleet.shutdown()
        try? await stripeHTTP.shutdown()
        logger.info("stopped")
    }

    /// `connectionRoom`: the connections the open-files limit leaves room for.
    static func controlSettings(_ configuration: DaemonConfiguration, connectionRoom: Int? = nil) -> ControlSettings {
        ControlSettings(
            roles: RoleResolver(
                adminGroup: configuration.control.adminGroup, clientGroup: configuration.control.clientGroup),
            maxConnections: min(configuration.control.maxConnections, connectionRoom ?? .max),
            maxPipelinedCalls: configuration.control.maxPipelinedCalls,
            maxMessageBytes: configuration.control.maxMessageBytes,
            maxUnsentReplyBytes: configuration.control.maxUnsentReplyBytes,
            idleTimeout: .milliseconds(Int64((configuration.control.idleTimeoutSeconds * 1000).rounded())),
            frameTimeout: .milliseconds(Int64((configuration.control.frameTimeoutSeconds * 1000).rounded())),
            maxPartialFrameBytes: configuration.control.maxPartialFrameBytes)
    }

    /// How versions are built; the scratch directory is private to the daemon's cache or state.
    static func buildSettings(_ configuration: DaemonConfiguration, paths: DaemonPaths) -> BuildSettings {
        var settings = BuildSettings()
        settings.enabled = configuration.build.enabled
        settings.esbuildPath = configuration.build.esbuildPath
        settings.nodePaths = configuration.build.nodePaths
        settings.timeout = .milliseconds(Int64((configuration.build.timeoutSeconds * 1000).rounded()))
        settings.maxOutputBytes = configuration.build.maxOutputBytes
        settings.externalPackages = BuildSettings.ExternalPackages(rawValue: configuration.build.externalPackages) ?? .error
        settings.cdnBase = configuration.build.cdnBase
        settings.maxConcurrent = configuration.build.maxConcurrent
        settings.renderCheck = configuration.build.renderCheck
        settings.renderSeconds = configuration.build.renderSeconds
        // The unit's cache directory when there is one (private, writable under ProtectSystem=),
        // else beside the database.
        if let cache = ProcessInfo.processInfo.environment["CACHE_DIRECTORY"]?.split(separator: ":").first {
            settings.scratchDirectory = String(cache) + "/build"
        } else {
            settings.scratchDirectory = paths.databasePath("build-scratch")
        }
        return settings
    }

    static func generationSettings(_ configuration: DaemonConfiguration) -> GenerationSettings {
        func duration(_ seconds: Double) -> Duration { .milliseconds(Int64((seconds * 1000).rounded())) }
        return GenerationSettings(
            priceQuick: configuration.credits.priceQuick, priceAdvanced: configuration.credits.priceAdvanced,
            deadlineQuick: duration(configuration.generation.deadlineQuickSeconds),
            deadlineAdvanced: duration(configuration.generation.deadlineAdvancedSeconds),
            maxContinuations: configuration.generation.maxContinuations,
            maxOutputTokens: configuration.generation.maxOutputTokens,
            maxPromptBytes: configuration.generation.maxPromptBytes,
            limits: VersionLimits(
                maxFiles: configuration.projects.maxFiles, maxBytes: configuration.projects.maxVersionBytes),
            contextMaxBytes: configuration.generation.contextMaxBytes,
            historyTurns: configuration.generation.historyTurns,
            maxConcurrentPerUser: configuration.generation.maxConcurrentPerUser)
    }

    /// Stripe's settings: the key and webhook secrets from credentials (a secret of several
    /// lines is a rotation: every line is accepted).
    static func paymentSettings(_ configuration: DaemonConfiguration, _ secrets: Secrets, packages: [CreditPackage])
        -> PaymentSettings
    {
        PaymentSettings(
            apiBase: configuration.stripe.apiBase, apiVersion: configuration.stripe.apiVersion,
            secretKey: secrets["stripe-secret-key"]?.value,
            webhookSecrets: (secrets["stripe-webhook-secret"]?.value ?? "").split(whereSeparator: \.isNewline)
                .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty },
            toleranceSeconds: configuration.webhook.toleranceSeconds,
            checkoutExpiryMinutes: configuration.payments.checkoutExpiryMinutes,
            successURL: configuration.payments.successURL, cancelURL: configuration.payments.cancelURL, packages: packages)
    }

    static func deploySettings(_ configuration: DaemonConfiguration, _ secrets: Secrets) -> DeploySettings {
        let deploy = configuration.deploy
        return DeploySettings(
            stuckMinutes: deploy.stuckMinutes,
            vercel: .init(
                apiBase: deploy.vercelAPIBase, token: secrets["vercel-token"]?.value, team: deploy.vercelTeamID,
                deadlineMinutes: deploy.deadlineMinutes["vercel"] ?? 50),
            netlify: .init(
                apiBase: deploy.netlifyAPIBase, token: secrets["netlify-token"]?.value, team: deploy.netlifyAccountSlug,
                deadlineMinutes: deploy.deadlineMinutes["netlify"] ?? 20),
            render: .init(
                apiBase: deploy.renderAPIBase, token: secrets["render-api-key"]?.value, team: deploy.renderOwnerID,
                deadlineMinutes: deploy.deadlineMinutes["render"] ?? 60))
    }

    /// The configured OAuth clients, or nil when there are none.
    static func oauthSettings(_ configuration: DaemonConfiguration, _ secrets: Secrets) -> OAuthSettings? {
        let oauth = configuration.oauth
        var providers: [String: OAuthSettings.Provider] = [:]
        if !oauth.google.clientID.isEmpty {
            let issuer = oauth.google.issuer
            providers["google"] = OAuthSettings.Provider(
                clientID: oauth.google.clientID, clientSecret: secrets["google-client-secret"]?.value, authURL: oauth.google.authURL,
                tokenURL: oauth.google.tokenURL, jwksURL: oauth.google.jwksURL,
                // Google's tokens name either form of its issuer.
                issuers: issuer == "https://accounts.google.com" ? [issuer, "accounts.google.com"] : [issuer])
        }
        if !oauth.github.clientID.isEmpty {
            providers["github"] = OAuthSettings.Provider(
                clientID: oauth.github.clientID, clientSecret: secrets["github-client-secret"]?.value, authURL: oauth.github.authURL,
                tokenURL: oauth.github.tokenURL, apiBase: oauth.github.apiBase)
        }
        if !oauth.apple.clientID.isEmpty {
            providers["apple"] = OAuthSettings.Provider(
                clientID: oauth.apple.clientID, clientSecret: nil, authURL: oauth.apple.authURL, tokenURL: oauth.apple.tokenURL,
                jwksURL: oauth.apple.jwksURL, issuers: [oauth.apple.issuer], teamID: oauth.apple.teamID, keyID: oauth.apple.keyID,
                privateKeyPEM: secrets["apple-private-key"]?.value)
        }
        return providers.isEmpty ? nil : OAuthSettings(providers: providers, publicURL: configuration.api.publicURL)
    }

    /// The mail sender, or nil when `mail.from` is empty.
    static func mailer(_ configuration: DaemonConfiguration, _ secrets: Secrets, http: HTTPClient) throws -> (any Mailer)? {
        let mail = configuration.mail
        guard !mail.from.isEmpty else { return nil }
        if mail.transport == "sendgrid" {
            guard let key = secrets["sendgrid-api-key"]?.value else {
                throw ControlServer.StartError(description: "mail.transport is sendgrid but the sendgrid-api-key credential is missing", errno: EINVAL)
            }
            return SendGridMailer(http: http, apiBase: mail.sendgridAPIBase, apiKey: key, from: mail.from)
        }
        do {
            return try SMTPMailer(
                url: mail.smtpURL, password: secrets["smtp-password"]?.value, from: mail.from,
                caFile: mail.smtpCAFile.isEmpty ? nil : mail.smtpCAFile)
        } catch {
            throw ControlServer.StartError(description: "\(error)", errno: EINVAL)
        }
    }

    static func githubSettings(_ configuration: DaemonConfiguration, _ secrets: Secrets) -> GitHubSettings {
        GitHubSettings(
            apiBase: configuration.github.apiBase, owner: configuration.github.owner, token: secrets["github-token"]?.value)
    }

    /// Breaker transitions are journal events with their own fields.
    static func log(_ event: ProviderRegistry.TransitionEvent, _ logger: Logger) {
        var metadata: Logger.Metadata = ["provider": "\(event.provider)"]
        if let until = event.wallUntil {
            metadata["breaker.open_until"] = "\(until.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: false)))"
        }
        switch event.transition {
        case .opened(_, let reason):
            metadata["breaker.state"] = "open"
            metadata["breaker.reason"] = "\(reason)"
            logger.warning("provider circuit breaker opened", metadata: metadata)
        case .extended:
            metadata["breaker.state"] = "open"
            logger.notice("provider circuit breaker stays open longer: the provider asked to wait", metadata: metadata)
        case .reopened:
            metadata["breaker.state"] = "open"
            logger.warning("provider circuit breaker re-opened after a failed probe", metadata: metadata)
        case .halfOpened:
            metadata["breaker.state"] = "half_open"
            logger.notice("provider circuit breaker half-open: probing", metadata: metadata)
        case .closed:
            metadata["breaker.state"] = "closed"
            logger.notice("provider circuit breaker closed", metadata: metadata)
        }
    }

    /// Breaker transitions as the breaker-state gauge and a `provider.breaker` event.
    static func observe(_ event: ProviderRegistry.TransitionEvent, _ observer: Observer) {
        let state: String
        switch event.transition {
        case .opened, .extended, .reopened: state = "open"
        case .halfOpened: state = "half_open"
        case .closed: state = "closed"
        }
        observer.metrics.record(
            Metric.providerBreakerState, [event.provider], state == "open" ? 2 : state == "half_open" ? 1 : 0)
        if case .extended = event.transition {} else {
            observer.metrics.increment(Metric.providerBreakerTransitions, [event.provider, state])
        }
        var fields: [String: JSONValue] = ["provider": .string(event.provider), "state": .string(state)]
        if let until = event.wallUntil { fields["open_until"] = .string(Timestamps.string(until)) }
        if case .opened(_, let reason) = event.transition { fields["reason"] = .string("\(reason)") }
        observer.events.publish("provider.breaker", fields)
    }

    static func status(controlPath: String, connections: Int, deployments: Int = 0) -> String {
        "serving on \(controlPath); \(connections) connection\(connections == 1 ? "" : "s")"
            + (deployments > 0 ? "; \(deployments) deployment\(deployments == 1 ? "" : "s") in flight" : "")
    }
}

/// Late-bound references that close a construction cycle (the method table describes itself;
/// reload updates the server state built after it). Written once during start-up.
final class StateBox: @unchecked Sendable {
    var state: ControlServerState?
}

final class DescribeBox: @unchecked Sendable {
    var descriptors: [MethodDescriptor] = []
    var interfaces: [String] = []
}
