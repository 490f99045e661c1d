import Dispatch
import Foundation
import Glibc
import Protocol
import VectortTesting
import Synchronization

/// A stand-in daemon: an AF_UNIX listener that serves one connection on its own thread by
/// running a script, so that the blocking `VectortClient` can be tested against real sockets.
final class ScriptedDaemon: Sendable {
    let path: String
    private let directory: TemporaryDirectory
    private let listenFD: Int32
    private let finished = DispatchSemaphore(value: 0)
    private let failures = Mutex<[String]>([])
    private let removed = Atomic<Bool>(false)

    struct ScriptError: Error, CustomStringConvertible {
        var description: String
    }

    init(script: @escaping @Sendable (ScriptedConnection) throws -> Void) throws {
        directory = try TemporaryDirectory(prefix: "vt")
        path = directory.file("vectortd.sock")
        listenFD = try bindUnixSocket(path: path)
        guard listen(listenFD, 8) == 0 else { throw ScriptError(description: "listen: \(errno)") }
        let thread = Thread { [self] in serve(script) }
        thread.start()
    }

    private func serve(_ script: (ScriptedConnection) throws -> Void) {
        defer { finished.signal() }
        do {
            var pfd = pollfd(fd: listenFD, events: Int16(POLLIN), revents: 0)
            guard poll(&pfd, 1, 10_000) == 1 else { throw ScriptError(description: "no client connected") }
            let fd = accept(listenFD, nil, nil)
            guard fd >= 0 else { throw ScriptError(description: "accept: \(errno)") }
            let connection = ScriptedConnection(fd: fd)
            defer { connection.close() }
            try script(connection)
        } catch {
            failures.withLock { $0.append("\(error)") }
        }
    }

    deinit {
        remove()
    }

    /// Closes the listener and removes the socket, once (the directory goes with the daemon).
    private func remove() {
        guard !removed.exchange(true, ordering: .relaxed) else { return }
        Glibc.close(listenFD)
        unlink(path)
    }

    /// Waits for the script to end, removes the socket, and returns what went wrong on the daemon's side.
    func finish() async -> [String] {
        let finished = finished
        // Generous: on a loaded two-core machine the client's side can take many seconds.
        let done = await Blocking.run { finished.wait(timeout: .now() + 120) != .timedOut }
        if !done { return ["script did not finish"] }
        remove()
        return failures.withLock { $0 }
    }
}

/// The daemon's side of one connection, with read timeouts so a failing test cannot hang, long
/// enough that a slow, busy machine never trips them (a run beside a build took 15 s for a call).
final class ScriptedConnection: @unchecked Sendable {
    private var fd: Int32
    private var decoder = FrameDecoder()

    init(fd: Int32) {
        self.fd = fd
        var timeout = timeval(tv_sec: 120, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    /// The next frame's payload, `nil` at end of stream.
    func readFrame() throws -> [UInt8]? {
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            if let payload = try decoder.next() { return payload }
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n == 0 { return nil }
            guard n > 0 else { throw ScriptedDaemon.ScriptError(description: "read: \(errno)") }
            decoder.feed(chunk[0..<n])
        }
    }

    func readRequest() throws -> CallRequest {
        guard let payload = try readFrame() else {
            throw ScriptedDaemon.ScriptError(description: "client closed before sending a request")
        }
        return try CallRequest.parse(payload: payload)
    }

    func write(_ reply: CallReply) throws {
        try writeFrame(Array(WireCoding.encoder.encode(reply)))
    }

    func writeFrame(_ payload: [UInt8]) throws {
        let bytes = Framing.frame(payload)
        let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard n == bytes.count else { throw ScriptedDaemon.ScriptError(description: "send: \(errno)") }
    }

    /// Reads and discards until the client closes.
    func waitForClose() throws {
        while try readFrame() != nil {}
    }

    func close() {
        if fd >= 0 {
            Glibc.close(fd)
            fd = -1
        }
    }
}

/// A bound (not yet listening) AF_UNIX stream socket.
func bindUnixSocket(path: String) throws -> Int32 {
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { throw ScriptedDaemon.ScriptError(description: "socket: \(errno)") }
    if let code = UnixSocketAddress(path: path).map({ $0.bind(fd) }) ?? ENAMETOOLONG {
        Glibc.close(fd)
        throw ScriptedDaemon.ScriptError(description: "bind \(path): \(code)")
    }
    return fd
}

extension ServiceInfo {
    static func sample(protocol version: Int = protocolVersion) -> ServiceInfo {
        ServiceInfo(
            product: "vectortd", version: vectortVersion, protocol: version, interfaces: ["io.vectort.Service"],
            listeners: .init(control: "/run/vectortd.sock"), startedAt: "2025-01-02T03:04:05Z", role: .admin)
    }
}

extension CallReply {
    static func success(_ value: some Encodable) throws -> CallReply {
        CallReply(parameters: try JSONValue(encoding: value).objectValue)
    }
}
