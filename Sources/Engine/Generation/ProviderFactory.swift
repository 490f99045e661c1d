public import AsyncHTTPClient
public import Logging
public import VectortCore
public import Generation
import Starters

/// Builds the provider for a configuration entry: one of `Generation`'s network providers, or
/// the offline starters. Create one `HTTPClient` per provider with
/// `ProviderClient.configuration(for:)` and shut it down when the provider is dropped.
public enum ProviderFactory {
    public static func make(
        _ settings: ProviderSettings, httpClient: HTTPClient, logger: Logger = ProviderClient.silentLogger,
        clock: any VectortClock = SystemClock()
    ) -> any LLMProvider {
        ProviderClient.provider(settings, httpClient: httpClient, logger: logger, clock: clock)
            ?? TemplateProvider(name: settings.name)
    }
}
