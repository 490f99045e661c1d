public import AsyncHTTPClient
public import Logging
public import VectortCore
import NIOCore

/// How a provider's HTTP client is set up, and the logger a provider gets when given none.
///
/// The connect timeout belongs to the HTTP client, not to the request: create one `HTTPClient`
/// per provider with `configuration(for:)` (which sets `settings.timeouts.connect`) and shut it
/// down when the provider is dropped. The first-token, idle and total timeouts are enforced by
/// the provider's stream itself.
public enum ProviderClient {
    /// The client configuration for one provider: its connect timeout, no read timeout (the
    /// stream's idle clock does that job), no redirects (a key must not follow one to another
    /// host), no decompression, and room for many concurrent streams (over HTTP/1.1 each holds
    /// a connection; the client's default allows 8 per host). A failed connection attempt fails
    /// the call at once instead of being retried inside the client until a deadline: the chain
    /// owns retries.
    public static func configuration(for timeouts: ProviderTimeouts) -> HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: HTTPClient.Configuration.Timeout(connect: timeouts.connect.timeAmount),
            decompression: .disabled)
        configuration.connectionPool = HTTPClient.Configuration.ConnectionPool(
            idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 512)
        configuration.connectionPool.retryConnectionEstablishment = false
        return configuration
    }

    /// The provider for a network kind (OpenAI and compatible, Anthropic, Gemini); nil for
    /// `.template`, which is not spoken to over HTTP.
    public static func provider(
        _ settings: ProviderSettings, httpClient: HTTPClient, logger: Logger = silentLogger,
        clock: any VectortClock = SystemClock()
    ) -> (any LLMProvider)? {
        switch settings.kind {
        case .openai, .openaiCompatible: OpenAIProvider(settings, httpClient: httpClient, logger: logger, clock: clock)
        case .anthropic: AnthropicProvider(settings, httpClient: httpClient, logger: logger, clock: clock)
        case .gemini: GeminiProvider(settings, httpClient: httpClient, logger: logger, clock: clock)
        case .template: nil
        }
    }

    /// A logger that drops everything.
    public static let silentLogger = Logger(label: "io.vectort.provider", factory: { _ in SwiftLogNoOpLogHandler() })
}
