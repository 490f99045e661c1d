import Engine
import Foundation
import Logging
import NIOCore
import Protocol
import Generation
import VectortCore

/// One control connection: parses calls, runs them, and writes replies in call order.
///
/// Quick methods run right here on the event loop; the others run in tasks whose replies hop
/// back to the loop. The bookkeeping (reply order, backpressure, flushing, draining) is
/// `ControlConnectionStateMachine`; this handler feeds it the channel's events and carries out
/// what it answers. When the connection goes away, every task still running is cancelled.
final class ControlConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = ControlFrame
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let state: ControlServerState
    private let callContext: CallContext
    private var machine: ControlConnectionStateMachine<ByteBuffer, ControlFrame>
    private var tasks: [UInt64: Task<Void, Never>] = [:]
    private var context: ChannelHandlerContext?
    /// Runs `onLoop` calls' tasks on this connection's event loop; made on first use.
    private var loopExecutor: EventLoopTaskExecutor?
    /// Waiting frames are being started (a start can finish calls, which would start more).
    private var startingWaitingFrames = false

    /// A connection with nothing in flight closes after this long without input.
    private let idleTimeout: TimeAmount
    /// A frame must arrive whole within this long of its first byte.
    private let frameTimeout: TimeAmount
    private let tracker: PartialFrameTracker?
    /// When the peer last sent something or a call last finished.
    private var lastActivity = NIODeadline.now()
    /// The one timer of the connection: the idle timeout or the current frame's timeout.
    private var timer: (task: Scheduled<Void>, at: NIODeadline)?

    /// Envelopes up to this size are parsed on the loop when the fast parser takes them; larger
    /// ones, and whatever it declines, are parsed off the loop.
    static let inlineParseLimit = 64 * 1024

    init(
        state: ControlServerState, callContext: CallContext, maxPipelinedCalls: Int,
        maxUnsentReplyBytes: Int = ControlSettings.defaultMaxUnsentReplyBytes,
        idleTimeout: TimeAmount = ControlSettings.defaultIdleTimeout,
        frameTimeout: TimeAmount = ControlSettings.defaultFrameTimeout, tracker: PartialFrameTracker? = nil
    ) {
        self.state = state
        self.callContext = callContext
        self.idleTimeout = idleTimeout
        self.frameTimeout = frameTimeout
        self.tracker = tracker
        machine = ControlConnectionStateMachine(
            maxPipelinedCalls: maxPipelinedCalls, maxUnsentReplyBytes: maxUnsentReplyBytes)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        let eventLoop = context.eventLoop
        lastActivity = eventLoop.now
        arm(at: lastActivity + idleTimeout, context: context)
        tracker?.now = { eventLoop.now }
        tracker?.onStart = { [unowned self] in
            guard let context = self.context, let started = self.tracker?.startedAt else { return }
            self.arm(at: started + self.frameTimeout, context: context)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelAll()
        timer?.task.cancel()
        timer = nil
        tracker?.onStart = nil
        tracker?.ended()
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelAll()
        tracker?.ended()
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is DrainConnectionEvent {
            if machine.drainRequested() { context.close(promise: nil) }
            return
        }
        if event is CancelCallsEvent {
            // The grace period is over: every call still running is cancelled and answers
            // (`Unavailable`), then the draining connection closes.
            for task in tasks.values { task.cancel() }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        lastActivity = context.eventLoop.now
        if machine.readBurstEnded() { context.flush() }
        context.fireChannelReadComplete()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // Frames the decoder still had when the peer went away arrive after the channel is
        // inactive: nobody is there to answer them.
        guard context.channel.isActive else { return }
        guard let incoming = machine.frameArrived(unwrapInboundIn(data)) else { return }
        process(incoming, context: context)
    }

    private func process(_ incoming: ControlFrame, context: ChannelHandlerContext) {
        switch incoming {
        case .violation(let error):
            guard let sequence = machine.framingViolated() else { return }
            let wire: WireError =
                switch error.kind {
                case .empty: .invalidMessage("frame with length 0")
                case .tooLarge(_, let limit): .messageTooLarge(limit: limit)
                }
            deliver(sequence, frame(.failure(wire)), final: true, closeAfter: true)
        case .overBudget:
            guard let sequence = machine.framingViolated() else { return }
            state.logger.warning(
                "connection closed: the budget for partly received messages is spent",
                metadata: [
                    "connection.id": "\(callContext.connectionID)", "limit": "\(state.partialFrames.limit)",
                ])
            let refusal = WireError.unavailable(
                "vectortd holds too many partly received messages (control.max_partial_frame_bytes); try again")
            deliver(sequence, frame(.failure(refusal)), final: true, closeAfter: true)
        case .payload(let payload):
            guard machine.acceptingCalls else { return }
            handleCall(payload, context: context)
        }
    }

    // MARK: Timeouts

    /// Makes the connection's timer fire at `deadline` at the latest.
    private func arm(at deadline: NIODeadline, context: ChannelHandlerContext) {
        if let timer, timer.at <= deadline { return }
        timer?.task.cancel()
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        let task = context.eventLoop.scheduleTask(deadline: deadline) { handler.value.timerFired() }
        timer = (task, deadline)
    }

    /// Closes a connection whose frame stalled or that has been idle too long; otherwise sets
    /// the timer for the next moment either could happen. The idle clock restarts lazily: reads
    /// only stamp `lastActivity`, and this re-arms from it.
    private func timerFired() {
        timer = nil
        guard let context, machine.acceptingCalls else { return }
        let now = context.eventLoop.now
        if let tracker, let started = tracker.startedAt {
            if machine.isHoldingRead {
                // The peer could not send the rest while the server held its reads.
                tracker.restartClock()
            } else if now >= started + frameTimeout {
                frameTimedOut(context: context)
                return
            }
        }
        if tracker?.startedAt == nil, machine.isIdle, now >= lastActivity + idleTimeout {
            callContext.logger.info(
                "closing an idle control connection", metadata: ["idle_seconds": "\(idleTimeout.nanoseconds / 1_000_000_000)"])
            context.close(promise: nil)
            return
        }
        var next = lastActivity + idleTimeout
        if next <= now { next = now + idleTimeout }
        if let started = tracker?.startedAt { next = min(next, started + frameTimeout) }
        arm(at: next, context: context)
    }

    private func frameTimedOut(context: ChannelHandlerContext) {
        guard let sequence = machine.framingViolated() else { return }
        tracker?.discarding = true
        tracker?.ended()
        let seconds = Double(frameTimeout.nanoseconds) / 1e9
        callContext.logger.notice(
            "control connection closed: a message did not arrive in time", metadata: ["frame_timeout_seconds": "\(seconds)"])
        deliver(sequence, frame(.failure(.frameTimeout(seconds: seconds))), final: true, closeAfter: true)
    }

    // Backpressure: hold the next socket read while too many calls wait or replies do not drain.
    func read(context: ChannelHandlerContext) {
        if machine.readRequested(writable: context.channel.isWritable) { context.read() }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        perform(machine.writabilityChanged(writable: context.channel.isWritable))
        context.fireChannelWritabilityChanged()
    }

    private func handleCall(_ payload: ByteBuffer, context: ChannelHandlerContext) {
        if payload.readableBytes <= Self.inlineParseLimit,
            let request = CallRequest.parseQuickly(payload: payload.readableBytesView)
        {
            dispatch(request, context: context)
            return
        }
        // What the fast parser declines (or is large) is parsed on the cooperative pool, so no
        // single message holds the event loop and everyone else on it; later frames of this
        // connection wait, so calls still start in order.
        machine.slowParseStarted()
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        Task {
            let parsed: Result<CallRequest, WireError>
            do throws(WireError) {
                parsed = .success(try CallRequest.parse(payload: payload.readableBytesView))
            } catch {
                parsed = .failure(error)
            }
            eventLoop.execute { handler.value.parsedOffLoop(parsed) }
        }
    }

    private func parsedOffLoop(_ parsed: Result<CallRequest, WireError>) {
        guard machine.slowParseFinished(), let context else { return }
        switch parsed {
        case .success(let request):
            dispatch(request, context: context)
        case .failure(let error):
            if let sequence = machine.callRefused(oneway: false) {
                deliver(sequence, frame(.failure(error)), final: true)
            }
        }
        perform(machine.progressed(writable: context.channel.isWritable))
    }

    private func dispatch(_ request: CallRequest, context: ChannelHandlerContext) {
        let sequence: UInt64?
        switch machine.callArrived(oneway: request.isOneway, shuttingDown: state.isDraining) {
        case .ignore:
            return
        case .refuseDraining(let refused):
            if let refused { deliver(refused, frame(.failure(.unavailable("vectortd is shutting down"))), final: true) }
            return
        case .run(let admitted):
            sequence = admitted
        }
        let route: MethodTable.Route
        let parameters: Parameters
        do {
            (route, parameters) = try state.methods.resolve(request, role: callContext.role)
        } catch {
            state.count(request.method, .failure(error))
            if let sequence { deliver(sequence, frame(.failure(error)), final: true) }
            return
        }
        switch route.implementation {
        case .immediate(let run):
            let reply: CallReply.Encoded
            do {
                reply = .success(try run(callContext, parameters))
            } catch {
                reply = .failure(ErrorReplies.wireError(for: error, method: request.method, logger: callContext.logger))
            }
            state.count(request.method, reply)
            if let sequence { deliver(sequence, frame(reply), final: true) }
        case .async(let run):
            startTask(sequence: sequence, request: request, parameters: parameters, run: run, eventLoop: context.eventLoop, onLoop: false)
        case .onLoop(let run):
            startTask(sequence: sequence, request: request, parameters: parameters, run: run, eventLoop: context.eventLoop, onLoop: true)
        }
    }

    private func startTask(
        sequence: UInt64?, request: CallRequest, parameters: Parameters,
        run: @escaping @Sendable (CallContext, Parameters, ReplyStream) async throws -> any Encodable & Sendable,
        eventLoop: any EventLoop, onLoop: Bool
    ) {
        let taskID = machine.taskStarted(sequence: sequence)
        if onLoop && loopExecutor == nil { loopExecutor = EventLoopTaskExecutor(eventLoop) }
        tasks[taskID] = Self.spawn(
            handler: NIOLoopBound(self, eventLoop: eventLoop), taskID: taskID, sequence: sequence,
            streaming: request.wantsMore, method: request.method, context: callContext, parameters: parameters,
            executor: onLoop ? loopExecutor : nil, state: state, run: run)
    }

    private static func spawn(
        handler: NIOLoopBound<ControlConnectionHandler>, taskID: UInt64, sequence: UInt64?, streaming: Bool,
        method: String, context: CallContext, parameters: Parameters, executor: EventLoopTaskExecutor?,
        state: ControlServerState, run: @escaping @Sendable (CallContext, Parameters, ReplyStream) async throws -> any Encodable & Sendable
    ) -> Task<Void, Never> {
        let eventLoop = handler.eventLoop
        let stream = ReplyStream(
            streaming: streaming && sequence != nil,
            send: { value in
                guard streaming, let sequence else { return }
                try Task.checkCancellation()
                let buffer = try ReplyFraming.encodeFrame(CallReply.Encoded.continued(value))
                runOnLoop(eventLoop) { handler.value.deliver(sequence, buffer, final: false) }
            },
            writable: {
                // Asked on the loop, then again every 20 ms while the channel holds more than
                // its high-water mark: the wait ends when the peer reads or goes away.
                while !Task.isCancelled {
                    let ready = await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                        runOnLoop(eventLoop) { continuation.resume(returning: handler.value.takesMoreBytes) }
                    }
                    if ready { return }
                    try? await Task.sleep(for: .milliseconds(20))
                }
            },
            sendAll: { values in
                guard streaming, let sequence else { return }
                try Task.checkCancellation()
                let buffers = try values.map { try ReplyFraming.encodeFrame(CallReply.Encoded.continued($0)) }
                runOnLoop(eventLoop) {
                    for buffer in buffers { handler.value.deliver(sequence, buffer, final: false) }
                }
            })
        let body: @Sendable () async -> Void = {
            let buffer = await runCall(run, context: context, parameters: parameters, stream: stream, method: method, state: state)
            runOnLoop(eventLoop) { handler.value.finishTask(taskID, sequence: sequence, buffer: buffer) }
        }
        if let executor {
            return Task(executorPreference: executor) { await PreferredExecutor.$current.withValue(executor, operation: body) }
        }
        return Task(operation: body)
    }

    /// Runs `work` on `eventLoop`: at once when already there (a task on the loop's executor),
    /// else as a task of the loop.
    private static func runOnLoop(_ eventLoop: any EventLoop, _ work: @escaping @Sendable () -> Void) {
        if eventLoop.inEventLoop {
            work()
        } else {
            eventLoop.execute(work)
        }
    }

    private static func runCall(
        _ run: @Sendable (CallContext, Parameters, ReplyStream) async throws -> any Encodable & Sendable,
        context: CallContext, parameters: Parameters, stream: ReplyStream, method: String, state: ControlServerState
    ) async -> ByteBuffer {
        let reply: CallReply.Encoded
        do {
            reply = .success(try await run(context, parameters, stream))
        } catch {
            reply = .failure(ErrorReplies.wireError(for: error, method: method, logger: context.logger))
        }
        state.count(method, reply)
        return ReplyFraming.frameOrInternalError(reply, method: method, logger: context.logger)
    }

    private func finishTask(_ taskID: UInt64, sequence: UInt64?, buffer: ByteBuffer) {
        tasks[taskID] = nil
        guard let context else { return }
        lastActivity = context.eventLoop.now
        perform(
            machine.taskFinished(
                taskID, sequence: sequence, reply: buffer, bytes: buffer.readableBytes, writable: context.channel.isWritable))
    }

    private func deliver(_ sequence: UInt64, _ buffer: ByteBuffer, final: Bool, closeAfter: Bool = false) {
        guard let context else { return }
        perform(
            machine.deliver(
                sequence, buffer, bytes: buffer.readableBytes, final: final, closeAfter: closeAfter,
                writable: context.channel.isWritable))
    }

    /// Carries out what the state machine answered.
    private func perform(_ actions: ControlConnectionStateMachine<ByteBuffer, ControlFrame>.Actions) {
        guard let context else { return }
        for buffer in actions.writes { context.write(wrapOutboundOut(buffer), promise: nil) }
        if actions.flushNow { context.flush() }
        if actions.lingeringClose { LingeringClose.start(context: context) }
        if actions.scheduleFlush { scheduleFlush(context: context) }
        if actions.close { context.close(promise: nil) }
        if actions.read { context.read() }
        startWaitingFrames(context: context)
    }

    /// Starts the frames that waited for calls to finish, as far as the limits allow, then gives
    /// back a held read when none wait any more.
    private func startWaitingFrames(context: ChannelHandlerContext) {
        guard !startingWaitingFrames, machine.waitingFrames > 0 else { return }
        startingWaitingFrames = true
        defer { startingWaitingFrames = false }
        while let waiting = machine.nextWaitingFrame() { process(waiting, context: context) }
        if machine.waitingFramesStarted(writable: context.channel.isWritable) { context.read() }
    }

    /// Replies that tasks deliver outside a read burst are flushed by one task queued behind
    /// them on the loop: the replies of calls finishing in the same loop tick (a ledger batch
    /// resumes many at once) leave in one write syscall instead of one each.
    private func scheduleFlush(context: ChannelHandlerContext) {
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        context.eventLoop.execute {
            let handler = handler.value
            guard handler.machine.scheduledFlushRan(), let context = handler.context else { return }
            context.flush()
        }
    }

    private func cancelAll() {
        for id in machine.connectionClosed() { tasks[id]?.cancel() }
        tasks.removeAll()
    }

    /// Whether the channel takes more bytes now (true once the connection is gone: its streams
    /// end with their tasks).
    var takesMoreBytes: Bool {
        guard let context, context.channel.isActive else { return true }
        return context.channel.isWritable
    }

    private func frame(_ reply: CallReply.Encoded) -> ByteBuffer {
        ReplyFraming.frameOrInternalError(reply, method: "", logger: callContext.logger)
    }
}

@available(*, unavailable)
extension ControlConnectionHandler: Sendable {}
