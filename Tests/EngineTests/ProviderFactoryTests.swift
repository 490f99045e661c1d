import AsyncHTTPClient
import Generation
import Testing

@testable import Engine

@Suite("The provider factory")
struct ProviderFactoryTests {
    @Test func factoryBuildsTheTemplateProviderWithoutNetwork() async throws {
        let client = HTTPClient()
        let provider = ProviderFactory.make(
            ProviderSettings(name: "offline", kind: .template, model: "", baseURL: ""), httpClient: client)
        #expect(provider.kind == .template)
        #expect(provider.name == "offline")
        try await client.shutdown()
    }
}
