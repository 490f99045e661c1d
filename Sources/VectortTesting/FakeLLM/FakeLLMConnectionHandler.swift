import NIOCore
import NIOHTTP1
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One connection of a fake: collects a request, asks the state for its plan, and plays the
/// plan's steps, each after its delay, on the channel's event loop. The HTTP pipeline handler in
/// front of it holds back a pipelined request until the current response has ended.
final class FakeLLMConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let state: FakeLLMState
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    private var steps: [FakeLLMResponsePlan.Step] = []
    private var next = 0
    private var playing = false
    /// The current step's delay has passed.
    private var waited = false
    private var keepAlive = true
    private var timer: Scheduled<Void>?

    init(state: FakeLLMState) {
        self.state = state
    }

    func channelActive(context: ChannelHandlerContext) {
        if !state.connectionOpened(context.channel) { context.close(promise: nil) }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        if playing {
            playing = false
            state.responseEnded(abandonedByClient: true)
        }
        state.connectionClosed(context.channel)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let requestHead):
            head = requestHead
            body = []
        case .body(var buffer):
            body += buffer.readBytes(length: buffer.readableBytes) ?? []
        case .end:
            guard let head else { return }
            self.head = nil
            let request = FakeLLMRequest(
                method: head.method.rawValue, uri: head.uri, headers: head.headers.map { ($0.name, $0.value) },
                body: body)
            body = []
            keepAlive = head.isKeepAlive
            steps = state.respond(to: request).steps
            next = 0
            waited = false
            playing = true
            play(context: context)
        }
    }

    private func play(context: ChannelHandlerContext) {
        while playing, next < steps.count {
            let step = steps[next]
            if step.delay > .zero, !waited {
                context.flush()
                waited = true
                timer = context.eventLoop.assumeIsolated().scheduleTask(in: step.delay.timeAmount) {
                    self.timer = nil
                    self.play(context: context)
                }
                return
            }
            waited = false
            next += 1
            perform(step.action, context: context)
        }
    }

    private func perform(_ action: FakeLLMResponsePlan.Action, context: ChannelHandlerContext) {
        switch action {
        case .head(let status, let headers):
            var fields = HTTPHeaders(headers.map { ($0.name, $0.value) })
            if !keepAlive { fields.replaceOrAdd(name: "connection", value: "close") }
            let head = HTTPResponseHead(
                version: .http1_1, status: HTTPResponseStatus(statusCode: status), headers: fields)
            context.write(wrapOutboundOut(.head(head)), promise: nil)
        case .data(let text):
            let buffer = context.channel.allocator.buffer(string: text)
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        case .end:
            finish()
            let keepAlive = self.keepAlive
            context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
                if !keepAlive { context.close(promise: nil) }
            }
        case .close:
            finish()
            context.flush()
            context.close(promise: nil)
        case .reset:
            finish()
            // SO_LINGER 0: close sends RST instead of FIN, as a crashed or overloaded proxy does.
            guard let socket = context.channel as? any SocketOptionProvider else {
                context.close(promise: nil)
                return
            }
            socket.setSoLinger(linger(l_onoff: 1, l_linger: 0)).assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
        }
    }

    private func finish() {
        playing = false
        state.responseEnded(abandonedByClient: false)
    }
}
