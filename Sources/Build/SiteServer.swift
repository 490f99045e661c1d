import NIOCore
import NIOHTTP1
import NIOPosix
public import Protocol
import Synchronization

/// Serves a built site from memory on 127.0.0.1 (an ephemeral port), as a static host would:
/// `GET /path` answers the file with its content type, `/` answers `index.html`, anything else
/// 404. Browsers load module scripts only over HTTP, never from `file://`: the render check and
/// the tests open built sites from here.
public final class SiteServer: Sendable {
    public let port: Int
    private let listener: any Channel
    private let log: Log

    public var baseURL: String { "http://127.0.0.1:\(port)/" }

    /// Paths requested so far, in order.
    public var requests: [String] { log.paths.withLock { $0 } }

    private init(port: Int, listener: any Channel, log: Log) {
        self.port = port
        self.listener = listener
        self.log = log
    }

    public static func start(_ files: [ProjectFile]) async throws -> SiteServer {
        let site = Dictionary(files.map { ($0.path, $0.bytes) }, uniquingKeysWith: { $1 })
        let log = Log()
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(Handler(site: site, log: log))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        guard let port = listener.localAddress?.port else {
            try? await listener.close()
            throw ChannelError.inappropriateOperationForState
        }
        return SiteServer(port: port, listener: listener, log: log)
    }

    public func shutdown() async throws {
        try await listener.close()
    }

    final class Log: Sendable {
        let paths = Mutex<[String]>([])
    }

    /// The `Content-Type` a static host sends for a file of a built site.
    public static func contentType(_ path: String) -> String {
        switch path.split(separator: ".").last.map { $0.lowercased() } ?? "" {
        case "html", "htm": "text/html; charset=utf-8"
        case "js", "mjs": "text/javascript; charset=utf-8"
        case "css": "text/css; charset=utf-8"
        case "json", "map": "application/json"
        case "svg": "image/svg+xml"
        case "png": "image/png"
        case "jpg", "jpeg": "image/jpeg"
        case "gif": "image/gif"
        case "webp": "image/webp"
        case "ico": "image/x-icon"
        case "woff": "font/woff"
        case "woff2": "font/woff2"
        case "ttf": "font/ttf"
        case "txt": "text/plain; charset=utf-8"
        case "xml": "application/xml"
        case "webmanifest": "application/manifest+json"
        default: "application/octet-stream"
        }
    }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        let site: [String: [UInt8]]
        let log: Log
        private var path = "/"

        init(site: [String: [UInt8]], log: Log) {
            self.site = site
            self.log = log
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                path = String(head.uri.split(separator: "?").first ?? "/")
            case .body:
                break
            case .end:
                var name = String(path.dropFirst())
                if name.isEmpty { name = "index.html" }
                log.paths.withLock { $0.append(name) }
                let body = site[name]
                var headers = HTTPHeaders()
                headers.add(name: "Content-Type", value: body == nil ? "text/plain" : SiteServer.contentType(name))
                let bytes = body ?? Array("not found\n".utf8)
                headers.add(name: "Content-Length", value: String(bytes.count))
                context.write(
                    wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: body == nil ? .notFound : .ok, headers: headers))),
                    promise: nil)
                context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: bytes)))), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            }
        }
    }
}
