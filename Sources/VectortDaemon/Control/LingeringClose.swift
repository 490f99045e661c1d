import Logging
import NIOCore
import Protocol

/// Ends a connection after a final error reply without losing that reply.
///
/// On AF_UNIX, closing a socket that still has unread input resets the peer, which may then
/// never read the reply. So: flush, shut down our output (the peer reads the reply, then EOF),
/// keep discarding input, and close when the peer does or after a short linger.
enum LingeringClose {
    static let linger: TimeAmount = .seconds(2)

    static func start(context: ChannelHandlerContext) {
        let channel = context.channel
        context.close(mode: .output, promise: nil)
        channel.eventLoop.scheduleTask(in: linger) { channel.close(promise: nil) }
    }
}

/// The whole pipeline of a connection that is refused at once (role, connection limit):
/// it answers with one error reply and closes as `LingeringClose` does.
final class RefusalHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let reply: ByteBuffer
    private var sent = false

    init(error: WireError, logger: Logger) {
        self.reply = ReplyFraming.frameOrInternalError(.failure(error), method: "", logger: logger)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { send(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        send(context: context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // Discarded: see LingeringClose.
    }

    private func send(context: ChannelHandlerContext) {
        guard !sent else { return }
        sent = true
        context.writeAndFlush(wrapOutboundOut(reply), promise: nil)
        LingeringClose.start(context: context)
    }
}

@available(*, unavailable)
extension RefusalHandler: Sendable {}
