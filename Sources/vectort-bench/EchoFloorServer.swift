import ArgumentParser
import NIOCore
import NIOPosix
import Protocol

/// The floor of the IPC benchmark: a bare echo server on the same framing as the control
/// socket (length-checked u32 prefix, one payload per frame) with no JSON and no routing.
/// Whatever vectortd adds on top of this is the cost of the protocol and the daemon.
struct EchoFloorServer {
    let channel: any Channel

    static func start(path: String, group: any EventLoopGroup) async throws -> EchoFloorServer {
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([
                        ByteToMessageHandler(EchoFrameDecoder()), EchoHandler(),
                    ])
                }
            }
            .bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true).get()
        return EchoFloorServer(channel: channel)
    }

    func stop() async {
        try? await channel.close()
    }
}

private struct EchoFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return .needMoreData }
        guard case .payload(let count) = Framing.classify(announced: length, limit: Framing.defaultMaxMessageBytes)
        else {
            throw FramingError(kind: .empty)
        }
        guard buffer.readableBytes >= Framing.headerSize + count else { return .needMoreData }
        // Echo the whole frame, header included.
        context.fireChannelRead(Self.wrapInboundOut(buffer.readSlice(length: Framing.headerSize + count)!))
        return .continue
    }
}

private final class EchoHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.write(data, promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }
}

/// `vectort-bench echo-server --path P`: the floor server as its own process.
struct EchoServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "echo-server", abstract: "Serve the echo floor of the ipc benchmark until terminated.",
        shouldDisplay: false)

    @Option(help: "Socket path.")
    var path: String

    func run() async throws {
        let server = try await EchoFloorServer.start(path: path, group: MultiThreadedEventLoopGroup.singleton)
        try await server.channel.closeFuture.get()
    }
}
