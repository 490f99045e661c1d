import Logging
import ServiceLifecycle
import UnixSignals

/// The last service of the group: READY=1 when it starts (everything before it serves),
/// STOPPING=1 as soon as shutdown begins (it is the first to be told).
struct NotifierService: Service {
    let notifier: SystemdNotifier
    let status: @Sendable () -> String
    let onReady: @Sendable () -> Void
    let logger: Logger

    func run() async throws {
        notifier.ready(status: status())
        onReady()
        logger.info("ready", metadata: ["status": "\(status())"])
        try? await gracefulShutdown()
        notifier.stopping(status: "stopping: finishing calls in flight")
        logger.info("stopping")
    }
}

/// Turns SIGHUP into a reload. The signal sequence is created before READY=1 is sent, so a
/// SIGHUP can never hit the default action (which would kill the daemon).
struct ReloadSignalService: Service {
    let signals: UnixSignalsSequence
    let reloader: Reloader
    let logger: Logger

    func run() async throws {
        for await _ in signals.cancelOnGracefulShutdown() {
            _ = try? await reloader.reload(reason: "SIGHUP")
        }
    }
}
