package import Foundation
package import Protocol
import Synchronization
import VectortCore

/// Every provider call of one generation, as the record keeps them, and the tokens they used.
package final class AttemptLog: Sendable {
    package init() {}

    private struct State {
        var attempts: [GenerationAttempt] = []
        var usage = TokenUsage()
        var lastIssues: [ValidationIssue] = []
    }

    private let state = Mutex(State())

    package var attempts: [GenerationAttempt] { state.withLock { $0.attempts } }
    package var usage: GenerationUsage {
        state.withLock { Self.wire($0.usage) }
    }

    /// The sum of the attempts' costs; nil when none has one.
    package var cost: Cost? {
        Cost.total(state.withLock { $0.attempts.compactMap(\.cost) })
    }

    static func wire(_ usage: TokenUsage) -> GenerationUsage {
        GenerationUsage(inputTokens: usage.inputTokens, outputTokens: usage.outputTokens, cachedInputTokens: usage.cachedInputTokens)
    }
    package var lastIssues: [ValidationIssue] {
        get { state.withLock { $0.lastIssues } }
        set { state.withLock { $0.lastIssues = newValue } }
    }

    package func record(
        provider: String, model: String, purpose: CompletionPurpose, outcome: String, failure: ProviderFailure? = nil,
        message: String? = nil, started: Date, duration: Duration, usage: TokenUsage? = nil, price: TokenPrice? = nil
    ) {
        let attempt = GenerationAttempt(
            provider: provider, model: model, purpose: purpose.rawValue, outcome: outcome, error: failure?.kind.rawValue,
            status: failure?.status, message: failure?.message ?? message,
            durationMs: Int(duration.seconds * 1000),
            usage: usage.map(Self.wire), cost: usage.flatMap { usage in price.map { $0.cost(of: usage) } },
            startedAt: Timestamps.string(started))
        state.withLock {
            $0.attempts.append(attempt)
            if let usage { $0.usage = $0.usage + usage }
        }
    }
}
