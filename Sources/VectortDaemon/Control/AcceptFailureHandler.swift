import NIOCore

/// On the listening socket: an error there is an `accept` that failed (no file descriptors, no
/// memory). NIO keeps accepting; this records it for the health report and the journal.
final class AcceptFailureHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = any Channel

    private let state: ControlServerState

    init(state: ControlServerState) {
        self.state = state
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        state.acceptFailed(error)
    }
}
