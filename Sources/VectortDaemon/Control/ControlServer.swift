import Foundation
import Glibc
import CDispatch
import Logging
import NIOCore
import NIOPosix
import Protocol
import ServiceLifecycle

/// The control socket server (PROTOCOL.md). Bound or adopted before the service group starts,
/// so that READY=1 is only ever sent while it serves.
final class ControlServer: Service {
    let state: ControlServerState
    let path: String
    let activated: Bool
    private let serverChannel: any Channel
    private let graceSeconds: Double
    private let logger: Logger

    struct StartError: Error, CustomStringConvertible {
        var description: String
        var errno: Int32?
    }

    private init(
        state: ControlServerState, serverChannel: any Channel, path: String, activated: Bool, graceSeconds: Double,
        logger: Logger
    ) {
        self.state = state
        self.serverChannel = serverChannel
        self.path = path
        self.activated = activated
        self.graceSeconds = graceSeconds
        self.logger = logger
    }

    /// Adopts the inherited socket `fd` or binds `path` (after the stale-socket probe).
    static func start(
        group: any EventLoopGroup, inheritedFD: Int32?, path: String, state: ControlServerState, graceSeconds: Double,
        logger: Logger
    ) async throws -> ControlServer {
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            // Connections wait in the kernel's backlog until READY=1 is out (see startAccepting).
            .serverChannelOption(.autoRead, value: false)
            .childChannelOption(.allowRemoteHalfClosure, value: false)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(AcceptFailureHandler(state: state))
                }
            }
            .childChannelInitializer { channel in
                Self.initialize(channel, state: state)
            }
        if let fd = inheritedFD {
            let channel = try await bootstrap.withBoundSocket(fd).get()
            let boundPath = Self.socketPath(of: fd) ?? path
            logger.info("serving the inherited control socket", metadata: ["socket": "\(boundPath)"])
            return ControlServer(
                state: state, serverChannel: channel, path: boundPath, activated: true, graceSeconds: graceSeconds,
                logger: logger)
        }
        try prepare(path: path)
        let channel: any Channel
        do {
            channel = try await bootstrap.bind(unixDomainSocketPath: path, cleanupExistingSocketFile: false).get()
        } catch let error as IOError {
            throw StartError(
                description: "cannot bind the control socket \(path): \(error.description)", errno: error.errnoCode)
        }
        guard chmod(path, 0o660) == 0 else {
            let code = errno
            try? await channel.close()
            throw StartError(description: "cannot set mode 0660 on \(path): \(String(cString: strerror(code)))", errno: code)
        }
        logger.info("serving the control socket", metadata: ["socket": "\(path)"])
        return ControlServer(
            state: state, serverChannel: channel, path: path, activated: false, graceSeconds: graceSeconds,
            logger: logger)
    }

    /// Starts accepting connections. Called right after READY=1, so that no call is ever
    /// answered before the service manager has been told the daemon is ready.
    func startAccepting() {
        serverChannel.setOption(.autoRead, value: true).whenFailure { [logger] error in
            logger.critical("cannot start accepting on the control socket", metadata: ["error": "\(error)"])
        }
    }

    func run() async throws {
        try? await gracefulShutdown()
        await drain()
    }

    /// Stops accepting, lets calls in flight answer within the grace period, then cancels the
    /// calls still running: each answers (`Unavailable`, a generation recorded as failed by the
    /// shutdown) before its connection closes. What has not closed after that is closed.
    func drain() async {
        // An inherited listener stays open in PID 1; closing our copy only stops our accepting.
        try? await serverChannel.close()
        if !activated { unlink(path) }
        let channels = state.beginDraining()
        for channel in channels {
            channel.pipeline.fireUserInboundEventTriggered(DrainConnectionEvent())
        }
        await waitForConnections(seconds: graceSeconds)
        var remaining = state.allChannels()
        guard !remaining.isEmpty else { return }
        logger.notice(
            "grace period over; cancelling the calls still running", metadata: ["connections": "\(remaining.count)"])
        state.beforeCancellingCalls()
        for channel in remaining {
            channel.pipeline.fireUserInboundEventTriggered(CancelCallsEvent())
        }
        await waitForConnections(seconds: Self.cancellationSeconds)
        remaining = state.allChannels()
        if !remaining.isEmpty {
            logger.warning(
                "closing connections whose calls did not answer when cancelled",
                metadata: ["connections": "\(remaining.count)"])
            for channel in remaining { try? await channel.close() }
        }
    }

    /// How long cancelled calls have to record their end and answer.
    static let cancellationSeconds = 2.0

    private func waitForConnections(seconds: Double) async {
        let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
        while state.connectionCount > 0 && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    private static func initialize(_ channel: any Channel, state: ControlServerState) -> EventLoopFuture<Void> {
        PeerCredentials.of(channel).flatMapErrorThrowing { _ in
            PeerCredentials(pid: 0, uid: UInt32.max, gid: UInt32.max)
        }.flatMapThrowing { peer in
            try channel.pipeline.syncOperations.addHandlers(Self.handlers(for: channel, peer: peer, state: state))
        }
    }

    private static func handlers(for channel: any Channel, peer: PeerCredentials, state: ControlServerState)
        -> [any ChannelHandler]
    {
            let settings = state.settings
            guard let id = state.admit(channel, limit: settings.maxConnections) else {
                state.logger.warning(
                    "connection refused: too many connections",
                    metadata: ["peer.uid": "\(peer.uid)", "limit": "\(settings.maxConnections)"])
                return [
                    RefusalHandler(
                        error: .unavailable("too many connections (limit \(settings.maxConnections))"),
                        logger: state.logger)
                ]
            }
            channel.closeFuture.whenComplete { _ in state.remove(id) }
            guard let role = settings.roles.role(for: peer) else {
                state.logger.notice(
                    "connection refused: no role", metadata: ["peer.uid": "\(peer.uid)", "peer.pid": "\(peer.pid)"])
                return [
                    RefusalHandler(
                        error: WireError(
                            .permissionDenied,
                            "uid \(peer.uid) may not use vectortd: it is neither root nor a member of the admin or client group",
                            ["method": "", "required_role": .string(Role.client.rawValue)]), logger: state.logger)
                ]
            }
            var logger = state.logger
            logger[metadataKey: "connection.id"] = "\(id)"
            logger[metadataKey: "peer.uid"] = "\(peer.uid)"
            logger[metadataKey: "peer.pid"] = "\(peer.pid)"
            let context = CallContext(role: role, peer: peer, connectionID: id, logger: logger)
            let tracker = PartialFrameTracker(budget: state.partialFrames)
            return [
                ByteToMessageHandler(ControlFrameDecoder(maxMessageBytes: settings.maxMessageBytes, tracker: tracker)),
                ControlConnectionHandler(
                    state: state, callContext: context, maxPipelinedCalls: settings.maxPipelinedCalls,
                    maxUnsentReplyBytes: settings.maxUnsentReplyBytes, idleTimeout: settings.idleTimeout,
                    frameTimeout: settings.frameTimeout, tracker: tracker),
            ]
    }

    /// Refuses to start over a live daemon; removes a stale socket file.
    private static func prepare(path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try? FileManager.default.createDirectory(
                atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        }
        var st = stat()
        guard lstat(path, &st) == 0 else { return }
        guard (st.st_mode & S_IFMT) == S_IFSOCK else {
            throw StartError(description: "\(path) exists and is not a socket; refusing to replace it", errno: EEXIST)
        }
        switch probe(path: path) {
        case .live:
            throw StartError(
                description: "another vectortd is already serving \(path); stop it first (`systemctl stop vectortd`)",
                errno: EADDRINUSE)
        case .stale:
            unlink(path)
        case .unknown(let code):
            throw StartError(
                description: "cannot probe the existing socket \(path): \(String(cString: strerror(code)))", errno: code)
        }
    }

    private enum ProbeResult { case live, stale, unknown(Int32) }

    private static func probe(path: String) -> ProbeResult {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return .unknown(errno) }
        defer { close(fd) }
        guard let address = UnixSocketAddress(path: path) else { return .unknown(ENAMETOOLONG) }
        guard let code = address.connect(fd) else { return .live }
        return code == ECONNREFUSED || code == ENOENT ? .stale : .unknown(code)
    }

    /// The path an inherited AF_UNIX socket is bound to.
    static func socketPath(of fd: Int32) -> String? {
        var address = sockaddr_un()
        var length = socklen_t(MemoryLayout<sockaddr_un>.size)
        let rc = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard rc == 0, address.sun_family == sa_family_t(AF_UNIX) else { return nil }
        return withUnsafeBytes(of: address.sun_path) { raw in
            let bytes = raw.prefix { $0 != 0 }
            return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self)
        }
    }
}
