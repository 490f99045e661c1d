import Build
public import ArgumentParser
import Engine
import Foundation
import Glibc
import Logging
import NIOCore
import NIOPosix
import Protocol
import ServiceLifecycle
import UnixSignals
import Generation
import VectortCore

/// The daemon's command line; `vectortd`'s main runs it.
public struct VectortdCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "vectortd",
        abstract: "The vectortd engine daemon: serves the control socket and runs the engine.",
        discussion: """
            Configuration: --config FILE, else $CONFIGURATION_DIRECTORY/vectortd.yaml, else \
            /etc/vectortd/vectortd.yaml, else built-in defaults; VECTORTD_* environment variables override it. \
            Secrets come from $CREDENTIALS_DIRECTORY/<name> files or VECTORTD_<NAME> variables.
            """,
        version: vectortVersion)

    @Option(name: .long, help: "The YAML configuration file.")
    var config: String?

    @Flag(name: .long, help: "Validate the configuration, print it with secrets redacted, and exit (0 valid, 1 invalid).")
    var checkConfig = false

    @Option(name: .long, help: "Directory for the database (default: $STATE_DIRECTORY, /var/lib/vectortd as root, else ~/.local/state/vectortd).")
    var stateDirectory: String?

    @Option(name: .long, help: "Directory for runtime files and the socket (default: $RUNTIME_DIRECTORY, /run/vectortd as root, else $XDG_RUNTIME_DIR/vectortd).")
    var runtimeDirectory: String?

    @Option(name: .long, help: "Directory of secret files (default: $CREDENTIALS_DIRECTORY).")
    var credentialsDirectory: String?

    @Option(name: .long, help: "Control socket path when not socket-activated.")
    var socket: String?

    public init() {}

    /// Parses the process's arguments and runs the daemon: all of `vectortd`'s main.
    public static func start() async {
        await main()
    }

    public func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let notifier = SystemdNotifier()
        let loader = ConfigurationLoader.locate(explicit: config, environment: environment)
        let configuration: DaemonConfiguration
        let secrets: Secrets
        let paths: DaemonPaths
        do {
            configuration = try await loader.load()
            paths = DaemonPaths.resolve(
                flags: .init(
                    stateDirectory: stateDirectory, runtimeDirectory: runtimeDirectory,
                    credentialsDirectory: credentialsDirectory, socket: socket),
                configuredSocket: configuration.control.socket, environment: environment, isRoot: getuid() == 0,
                homeDirectory: NSHomeDirectory())
            secrets = try await Secrets.load(
                names: Secrets.names(for: configuration), credentialsDirectory: paths.credentialsDirectory,
                environment: environment)
        } catch {
            Self.fail("\(error)", notifier: notifier, errno: EINVAL, checking: checkConfig)
        }
        if configuration.build.enabled {
            do {
                _ = try SiteBuilder(settings: Daemon.buildSettings(configuration, paths: paths))
            } catch {
                Self.fail(error.description, notifier: notifier, errno: ENOENT, checking: checkConfig)
            }
        }
        if checkConfig {
            print(CheckConfigReport(configuration: configuration, secrets: secrets, paths: paths).text, terminator: "")
            return
        }

        let levels = LogLevelControl(Logger.Level(rawValue: configuration.log.level) ?? .info)
        let useJournal: Bool =
            switch configuration.log.target {
            case .journal: true
            case .stderr: false
            case .auto: LogDestination.stderrIsJournal(environment: environment)
            }
        LoggingSystem.bootstrap { label in
            useJournal
                ? JournaldLogHandler(label: label, levels: levels) as any LogHandler
                : StderrLogHandler(label: label, levels: levels)
        }
        let logger = Logger(label: "vectortd")

        let daemon = Daemon(
            configuration: configuration, secrets: secrets, paths: paths, loader: loader, levels: levels,
            notifier: notifier, logger: logger)
        do {
            try await daemon.run()
        } catch let error as ControlServer.StartError {
            logger.critical("cannot start", metadata: ["error": "\(error.description)"])
            Self.fail(error.description, notifier: notifier, errno: error.errno, checking: false)
        } catch {
            logger.critical("cannot start", metadata: ["error": "\(error)"])
            Self.fail("\(error)", notifier: notifier, errno: nil, checking: false)
        }
    }

    /// One clear line on stderr, STATUS=/ERRNO= to systemd, exit 1.
    static func fail(_ message: String, notifier: SystemdNotifier, errno code: Int32?, checking: Bool) -> Never {
        FileHandle.standardError.write(Data("vectortd: \(message)\n".utf8))
        if !checking { notifier.failed(status: "failed: \(message)", errno: code) }
        Foundation.exit(1)
    }
}

/// The text `--check-config` prints: paths, every key, and each secret as set or not (never its value).
struct CheckConfigReport {
    var configuration: DaemonConfiguration
    var secrets: Secrets
    var paths: DaemonPaths

    var text: String {
        var lines = ["# vectortd \(vectortVersion): configuration is valid", "# sources: \(configuration.sources.joined(separator: ", "))"]
        lines.append("paths.state_directory: \(paths.stateDirectory)")
        lines.append("paths.runtime_directory: \(paths.runtimeDirectory)")
        lines.append("paths.credentials_directory: \(paths.credentialsDirectory ?? "(none)")")
        lines.append("paths.socket: \(paths.socket)")
        lines.append("paths.database: \(paths.databasePath(configuration.database.path))")
        for (key, value) in configuration.flattened() { lines.append("\(key): \(value)") }
        for name in Secrets.names(for: configuration) {
            let entry = secrets.entries[name]
            lines.append("secrets.\(name): \(entry.map { "<redacted> (from \($0.source.rawValue))" } ?? "(not set)")")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
