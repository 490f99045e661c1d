public import AsyncHTTPClient
public import Logging
public import VectortCore
public import Generation
import Starters
import Storage

/// Builds the provider for a configuration entry: one of `Generation`'s network providers, or
/// the offline starters. Create one `HTTPClient` per provider with `clientConfiguration(for:)`
/// and shut it down when the provider is dropped (see `ProviderClient`).
public enum ProviderFactory {
    public static func make(
        _ settings: ProviderSettings, httpClient: HTTPClient, logger: Logger = silentLogger,
        clock: any VectortClock = SystemClock()
    ) -> any LLMProvider {
        switch settings.kind {
        case .openai, .openaiCompatible: OpenAIProvider(settings, httpClient: httpClient, logger: logger, clock: clock)
        case .anthropic: AnthropicProvider(settings, httpClient: httpClient, logger: logger, clock: clock)
        case .gemini: GeminiProvider(settings, httpClient: httpClient, logger: logger, clock: clock)
        case .template: TemplateProvider(name: settings.name)
        }
    }

    /// The HTTP client configuration for a provider with these timeouts (see `ProviderClient`).
    public static func clientConfiguration(for timeouts: ProviderTimeouts) -> HTTPClient.Configuration {
        ProviderClient.configuration(for: timeouts)
    }

    /// A logger that drops everything: the default when the caller passes none.
    public static var silentLogger: Logger { ProviderClient.silentLogger }
}
