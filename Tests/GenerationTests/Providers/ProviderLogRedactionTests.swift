import AsyncHTTPClient
import Logging
import Testing
import VectortCore
import VectortTesting

@testable import Generation

/// Records every log event, at every level.
private struct RecordingLogHandler: LogHandler {
    let records: Locked<[String]>
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let fields = (event.metadata ?? [:]).merging(metadata) { first, _ in first }.map { "\($0)=\($1)" }
        records.withLock { $0.append(([event.message.description] + fields).joined(separator: " ")) }
    }
}

@Suite("Provider logs never carry a credential")
struct ProviderLogRedactionTests {
    @Test(arguments: networkKinds)
    func atTraceLevelTheKeyAndCredentialHeadersAreRedacted(kind: ProviderKind) async throws {
        let records = Locked<[String]>([])
        let logger = Logger(label: "provider-test") { _ in RecordingLogHandler(records: records) }
        let client = HTTPClient(configuration: ProviderClient.configuration(for: .relaxed))
        try await withFakeLLMServer(kind.fakeFlavour, apiKey: testKey) { server in
            server.enqueue(
                FakeLLMScript.answer("hello").addingHeaders([
                    ("set-cookie", "session=cookie-secret-1"), ("x-echo", "key \(testKey)"),
                ]))
            let settings = ProviderSettings(
                name: "redacted", kind: kind, model: kind.sampleModel, baseURL: server.baseURL, apiKey: testKey,
                timeouts: .relaxed)
            let provider = try #require(ProviderClient.provider(settings, httpClient: client, logger: logger))
            let result = await drive(provider)
            #expect(result.finish != nil)
        }
        try await client.shutdown()
        let all = records.withLock { $0 }
        #expect(all.contains { $0.contains("set-cookie") }, "the response head was logged at trace")
        #expect(!all.contains { $0.contains("cookie-secret-1") }, "\(all.filter { $0.contains("cookie-secret-1") })")
        #expect(!all.contains { $0.contains(testKey) })
    }

    @Test func onlyCredentialHeadersLoseTheirValues() {
        let handler = RedactingLogHandler(inner: SwiftLogNoOpLogHandler(), secret: "sk-abcdef")
        let text = #"[("Content-Type", "text/event-stream"), ("Authorization", "Bearer sk-abcdef"), ("x-goog-api-key", "AIza\"x")]"#
        #expect(
            handler.redact(text)
                == #"[("Content-Type", "text/event-stream"), ("Authorization", "[redacted]"), ("x-goog-api-key", "[redacted]")]"#)
        let head = "head(HTTPResponseHead { headers: content-type: text/plain; charset=utf-8; Set-Cookie: a=1; Path=/; x-id: 7 })"
        #expect(
            handler.redact(head)
                == "head(HTTPResponseHead { headers: content-type: text/plain; charset=utf-8; Set-Cookie: [redacted]; x-id: 7 })")
    }
}
