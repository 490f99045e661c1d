import Foundation
import Glibc
public import Protocol
import Synchronization

/// A stand-in for vectortd's control socket, so that `vectortctl` can be run against methods whose
/// daemon side is not there yet, and against answers a real daemon never gives (a path outside
/// the project). It serves one connection at a time on its own thread: `GetInfo` is answered as a
/// daemon of protocol 1 would, every other call with what `answer` returns.
public final class FakeControlSocket: Sendable {
    /// One step of an answer.
    public enum Step: Sendable {
        case reply(CallReply)
        /// Waits before the next step, or until the client sends something or hangs up.
        case pause(Duration)
    }

    public let directory: TemporaryDirectory
    public let path: String
    private let server: Server

    public init(answer: @escaping @Sendable (CallRequest) -> [Step]) throws {
        directory = try TemporaryDirectory(prefix: "vtf")
        path = directory.file("control.sock")
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0, let address = UnixSocketAddress(path: path), address.bind(fd) == nil, listen(fd, 8) == 0 else {
            let code = errno
            if fd >= 0 { close(fd) }
            throw FakeControlSocketError(description: "cannot listen on \(path): errno \(code)")
        }
        server = Server(listenFD: fd, answer: answer)
        Thread { [server] in server.run() }.start()
    }

    deinit {
        server.stop()
    }

    /// The calls received so far, `GetInfo` included.
    public var requests: [CallRequest] { server.received.withLock { $0 } }

    /// The calls of one method.
    public func requests(_ method: String) -> [CallRequest] { requests.filter { $0.method == method } }
}

/// The serving thread's side; the thread holds it, not the socket's owner, so that releasing the
/// owner stops the thread.
private final class Server: Sendable {
    let listenFD: Int32
    let answer: @Sendable (CallRequest) -> [FakeControlSocket.Step]
    let received = Mutex<[CallRequest]>([])
    private let stopping = Atomic<Bool>(false)

    init(listenFD: Int32, answer: @escaping @Sendable (CallRequest) -> [FakeControlSocket.Step]) {
        self.listenFD = listenFD
        self.answer = answer
    }

    func run() {
        serve(answer)
        close(listenFD)
    }

    /// Asks the thread to stop; it closes the listening socket within one poll interval. Nothing
    /// waits for that, so releasing the fake never blocks the releasing task.
    func stop() {
        stopping.store(true, ordering: .relaxed)
    }

    private func serve(_ answer: @Sendable (CallRequest) -> [FakeControlSocket.Step]) {
        while !stopping.load(ordering: .relaxed) {
            guard wait(for: listenFD, milliseconds: 50) else { continue }
            let fd = accept(listenFD, nil, nil)
            guard fd >= 0 else { continue }
            serveConnection(fd, answer)
            close(fd)
        }
    }

    private func serveConnection(_ fd: Int32, _ answer: @Sendable (CallRequest) -> [FakeControlSocket.Step]) {
        var decoder = FrameDecoder()
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while !stopping.load(ordering: .relaxed) {
            guard let payload = try? decoder.next() else {
                guard wait(for: fd, milliseconds: 50) else { continue }
                let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                guard n > 0 else { return }
                decoder.feed(buffer[0..<n])
                continue
            }
            guard let request = try? CallRequest.parse(payload: payload) else { return }
            received.withLock { $0.append(request) }
            if request.isOneway { continue }
            let steps: [FakeControlSocket.Step]
            if request.method == MethodName.getInfo {
                steps = [.reply(Self.serviceInfo)]
            } else {
                steps = answer(request)
            }
            for step in steps {
                switch step {
                case .reply(let reply):
                    guard let data = try? WireCoding.encoder.encode(reply) else { return }
                    let frame = Framing.frame(Array(data))
                    let sent = frame.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                    guard sent == frame.count else { return }
                case .pause(let duration):
                    let (seconds, attoseconds) = duration.components
                    _ = wait(for: fd, milliseconds: Int32(seconds * 1000 + attoseconds / 1_000_000_000_000_000))
                }
            }
        }
    }

    /// Whether `fd` became readable (or hung up) within the time.
    private func wait(for fd: Int32, milliseconds: Int32) -> Bool {
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&pfd, 1, milliseconds) > 0
    }

    private static let serviceInfo = CallReply(
        parameters: try? JSONValue(
            encoding: ServiceInfo(
                product: "vectortd", version: vectortVersion, protocol: protocolVersion, interfaces: [],
                listeners: .init(control: "fake"), startedAt: "2025-01-02T03:04:05Z", role: .admin)
        ).objectValue)
}

public struct FakeControlSocketError: Error, CustomStringConvertible {
    public var description: String
}

extension FakeControlSocket.Step {
    /// A final reply carrying `value`.
    public static func result(_ value: some Encodable) -> Self {
        .reply(CallReply(parameters: try? JSONValue(encoding: value).objectValue))
    }

    /// A streamed reply (`"continues": true`) carrying `value`.
    public static func event(_ value: some Encodable) -> Self {
        .reply(CallReply(parameters: try? JSONValue(encoding: value).objectValue, continues: true))
    }

    public static func error(_ error: WireError) -> Self {
        .reply(CallReply(error: error))
    }
}
