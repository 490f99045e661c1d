package import AsyncHTTPClient
package import Logging
package import VectortCore

/// What sets one HTTP provider apart from another: how a call is written as a request, and how
/// the events of its answer are read. Everything else (timeouts, errors, retries' hints, the
/// stream itself) is the same for every provider and lives in `HTTPProvider`.
package protocol ProviderWireFormat: Sendable {
    associatedtype StreamDecoder: ProviderEventDecoder
    /// The HTTP request of one attempt.
    static func request(for request: CompletionRequest, settings: ProviderSettings) -> HTTPClientRequest
    /// A decoder for one answer's events.
    static func makeDecoder() -> StreamDecoder
}

/// A provider spoken to over HTTP in `Wire`'s format: each call is one `ProviderHTTPStream`
/// attempt under the provider's clocks.
package struct HTTPProvider<Wire: ProviderWireFormat>: LLMProvider {
    private let endpoint: ProviderEndpoint

    /// `settings.baseURL` is what the wire format expects (OpenAI's ends in `/v1`; Anthropic's
    /// and Gemini's are the host root).
    package init(
        _ settings: ProviderSettings, httpClient: HTTPClient, logger: Logger = ProviderClient.silentLogger,
        clock: any VectortClock = SystemClock()
    ) {
        endpoint = ProviderEndpoint(settings, httpClient: httpClient, logger: logger, clock: clock)
    }

    package var name: String { endpoint.settings.name }
    package var kind: ProviderKind { endpoint.settings.kind }
    package var model: String { endpoint.settings.model }

    package func stream(_ request: CompletionRequest) -> AsyncThrowingStream<CompletionEvent, any Error> {
        attempt(request).start()
    }

    package func complete(
        _ request: CompletionRequest, onEvent: @escaping @Sendable (CompletionEvent) async throws -> Void
    ) async throws {
        try await attempt(request).complete(onEvent)
    }

    /// The request a call sends.
    func httpRequest(for request: CompletionRequest) -> HTTPClientRequest {
        Wire.request(for: request, settings: endpoint.settings)
    }

    private func attempt(_ request: CompletionRequest) -> ProviderHTTPStream<Wire.StreamDecoder> {
        endpoint.attempt(httpRequest(for: request), decoder: Wire.makeDecoder(), provider: kind)
    }
}
