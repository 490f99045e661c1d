import Foundation
import Protocol

/// What `io.vectort.Service.GetInfo` reports about the running daemon.
struct DaemonIdentity: Sendable {
    var version: String
    var startedAt: Date
    var controlSocket: String
    /// `host:port` of the webhook listener once it runs.
    var webhook: @Sendable () -> String? = { nil }
    /// `host:port` of the web API once it runs.
    var api: @Sendable () -> String? = { nil }
    /// `host:port` of the preview origin once it runs.
    var preview: @Sendable () -> String? = { nil }
    /// `host:port` of `/metrics` once it is served.
    var metrics: @Sendable () -> String? = { nil }
    var builds: ServiceInfo.Builds? = nil
    var payments: @Sendable () -> ServiceInfo.Payments? = { nil }
    /// `control.max_message_bytes` now (it follows a reload).
    var maxMessageBytes: @Sendable () -> Int = { Framing.defaultMaxMessageBytes }
    /// The storage backend and, on PostgreSQL, the nodes.
    var storage: @Sendable () -> ServiceInfo.Storage? = { nil }
}

/// `io.vectort.Service`: GetInfo, Ping, GetHealth, Describe, Reload.
enum ServiceMethods {
    static func register(
        into table: inout MethodTable, identity: DaemonIdentity, health: HealthMonitor, reloader: Reloader,
        describe: @escaping @Sendable () -> [MethodDescriptor], interfaces: @escaping @Sendable () -> [String]
    ) {
        let startedAt = identity.startedAt.formatted(Date.ISO8601FormatStyle())
        table.register(
            MethodDescriptor(
                method: MethodName.getInfo, role: .client,
                summary: "Product, version, protocol version, interfaces, listeners, start time and the caller's role."),
            .immediate { context, _ in
                ServiceInfo(
                    product: "vectortd", version: identity.version, protocol: protocolVersion,
                    interfaces: interfaces(),
                    listeners: .init(
                        control: identity.controlSocket, webhook: identity.webhook(), metrics: identity.metrics(), api: identity.api(),
                        preview: identity.preview()),
                    startedAt: startedAt, role: context.role, pid: Int(getpid()), builds: identity.builds,
                    payments: identity.payments(), limits: ServiceInfo.Limits(maxMessageBytes: identity.maxMessageBytes()),
                    storage: identity.storage())
            })
        table.register(
            MethodDescriptor(method: MethodName.ping, role: .client, summary: "Answers {} at once."),
            .immediate { _, _ in PingResult() })
        table.register(
            MethodDescriptor(
                method: MethodName.getHealth, role: .client,
                summary: "Overall status (ok, degraded, failing) and each check with its detail."),
            .async { _, _, _ in await health.check() })
        table.register(
            MethodDescriptor(
                method: MethodName.describe, role: .client,
                summary: "Every method with its role, whether it streams, and its parameters."),
            .immediate { _, _ in ServiceDescription(protocol: protocolVersion, methods: describe()) })
        table.register(
            MethodDescriptor(
                method: MethodName.reload, role: .admin,
                summary: "Re-reads configuration and credentials; returns when done with the changed keys."),
            .async { context, _, _ in
                // A reload runs to the end even if the caller goes away (`vectortctl reload`
                // without --wait sends a oneway call and disconnects at once).
                let reason = "Reload call from uid \(context.peer.uid)"
                return try await Task.detached { try await reloader.reload(reason: reason) }.value
            })
    }
}
