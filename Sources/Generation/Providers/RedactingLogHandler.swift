import Logging

/// Wraps a provider's log handler so that no record, at any level, carries the provider's key
/// or the value of a credential header: async-http-client logs whole response heads at
/// `trace`, and a server may echo what it was sent.
struct RedactingLogHandler: LogHandler {
    var inner: any LogHandler
    let secret: String?

    /// Header names whose values are credentials, compared without case.
    static let credentialHeaders: Set<String> = [
        "authorization", "proxy-authorization", "x-api-key", "x-goog-api-key", "api-key", "cookie", "set-cookie",
    ]

    var metadataProvider: Logger.MetadataProvider? {
        get { inner.metadataProvider }
        set { inner.metadataProvider = newValue }
    }

    var metadata: Logger.Metadata {
        get { inner.metadata }
        set { inner.metadata = newValue }
    }

    var logLevel: Logger.Level {
        get { inner.logLevel }
        set { inner.logLevel = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { inner[metadataKey: key] }
        set { inner[metadataKey: key] = newValue }
    }

    func log(event: LogEvent) {
        var event = event
        event.message = "\(redact(event.message.description))"
        event.metadata = event.metadata?.mapValues(redact)
        inner.log(event: event)
    }

    private func redact(_ value: Logger.Metadata.Value) -> Logger.Metadata.Value {
        switch value {
        case .string(let text): .string(redact(text))
        case .stringConvertible(let convertible): .string(redact(convertible.description))
        case .array(let values): .array(values.map(redact))
        case .dictionary(let values): .dictionary(values.mapValues(redact))
        }
    }

    /// The text with the key and every credential header's value replaced by `[redacted]`, in
    /// the two ways header lists print: `("name", "value")` (an `HTTPHeaders` array) and
    /// `name: value; name: value }` (NIO's request and response heads).
    func redact(_ text: String) -> String {
        var text = ProviderErrorClassifier.redact(text, secret: secret)
        let tuple = /\("([A-Za-z0-9-]+)", "((?:[^"\\]|\\.)*)"\)/
        text = text.replacing(tuple) { match in
            let name = String(match.output.1)
            guard Self.credentialHeaders.contains(name.lowercased()) else { return String(match.output.0) }
            return "(\"\(name)\", \"[redacted]\")"
        }
        let field = /\b([A-Za-z0-9-]+): (.*?)(?=; [A-Za-z0-9-]+: | \}|$)/
        text = text.replacing(field) { match in
            let name = String(match.output.1)
            guard Self.credentialHeaders.contains(name.lowercased()) else { return String(match.output.0) }
            return "\(name): [redacted]"
        }
        return text
    }
}
