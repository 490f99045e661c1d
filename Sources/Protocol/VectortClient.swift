import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A blocking client for the control socket, usable from any Swift tool.
///
/// One instance is one connection; it is not thread-safe. Calls may be pipelined with `send`
/// and `receive`; replies come back in call order.
public final class VectortClient {
    public let socketPath: String
    /// Default deadline of each call, `nil` for none.
    public var timeout: Double?
    private var fd: Int32
    private var decoder: FrameDecoder
    private var readBuffer = [UInt8](repeating: 0, count: 64 * 1024)
    /// The timeout the current deadline came from, for the `.timeout` error.
    private var activeTimeout: Double?

    private init(socketPath: String, fd: Int32, timeout: Double?, maxMessageBytes: Int) {
        self.socketPath = socketPath
        self.fd = fd
        self.timeout = timeout
        self.decoder = FrameDecoder(maxMessageBytes: maxMessageBytes)
    }

    deinit {
        if fd >= 0 { _ = systemClose(fd) }
    }

    /// Connects to the daemon.
    ///
    /// - Parameter handshake: when true, calls `GetInfo` and checks the protocol version, which
    ///   also turns a refused role into `.permissionDenied`.
    public static func connect(
        socketPath: String, timeout: Double? = 10, handshake: Bool = true,
        maxMessageBytes: Int = Framing.defaultMaxMessageBytes
    ) throws(VectortClientError) -> VectortClient {
        let fd = try openSocket(path: socketPath)
        let client = VectortClient(socketPath: socketPath, fd: fd, timeout: timeout, maxMessageBytes: maxMessageBytes)
        if handshake {
            let info: ServiceInfo
            do {
                info = try client.call(MethodName.getInfo).decode(as: ServiceInfo.self)
                // Replies may be as large as the daemon's own limit.
                if let limit = info.limits?.maxMessageBytes, limit > client.decoder.maxMessageBytes,
                    client.decoder.bufferedByteCount == 0
                {
                    client.decoder = FrameDecoder(maxMessageBytes: limit)
                }
            } catch let error as VectortClientError {
                if let wire = error.remoteError, wire.name == .permissionDenied {
                    throw .permissionDenied(path: socketPath, reason: wire.message)
                }
                throw error
            } catch {
                throw .invalidReply("GetInfo: \(error)")
            }
            if info.protocol != protocolVersion {
                throw .protocolMismatch(client: protocolVersion, server: info.protocol)
            }
        }
        return client
    }

    /// Closes the connection; a call still running on the daemon is cancelled.
    public func close() {
        if fd >= 0 {
            _ = systemClose(fd)
            fd = -1
        }
    }

    /// Calls a method and returns its reply parameters.
    /// - Throws: `.remote` when the daemon answers with an error.
    public func call(
        _ method: String, _ parameters: [String: JSONValue] = [:], timeout: Double? = nil
    ) throws(VectortClientError) -> JSONValue {
        let deadline = startDeadline(timeout ?? self.timeout)
        try sendExpectingReply(CallRequest(method: method, parameters: parameters), deadline: deadline)
        let reply = try receive(deadline: deadline)
        if let error = reply.wireError { throw .remote(error) }
        return .object(reply.parameters ?? [:])
    }

    /// Calls a method with `more: true`, handing each reply to `onReply` until the final one,
    /// which is returned. The timeout bounds the whole stream.
    public func callStreaming(
        _ method: String, _ parameters: [String: JSONValue] = [:], timeout: Double? = nil,
        onReply: (CallReply) -> Void
    ) throws(VectortClientError) -> JSONValue {
        let deadline = startDeadline(timeout ?? self.timeout)
        try sendExpectingReply(CallRequest(method: method, parameters: parameters, more: true), deadline: deadline)
        while true {
            let reply = try receive(deadline: deadline)
            if let error = reply.wireError { throw .remote(error) }
            if reply.isContinued {
                onReply(reply)
            } else {
                return .object(reply.parameters ?? [:])
            }
        }
    }

    /// Sends one request without waiting for its reply (pipelining).
    public func send(_ request: CallRequest, deadline: ContinuousClock.Instant? = nil) throws(VectortClientError) {
        let payload: Data
        do {
            payload = try WireCoding.encoder.encode(request)
        } catch {
            throw .io("cannot encode request: \(error)")
        }
        try sendFrame(Array(payload), deadline: deadline)
    }

    /// A daemon that refuses a connection answers at once and closes; our send may then fail
    /// while its error reply is already waiting to be read. Surface that reply, not EPIPE.
    private func sendExpectingReply(_ request: CallRequest, deadline: ContinuousClock.Instant?) throws(VectortClientError) {
        do {
            try send(request, deadline: deadline)
        } catch .connectionClosed {
            if let reply = try? receive(deadline: deadline), let error = reply.wireError {
                throw .remote(error)
            }
            throw .connectionClosed
        }
    }

