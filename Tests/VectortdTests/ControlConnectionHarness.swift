import Foundation
import Logging
import NIOCore
import NIOEmbedded
import Protocol
import Synchronization
import Testing

@testable import VectortDaemon

/// One control connection with the daemon's pipeline, on a `NIOAsyncTestingChannel`.
///
/// A `SocketRecorder` sits at the head of the pipeline, where the socket would be: it records
/// reads and closes, and keeps an output half-close from closing the test channel, as a real
/// socket would stay open for reading.
struct ControlConnectionHarness {
    let channel: NIOAsyncTestingChannel
    let socket: SocketRecorder.Log

    static let maxMessageBytes = 1024

    static func make(
        methods: MethodTable, role: Role, maxPipelinedCalls: Int = 16,
        idleTimeout: TimeAmount = ControlSettings.defaultIdleTimeout,
        frameTimeout: TimeAmount = ControlSettings.defaultFrameTimeout,
        budget: PartialFrameBudget = PartialFrameBudget(limit: ControlSettings.defaultMaxPartialFrameBytes)
    ) async throws -> Self {
        let logger = Logger(label: "vectortd.test")
        let state = ControlServerState(
            methods: methods,
            settings: ControlSettings(
                roles: RoleResolver(adminGroup: "0", clientGroup: "0", daemonUID: 0), maxConnections: 8,
                maxPipelinedCalls: maxPipelinedCalls, maxMessageBytes: maxMessageBytes),
            logger: logger)
        let context = CallContext(
            role: role, peer: PeerCredentials(pid: 4242, uid: 1000, gid: 1000), connectionID: 1, logger: logger)
        let log = SocketRecorder.Log()
        let channel = try await NIOAsyncTestingChannel { channel in
            let tracker = PartialFrameTracker(budget: budget)
            try channel.pipeline.syncOperations.addHandlers([
                SocketRecorder(log: log),
                ByteToMessageHandler(ControlFrameDecoder(maxMessageBytes: maxMessageBytes, tracker: tracker)),
                ControlConnectionHandler(
                    state: state, callContext: context, maxPipelinedCalls: maxPipelinedCalls, idleTimeout: idleTimeout,
                    frameTimeout: frameTimeout, tracker: tracker),
            ])
        }
        try await channel.connect(to: SocketAddress(unixDomainSocketPath: "/run/vectortd.sock")).get()
        return ControlConnectionHarness(channel: channel, socket: log)
    }

    func send(_ requests: CallRequest...) async throws {
        var bytes: [UInt8] = []
        for request in requests {
            bytes += Framing.frame(Array(try WireCoding.encoder.encode(request)))
        }
        try await sendRaw(bytes)
    }

    func sendRaw(_ bytes: [UInt8]) async throws {
        try await channel.writeInbound(ByteBuffer(bytes: bytes))
    }

    /// The next reply written to the peer; fails after `timeout`.
    func nextReply(timeout: Duration = .seconds(10)) async throws -> CallReply {
        var frame: ByteBuffer?
        try await eventually("a reply is written", timeout: timeout) {
            frame = try await channel.readOutbound(as: ByteBuffer.self)
            return frame != nil
        }
        return try Self.decodeReply(frame!)
    }

    /// A reply that is already written, or `nil`.
    func writtenReply() async throws -> CallReply? {
        try await channel.readOutbound(as: ByteBuffer.self).map(Self.decodeReply)
    }

    static func decodeReply(_ frame: ByteBuffer) throws -> CallReply {
        let length = try #require(frame.getInteger(at: frame.readerIndex, endianness: .big, as: UInt32.self))
        #expect(Int(length) + Framing.headerSize == frame.readableBytes, "one reply per frame")
        let payload = try #require(frame.getBytes(at: frame.readerIndex + Framing.headerSize, length: Int(length)))
        return try WireCoding.decoder.decode(CallReply.self, from: Data(payload))
    }
}

/// Stands in for the socket: records reads and closes; an output half-close is recorded but not performed.
final class SocketRecorder: ChannelOutboundHandler {
    typealias OutboundIn = Any

    final class Log: Sendable {
        private let state = Mutex<(closes: [CloseMode], reads: Int)>(([], 0))

        var closes: [CloseMode] { state.withLock { $0.closes } }
        var reads: Int { state.withLock { $0.reads } }

        fileprivate func close(_ mode: CloseMode) { state.withLock { $0.closes.append(mode) } }
        fileprivate func read() { state.withLock { $0.reads += 1 } }
    }

    private let log: Log

    init(log: Log) {
        self.log = log
    }

    func read(context: ChannelHandlerContext) {
        log.read()
        context.read()
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        log.close(mode)
        if mode == .output {
            promise?.succeed(())
        } else {
            context.close(mode: mode, promise: promise)
        }
    }
}

/// Polls `condition` until it holds; a generous timeout keeps a broken test from hanging.
func eventually(
    _ what: String, timeout: Duration = .seconds(30), _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while try await !condition() {
        guard ContinuousClock.now < deadline else {
            struct Timeout: Error, CustomStringConvertible { var description: String }
            throw Timeout(description: "timed out waiting until \(what)")
        }
        try await Task.sleep(for: .milliseconds(2))
    }
}

/// Lets a test hold an async method until it opens the gate.
final class Gate: Sendable {
    private struct State {
        var open = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    func wait() async {
        await withCheckedContinuation { continuation in
            let resumeNow = state.withLock { state in
                if state.open { return true }
                state.waiters.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    func open() {
        let waiters = state.withLock { state in
            state.open = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}

/// What the test methods saw, in order.
final class EventLog: Sendable {
    private let events = Mutex<[String]>([])

    var all: [String] { events.withLock { $0 } }

    func record(_ event: String) { events.withLock { $0.append(event) } }
}
