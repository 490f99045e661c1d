import Logging
import Protocol
import ServiceLifecycle

/// Pings the systemd watchdog at half of `WATCHDOG_USEC`, and only while the daemon is healthy:
/// a missed ping lets systemd restart a daemon whose database or event loop is stuck.
struct WatchdogService: Service {
    let interval: Duration
    /// The health check, bounded by the given timeout (`HealthMonitor.check`).
    let check: @Sendable (Duration) async -> HealthReport
    /// Sends WATCHDOG=1 (`SystemdNotifier.watchdogPing`).
    let ping: @Sendable () -> Void
    let logger: Logger

    func run() async throws {
        let period = interval / 2
        var wasHealthy = true
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let report = await check(period / 2)
            let healthy = report.status != .failing
            if healthy {
                ping()
            }
            if healthy != wasHealthy {
                if healthy {
                    logger.notice("healthy again; watchdog pings resumed")
                } else {
                    logger.error(
                        "unhealthy; watchdog pings withheld",
                        metadata: ["health": "\(report.checks.filter { $0.value.status == .failing }.keys.sorted())"])
                }
                wasHealthy = healthy
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: period) }
        }
    }
}