    /// Sends one already-encoded payload as a frame.
    public func sendFrame(_ payload: [UInt8], deadline: ContinuousClock.Instant? = nil) throws(VectortClientError) {
        try writeAll(Framing.frame(payload), deadline: deadline)
    }

    /// Sends raw bytes (tests use it to send broken frames).
    public func sendRaw(_ bytes: [UInt8]) throws(VectortClientError) {
        try writeAll(bytes, deadline: startDeadline(timeout))
    }

    /// Reads the next reply.
    public func receive(deadline: ContinuousClock.Instant? = nil) throws(VectortClientError) -> CallReply {
        let payload = try receiveFrame(deadline: deadline ?? startDeadline(timeout))
        if let reply = CallReply.wellFormed(payload) { return reply }
        do {
            return try WireCoding.decoder.decode(CallReply.self, from: Data(payload))
        } catch {
            throw .invalidReply("reply is not a JSON reply object")
        }
    }

    /// Reads the next frame's payload.
    public func receiveFrame(deadline: ContinuousClock.Instant?) throws(VectortClientError) -> [UInt8] {
        while true {
            do {
                if let payload = try decoder.next() { return payload }
            } catch {
                if case .tooLarge(let announced, let limit) = error.kind {
                    throw .invalidReply(
                        "the reply is \(announced) bytes, more than this client accepts (\(limit) bytes: the daemon's "
                            + "control.max_message_bytes, or 16 MiB without a handshake)")
                }
                throw .invalidReply(error.description)
            }
            try waitReadable(deadline: deadline)
            let n = readBuffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n == 0 { throw .connectionClosed }
            if n < 0 {
                let code = errno
                if code == EINTR || code == EAGAIN { continue }
                if code == ECONNRESET { throw .connectionClosed }
                throw .io("read: \(Self.errorString(code))")
            }
            decoder.feed(readBuffer[0..<n])
        }
    }

    private func startDeadline(_ seconds: Double?) -> ContinuousClock.Instant? {
        activeTimeout = seconds
        guard let seconds else { return nil }
        return .now + .milliseconds(Int64(seconds * 1000))
    }

    private func remainingMilliseconds(_ deadline: ContinuousClock.Instant?) throws(VectortClientError) -> Int32 {
        guard let deadline else { return -1 }
        let remaining = deadline - .now
        if remaining <= .zero {
            throw .timeout(seconds: activeTimeout ?? timeout ?? 0)
        }
        let ms = remaining.components.seconds * 1000 + remaining.components.attoseconds / 1_000_000_000_000_000
        return Int32(clamping: max(ms, 1))
    }

    private func waitReadable(deadline: ContinuousClock.Instant?) throws(VectortClientError) {
        try poll(events: Int16(POLLIN), deadline: deadline)
    }

    private func poll(events: Int16, deadline: ContinuousClock.Instant?) throws(VectortClientError) {
        guard fd >= 0 else { throw .connectionClosed }
        while true {
            let wait = try remainingMilliseconds(deadline)
            var pfd = pollfd(fd: fd, events: events, revents: 0)
            let rc = Glibc.poll(&pfd, 1, wait)
            if rc > 0 { return }
            if rc == 0 { continue }
            if errno == EINTR { continue }
            throw .io("poll: \(Self.errorString(errno))")
        }
    }

    private func writeAll(_ bytes: [UInt8], deadline: ContinuousClock.Instant?) throws(VectortClientError) {
        guard fd >= 0 else { throw .connectionClosed }
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { raw in
                Glibc.send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
            }
            if n > 0 {
                offset += n
                continue
            }
            let code = errno
            if code == EINTR { continue }
            if code == EAGAIN || code == EWOULDBLOCK {
                try poll(events: Int16(POLLOUT), deadline: deadline)
                continue
            }
            if code == EPIPE || code == ECONNRESET { throw .connectionClosed }
            throw .io("write: \(Self.errorString(code))")
        }
    }

    private static func openSocket(path: String) throws(VectortClientError) -> Int32 {
        guard let address = UnixSocketAddress(path: path) else {
            throw .io("socket path is empty or longer than 107 bytes: \(path)")
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .io("socket: \(errorString(errno))") }
        if let code = address.connect(fd) {
            _ = systemClose(fd)
            switch code {
            case ENOENT, ECONNREFUSED, ENOTDIR:
                throw .notRunning(path: path, reason: errorString(code))
            case EACCES, EPERM:
                throw .permissionDenied(path: path, reason: errorString(code))
            default:
                throw .io("cannot connect to \(path): \(errorString(code))")
            }
        }
        return fd
    }

    static func errorString(_ code: Int32) -> String {
        String(cString: strerror(code))
    }
}

private func systemClose(_ fd: Int32) -> Int32 {
    Glibc.close(fd)
}
