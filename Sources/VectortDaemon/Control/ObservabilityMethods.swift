import Engine
import Observability
import Protocol
import VectortCore

/// `io.vectort.Service.GetStats`, `io.vectort.Events.Subscribe` and `io.vectort.Usage.Summary`:
/// what operators watch. Figures and events are this node's; usage reads the database.
enum ObservabilityMethods {
    static func register(
        into table: inout MethodTable, observer: Observer, store: GenerationStore,
        deployments: @escaping @Sendable () async throws -> [JSONValue]
    ) {
        table.register(
            MethodDescriptor(
                method: MethodName.getStats, role: .admin,
                summary: "The metrics registry's current values, as /metrics exports them: {metrics: [{name, type, help, samples}]}."),
            .async { _, _, _ in ServiceStats(metrics: observer.metrics.stats()) })
        table.register(
            MethodDescriptor(
                method: MethodName.eventsSubscribe, role: .admin, streams: true,
                parameters: [
                    ParameterDescriptor("kinds", .array, "event kinds to follow, by prefix (generation, payment., deployment.state…); all when absent")
                ],
                summary: "Streams a snapshot of what is in flight, then one reply per domain event (call with more); lagged {dropped} when the caller fell behind."),
            .async { _, p, replies in
                guard replies.streaming else {
                    throw WireError.invalidParameter("more", "Events.Subscribe streams its replies: call it with more: true")
                }
                var kinds: [String]?
                if let given = p.values["kinds"]?.arrayValue {
                    kinds = try given.map { value in
                        guard let kind = value.stringValue, !kind.isEmpty, kind.utf8.count <= 100 else {
                            throw WireError.invalidParameter("kinds", "kinds must be non-empty strings such as \"generation.\" or \"payment.paid\"")
                        }
                        return kind
                    }
                }
                let subscription = observer.events.subscribe(kinds: kinds, deployments: try await deployments())
                defer { subscription.finish() }
                // Everything waiting goes out in one hop to the connection. Every 64 events the
                // stream asks whether the connection takes more: a caller that stopped reading
                // stalls it there, and the bus keeps its buffer, then drops and says `lagged`.
                var sinceCheck = 0
                while let batch = await subscription.next() {
                    try await replies.yield(all: batch)
                    sinceCheck += batch.count
                    if sinceCheck >= 64 {
                        sinceCheck = 0
                        await replies.writable()
                    }
                }
                try Task.checkCancellation()
                return JSONValue.object(["event": "end", "reason": "vectortd is shutting down"])
            })
        table.register(
            MethodDescriptor(
                method: MethodName.usageSummary, role: .admin,
                parameters: [
                    ParameterDescriptor("group_by", .string, required: true, "provider, model, user or day"),
                    ParameterDescriptor("user", .string, "only this user's generations"),
                    ParameterDescriptor("since", .string, "RFC 3339 time: generations started at or after it"),
                    ParameterDescriptor("until", .string, "RFC 3339 time: generations started before it"),
                ],
                summary: "Spend in money, tokens, provider calls, generations and credits charged, grouped, with a total."),
            .async { _, p, _ in
                try await store.usage(
                    user: p.string("user"), since: p.string("since"), until: p.string("until"), groupBy: p.required("group_by"))
            })
    }
}
