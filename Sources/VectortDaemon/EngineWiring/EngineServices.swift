import Engine
import Observability
import Foundation
import Logging
import ServiceLifecycle
import Generation
import VectortCore

/// The ledger writer as a service: it runs until shutdown, after the control server (which
/// comes later in the group and so stops first) has answered its last call.
struct LedgerWriterService: Service {
    let engine: Engine
    /// The writer loop, started before the group so that start-up work could write.
    let startedTask: Task<Void, Never>

    func run() async throws {
        await withGracefulShutdownHandler {
            await startedTask.value
        } onGracefulShutdown: {
            engine.stop()
        }
    }
}

/// Periodic credit maintenance: expired monthly credits leave through `expiry` entries, holds
/// older than `credits.hold_max_age_seconds` are released, and idempotency keys older than
/// `idempotency.retention_days` are forgotten.
struct CreditMaintenanceService: Service {
    let ledger: Ledger
    let holdMaxAge: Double
    /// Days idempotency keys are kept (follows a reload).
    var retentionDays: @Sendable () -> Int = { 30 }
    let interval: Duration
    let logger: Logger

    func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            if Task.isShuttingDownGracefully || Task.isCancelled { return }
            do {
                let expired = try await ledger.expireMonthly()
                let released = try await ledger.releaseHolds(olderThanSeconds: holdMaxAge)
                let pruned = try await ledger.pruneIdempotencyKeys(olderThanDays: retentionDays())
                if expired > 0 || released > 0 || pruned > 0 {
                    logger.info(
                        "credit maintenance",
                        metadata: [
                            "credits.expired_buckets": "\(expired)", "credits.released_holds": "\(released)",
                            "idempotency.pruned_keys": "\(pruned)",
                        ])
                }
            } catch {
                logger.error("credit maintenance failed", metadata: ["error": "\(error)"])
            }
        }
    }
}

/// Ends the `Events.Subscribe` streams when the daemon starts to stop, so they do not hold the
/// control server's drain for its grace period.
struct EventBusService: Service {
    let events: EventBus

    func run() async throws {
        try? await gracefulShutdown()
        events.close()
    }
}
