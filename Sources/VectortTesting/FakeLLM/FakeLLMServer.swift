import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization
public import VectortCore

/// A loopback HTTP/1.1 server that speaks one provider's API with scripted behaviour: normal
/// streamed and non-streamed answers in the provider's exact framing, its error envelopes and
/// rate-limit headers, and the faults a real provider shows (in-stream errors, cuts, stalls,
/// malformed data, resets).
///
/// Every request is recorded; each call takes the next queued script (first in, first out) or
/// the default script when the queue is empty. Pacing runs on NIO scheduled tasks, so one
/// server carries hundreds of concurrent streams.
public final class FakeLLMServer: Sendable {
    public let flavour: FakeLLMFlavour
    /// The key the server demands (its flavour's header), or nil to accept any.
    public let apiKey: String?
    public let port: Int
    private let state: FakeLLMState
    private let listener: any Channel

    /// What a provider's `baseURL` setting should be: `http://127.0.0.1:PORT/v1` for OpenAI,
    /// the host root for Anthropic and Gemini.
    public var baseURL: String {
        flavour == .openai ? "http://127.0.0.1:\(port)/v1" : "http://127.0.0.1:\(port)"
    }

    private init(flavour: FakeLLMFlavour, apiKey: String?, port: Int, state: FakeLLMState, listener: any Channel) {
        self.flavour = flavour
        self.apiKey = apiKey
        self.port = port
        self.state = state
        self.listener = listener
    }

    /// Starts a server on 127.0.0.1 with an ephemeral port. With `recordsRequests: false` only
    /// the counters are kept (for load tests).
    public static func start(
        _ flavour: FakeLLMFlavour, apiKey: String? = nil,
        defaultScript: FakeLLMScript = .answer("Hello from the fake provider."), recordsRequests: Bool = true,
        clock: any VectortClock = SystemClock()
    ) async throws -> FakeLLMServer {
        let state = FakeLLMState(
            flavour: flavour, apiKey: apiKey, defaultScript: defaultScript, recordsRequests: recordsRequests,
            clock: clock)
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 512)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(FakeLLMConnectionHandler(state: state))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        guard let port = listener.localAddress?.port else {
            try? await listener.close()
            throw ChannelError.inappropriateOperationForState
        }
        return FakeLLMServer(flavour: flavour, apiKey: apiKey, port: port, state: state, listener: listener)
    }

    /// Queues scripts for the next calls, in order.
    public func enqueue(_ scripts: FakeLLMScript...) {
        state.storage.withLock { $0.queue += scripts }
    }

    /// What calls get once the queue is empty.
    public func setDefaultScript(_ script: FakeLLMScript) {
        state.storage.withLock { $0.defaultScript = script }
    }

    /// Scripts queued and not yet used.
    public var pendingScripts: Int { state.storage.withLock { $0.queue.count } }

    /// Every request so far, in arrival order.
    public var requests: [FakeLLMRequest] { state.storage.withLock { $0.requests } }

    public var lastRequest: FakeLLMRequest? { state.storage.withLock { $0.requests.last } }

    public var counters: FakeLLMCounters { state.storage.withLock { $0.counters } }

    /// Requests received so far.
    public var callCount: Int { counters.calls }

    /// Waits (polling every few milliseconds) until `condition` holds; false on timeout.
    public func waitUntil(
        timeout: Duration = Polling.timeout, _ condition: @Sendable (FakeLLMCounters) -> Bool
    ) async -> Bool {
        await Polling.until(timeout: timeout) { condition(counters) ? true : nil } ?? false
    }

    /// Stops listening and closes every open connection.
    public func shutdown() async throws {
        let channels = state.storage.withLock { storage in
            storage.isShutDown = true
            return Array(storage.connections.values)
        }
        for channel in channels {
            try? await channel.close()
        }
        try await listener.close()
    }
}

/// Runs `body` with a started server and shuts it down afterwards, whether `body` returns or throws.
public func withFakeLLMServer<Result>(
    _ flavour: FakeLLMFlavour, apiKey: String? = nil,
    defaultScript: FakeLLMScript = .answer("Hello from the fake provider."),
    clock: any VectortClock = SystemClock(),
    _ body: (FakeLLMServer) async throws -> Result
) async throws -> Result {
    let server = try await FakeLLMServer.start(flavour, apiKey: apiKey, defaultScript: defaultScript, clock: clock)
    do {
        let result = try await body(server)
        try await server.shutdown()
        return result
    } catch {
        try? await server.shutdown()
        throw error
    }
}

/// The server's shared, lock-protected state: script queue, recorded requests, counters and
/// open connections.
final class FakeLLMState: Sendable {
    struct Storage {
        var queue: [FakeLLMScript] = []
        var defaultScript: FakeLLMScript
        var requests: [FakeLLMRequest] = []
        var counters = FakeLLMCounters()
        var connections: [ObjectIdentifier: any Channel] = [:]
        var isShutDown = false
    }

    let flavour: FakeLLMFlavour
    let apiKey: String?
    let recordsRequests: Bool
    /// The wall clock rate-limit reset timestamps are written from.
    let clock: any VectortClock
    let storage: Mutex<Storage>

    init(
        flavour: FakeLLMFlavour, apiKey: String?, defaultScript: FakeLLMScript, recordsRequests: Bool,
        clock: any VectortClock
    ) {
        self.clock = clock
        self.flavour = flavour
        self.apiKey = apiKey
        self.recordsRequests = recordsRequests
        storage = Mutex(Storage(defaultScript: defaultScript))
    }

    /// Records the request and lays out its response.
    func respond(to request: FakeLLMRequest) -> FakeLLMResponsePlan {
        let callIndex = storage.withLock { storage in
            storage.counters.calls += 1
            if recordsRequests { storage.requests.append(request) }
            storage.counters.activeResponses += 1
            storage.counters.peakActiveResponses = max(
                storage.counters.peakActiveResponses, storage.counters.activeResponses)
            return storage.counters.calls
        }
        return FakeLLMRouter.plan(
            for: request, flavour: flavour, apiKey: apiKey, callIndex: callIndex, now: clock.date
        ) {
            storage.withLock { storage in
                storage.queue.isEmpty ? storage.defaultScript : storage.queue.removeFirst()
            }
        }
    }

    func responseEnded(abandonedByClient: Bool) {
        storage.withLock { storage in
            storage.counters.activeResponses -= 1
            if abandonedByClient {
                storage.counters.clientDisconnects += 1
            } else {
                storage.counters.completed += 1
            }
        }
    }

    /// False when the server is shutting down (the connection is then closed at once).
    func connectionOpened(_ channel: any Channel) -> Bool {
        storage.withLock { storage in
            guard !storage.isShutDown else { return false }
            storage.connections[ObjectIdentifier(channel)] = channel
            storage.counters.openConnections += 1
            storage.counters.acceptedConnections += 1
            return true
        }
    }

    func connectionClosed(_ channel: any Channel) {
        storage.withLock { storage in
            if storage.connections.removeValue(forKey: ObjectIdentifier(channel)) != nil {
                storage.counters.openConnections -= 1
                storage.counters.closedConnections += 1
            }
        }
    }
}

extension Duration {
    var timeAmount: TimeAmount {
        let (seconds, attoseconds) = components
        return .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
