import AsyncHTTPClient
import Engine
import Logging
import NIOPosix
import Synchronization
import Generation
import VectortCore

/// Builds the provider clients from configuration and credentials, and owns their HTTP
/// clients: one per distinct connect timeout (async-http-client sets that per client), kept
/// for the daemon's life so that calls running across a reload keep their connections.
final class ProviderFleet: Sendable {
    private let clients = Mutex<[Duration: HTTPClient]>([:])
    private let logger: Logger

    init(logger: Logger) {
        self.logger = logger
    }

    func providers(_ configuration: DaemonConfiguration, _ secrets: Secrets) -> [(ProviderSettings, any LLMProvider)] {
        configuration.providers.map { entry in
            let settings = ProviderSettings(
                name: entry.name, kind: entry.kind, model: entry.model, baseURL: entry.baseURL,
                apiKey: secrets[entry.secretName]?.value, timeouts: entry.timeouts, retry: entry.retry,
                breaker: entry.breaker, price: entry.price)
            return (settings, ProviderFactory.make(settings, httpClient: client(for: entry.timeouts), logger: logger))
        }
    }

    /// The chain to run, logging entries left out for want of a key.
    func chain(_ configuration: DaemonConfiguration, _ secrets: Secrets) -> [String] {
        let (chain, missing) = configuration.effectiveChain(secrets: secrets)
        for name in missing {
            logger.warning(
                "provider left out of the chain: no API key",
                metadata: ["provider": "\(name)", "credential": "\(name)-api-key"])
        }
        if chain.isEmpty { logger.error("the generation chain is empty: every Generate call will fail") }
        return chain
    }

    private func client(for timeouts: ProviderTimeouts) -> HTTPClient {
        clients.withLock { clients in
            if let existing = clients[timeouts.connect] { return existing }
            let client = HTTPClient(
                eventLoopGroup: MultiThreadedEventLoopGroup.singleton,
                configuration: ProviderClient.configuration(for: timeouts))
            clients[timeouts.connect] = client
            return client
        }
    }

    func shutdown() async {
        let all = clients.withLock { clients in
            defer { clients.removeAll() }
            return Array(clients.values)
        }
        for client in all { try? await client.shutdown() }
    }
}
