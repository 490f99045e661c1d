public import Generation

extension ProviderKind {
    /// The fake that speaks this kind's API.
    public var fakeFlavour: FakeLLMFlavour {
        switch self {
        case .openai, .openaiCompatible, .template: .openai
        case .anthropic: .anthropic
        case .gemini: .gemini
        }
    }

    /// A model name of this kind's real API, for calls to its fake.
    public var sampleModel: String {
        switch self {
        case .openai: "gpt-4o-mini"
        case .openaiCompatible: "llama3.1:8b"
        case .anthropic: "claude-sonnet-4-5"
        case .gemini: "gemini-2.5-flash"
        case .template: "starter-v1"
        }
    }
}

extension ProviderTimeouts {
    /// Short clocks, for timeout tests on virtual time.
    public static let fast = ProviderTimeouts(
        connect: .seconds(2), firstToken: .milliseconds(250), idle: .milliseconds(250), total: .seconds(5))
    /// Clocks that a loaded machine running the suite in parallel never hits.
    public static let relaxed = ProviderTimeouts(
        connect: .seconds(5), firstToken: .seconds(10), idle: .seconds(10), total: .seconds(30))
}
