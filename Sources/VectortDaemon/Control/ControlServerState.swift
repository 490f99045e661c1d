import Observability
import Logging
import NIOCore
import Protocol
import Synchronization

/// Settings of the control server that a reload may change for new connections and calls.
struct ControlSettings: Sendable, Equatable {
    var roles: RoleResolver
    var maxConnections: Int
    var maxPipelinedCalls: Int
    var maxMessageBytes: Int
    var maxUnsentReplyBytes = Self.defaultMaxUnsentReplyBytes
    var idleTimeout = Self.defaultIdleTimeout
    var frameTimeout = Self.defaultFrameTimeout
    var maxPartialFrameBytes = Self.defaultMaxPartialFrameBytes

    /// `control.max_unsent_reply_bytes` when the configuration does not say.
    static let defaultMaxUnsentReplyBytes = 8 * 1024 * 1024
    /// `control.idle_timeout_seconds`.
    static let defaultIdleTimeout = TimeAmount.seconds(300)
    /// `control.frame_timeout_seconds`.
    static let defaultFrameTimeout = TimeAmount.seconds(30)
    /// `control.max_partial_frame_bytes`, for the whole daemon.
    static let defaultMaxPartialFrameBytes = 256 * 1024 * 1024
}

/// State shared by all connections of the control server.
final class ControlServerState: Sendable {
    let methods: MethodTable
    let logger: Logger
    private let settingsBox: Mutex<ControlSettings>
    /// Bytes of frames partly received, over every connection.
    let partialFrames: PartialFrameBudget
    private let connections = Mutex<[UInt64: any Channel]>([:])
    private let nextConnectionID = Atomic<UInt64>(1)
    private let drainingFlag = Atomic<Bool>(false)
    /// When accepting a connection last failed (EMFILE, ENFILE, ENOMEM…): nanoseconds after
    /// `origin`, plus one; 0 while it never did.
    private let lastAcceptFailure = Atomic<Int64>(0)
    private let origin = ContinuousClock.now

    /// Called once the grace period is over, before the calls still running are cancelled.
    let beforeCancellingCalls: @Sendable () -> Void

    /// `vectortd_control_calls_total`.
    let metrics: Telemetry

    init(
        methods: MethodTable, settings: ControlSettings, logger: Logger, metrics: Telemetry = Telemetry(enabled: false),
        beforeCancellingCalls: @escaping @Sendable () -> Void = {}
    ) {
        self.metrics = metrics
        self.methods = methods
        self.beforeCancellingCalls = beforeCancellingCalls
        self.settingsBox = Mutex(settings)
        self.partialFrames = PartialFrameBudget(limit: settings.maxPartialFrameBytes)
        self.logger = logger
    }

    /// Counts one call by method (`unknown` for a name no method has: labels stay bounded) and
    /// the short name of its error (`none` on success).
    func count(_ method: String, _ reply: CallReply.Encoded) {
        guard metrics.enabled else { return }
        var error = "none"
        if case .failure(let wire) = reply { error = String(wire.name.rawValue.split(separator: ".").last ?? "") }
        metrics.increment(Metric.controlCalls, [methods.routes[method] == nil ? "unknown" : method, error])
    }

    var settings: ControlSettings {
        get { settingsBox.withLock { $0 } }
        set {
            settingsBox.withLock { $0 = newValue }
            partialFrames.limit = newValue.maxPartialFrameBytes
        }
    }

    var isDraining: Bool { drainingFlag.load(ordering: .relaxed) }

    var connectionCount: Int { connections.withLock { $0.count } }

    /// Registers a new connection, or returns `nil` when the limit is reached.
    func admit(_ channel: any Channel, limit: Int) -> UInt64? {
        let id = nextConnectionID.add(1, ordering: .relaxed).oldValue
        return connections.withLock { table in
            guard table.count < limit else { return nil }
            table[id] = channel
            return id
        }
    }

    /// Accepting a connection failed: the peer got nothing, so the health report says so.
    func acceptFailed(_ error: any Error) {
        lastAcceptFailure.store(Self.nanoseconds(ContinuousClock.now - origin) + 1, ordering: .relaxed)
        logger.error("cannot accept a control connection", metadata: ["error": "\(error)"])
    }

    /// How long ago accepting last failed; nil if it never did.
    var sinceLastAcceptFailure: Duration? {
        let stamp = lastAcceptFailure.load(ordering: .relaxed)
        guard stamp > 0 else { return nil }
        return .nanoseconds(Self.nanoseconds(ContinuousClock.now - origin) - (stamp - 1))
    }

    private static func nanoseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
    }

    func remove(_ id: UInt64) {
        _ = connections.withLock { $0.removeValue(forKey: id) }
    }

    /// Stops taking calls; every connection closes once its calls in flight have answered.
    func beginDraining() -> [any Channel] {
        drainingFlag.store(true, ordering: .relaxed)
        return connections.withLock { Array($0.values) }
    }

    func allChannels() -> [any Channel] {
        connections.withLock { Array($0.values) }
    }
}

/// Sent down a connection's pipeline when the server begins its graceful shutdown.
struct DrainConnectionEvent: Sendable {}

/// Sent down a connection's pipeline when the grace period is over: its running calls are
/// cancelled and answer before it closes.
struct CancelCallsEvent: Sendable {}
