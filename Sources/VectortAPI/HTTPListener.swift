public import Hummingbird
public import HummingbirdCore
public import Logging
import NIOCore

/// The daemon's HTTP listeners (web API, previews, the Stripe webhook) are made alike: HTTP/1.1
/// with an idle timeout, bounded header sizes, a connection limit, and the bound address
/// reported once listening (port 0 picks one).
public enum HTTPListener {
    public static func application<Context: RequestContext>(
        router: Router<Context>, host: String, port: Int, readTimeoutSeconds: Double, maxConnections: Int, name: String,
        bound: @escaping @Sendable (String) -> Void, logger: Logger
    ) -> Application<RouterResponder<Context>> where Context.Source == ApplicationRequestContextSource {
        Application(
            router: router,
            server: .http1(
                configuration: HTTP1Channel.Configuration(
                    idleTimeout: .milliseconds(Int64(readTimeoutSeconds * 1000)),
                    httpDecoderConfiguration: .init(maxHeaderFieldSize: 16 * 1024, maxHeaderListSize: 32 * 1024, maxHeaderFieldCount: 100))),
            configuration: ApplicationConfiguration(
                address: .hostname(host, port: port), serverName: nil,
                availableConnectionsDelegate: MaximumAvailableConnections(maxConnections, logger: logger)),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                bound("\(host):\(port)")
                logger.info("\(name) listening", metadata: ["listen": "\(host):\(port)"])
            },
            logger: logger)
    }
}
