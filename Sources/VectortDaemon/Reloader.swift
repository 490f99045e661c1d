import Foundation
import Logging
import Protocol

/// Re-reads configuration and credentials on SIGHUP or `Reload`, one reload at a time, and
/// applies what can change live. Brackets the work with RELOADING=1 … READY=1 for systemd.
actor Reloader {
    private var configuration: DaemonConfiguration
    private var secrets: Secrets
    private let loader: ConfigurationLoader
    private let credentialsDirectory: String?
    private let notifier: SystemdNotifier
    private let levels: LogLevelControl
    private let apply: @Sendable (DaemonConfiguration, Secrets) async -> Void
    private let status: @Sendable () -> String
    private let logger: Logger

    init(
        configuration: DaemonConfiguration, secrets: Secrets, loader: ConfigurationLoader,
        credentialsDirectory: String?, notifier: SystemdNotifier, levels: LogLevelControl,
        apply: @escaping @Sendable (DaemonConfiguration, Secrets) async -> Void, status: @escaping @Sendable () -> String,
        logger: Logger
    ) {
        self.configuration = configuration
        self.secrets = secrets
        self.loader = loader
        self.credentialsDirectory = credentialsDirectory
        self.notifier = notifier
        self.levels = levels
        self.apply = apply
        self.status = status
        self.logger = logger
    }

    var current: (DaemonConfiguration, Secrets) { (configuration, secrets) }

    func reload(reason: String) async throws -> ReloadResult {
        notifier.reloading(status: "reloading configuration")
        logger.info("reloading configuration", metadata: ["reason": "\(reason)"])
        let newConfiguration: DaemonConfiguration
        let newSecrets: Secrets
        do {
            newConfiguration = try await loader.load()
            newSecrets = try await Secrets.load(
                names: Secrets.names(for: newConfiguration), credentialsDirectory: credentialsDirectory,
                environment: loader.environment)
        } catch {
            let text = "\(error)"
            logger.error("reload failed; keeping the running configuration", metadata: ["error": "\(text)"])
            notifier.ready(status: "reload failed (\(text)); " + status())
            throw WireError(.conflict, "reload failed, the running configuration is kept: \(text)", ["reason": .string(text)])
        }
        let changedKeys = configuration.changedKeys(comparedTo: newConfiguration)
        let changedSecrets = secrets.changedNames(comparedTo: newSecrets)
        let needsRestart = changedKeys.filter { DaemonConfiguration.restartOnlyKeys.contains($0) }
        if !needsRestart.isEmpty {
            logger.warning(
                "some changed keys take effect only after a restart",
                metadata: ["keys": "\(needsRestart.joined(separator: ","))"])
        }
        configuration = newConfiguration
        secrets = newSecrets
        if let level = Logger.Level(rawValue: newConfiguration.log.level) { levels.level = level }
        await apply(newConfiguration, newSecrets)
        let changed = changedKeys + changedSecrets.map { "secret:\($0)" }
        logger.info("configuration reloaded", metadata: ["changed": "\(changed.joined(separator: ","))"])
        notifier.ready(status: status())
        return ReloadResult(changed: changed)
    }
}
