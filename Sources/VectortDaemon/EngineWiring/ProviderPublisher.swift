import Engine
import Generation
import Logging
import ServiceLifecycle

/// On a shared PostgreSQL, publishes this node's providers and breakers every heartbeat, for
/// `Providers.List {all_nodes}` on any node. Breakers themselves stay per node.
struct ProviderPublisher: Service {
    let engine: Engine
    let registry: ProviderRegistry
    let interval: Duration
    let logger: Logger

    func run() async throws {
        guard engine.isShared else {
            // A service that returns ends the group: wait for the shutdown like the others.
            try? await gracefulShutdown()
            return
        }
        await cancelWhenGracefulShutdown {
            var failing = false
            while !Task.isCancelled {
                do {
                    try await engine.publishProviders(await registry.list())
                    failing = false
                } catch {
                    // Said once per outage: the heartbeat's own warning covers a lost database.
                    if !failing {
                        logger.warning("cannot publish this node's providers", metadata: ["error": "\(error)"])
                    }
                    failing = true
                }
                try? await Task.sleep(for: interval)
            }
        }
    }
}
