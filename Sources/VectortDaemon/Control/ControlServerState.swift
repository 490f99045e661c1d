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
    var maxUnsentReplyBytes = 8 * 1024 * 1024
}

/// State shared by all connections of the control server.
final class ControlServerState: Sendable {
    let methods: MethodTable
    let logger: Logger
    private let settingsBox: Mutex<ControlSettings>
    private let connections = Mutex<[UInt64: any Channel]>([:])
    private let nextConnectionID = Atomic<UInt64>(1)
    private let drainingFlag = Atomic<Bool>(false)

    init(methods: MethodTable, settings: ControlSettings, logger: Logger) {
        self.methods = methods
        self.settingsBox = Mutex(settings)
        self.logger = logger
    }

    var settings: ControlSettings {
        get { settingsBox.withLock { $0 } }
        set { settingsBox.withLock { $0 = newValue } }
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
