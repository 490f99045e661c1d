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
/// back to the loop. Replies of a later call wait in a slot until every earlier call has
/// answered, so a client may pipeline. When too many calls are in flight, or the client does
/// not read its replies, the handler stops reading from the socket. When the connection goes
/// away, every task still running is cancelled.
final class ControlConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = ControlFrame
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private struct Slot {
        var buffered: [ByteBuffer] = []
        var finished = false
        var closeAfter = false
    }

    private let state: ControlServerState
    private let callContext: CallContext
    private let maxPipelinedCalls: Int
    private let encoder = WireCoding.encoder
    private var nextSequence: UInt64 = 0
    private var nextToWrite: UInt64 = 0
    private var slots: [UInt64: Slot] = [:]
    private var tasks: [UInt64: Task<Void, Never>] = [:]
    private var nextTaskID: UInt64 = 0
    /// Oneway calls still running: they take no reply slot but count against the limit.
    private var onewayRunning = 0
    private var readHeld = false
    private var acceptingCalls = true
    private var draining = false
    /// Between a socket read and its channelReadComplete, replies are written but flushed once
    /// at the end: a burst of pipelined calls costs one write syscall, not one per reply.
    private var inReadBurst = false
    private var needsFlush = false
    private var flushScheduled = false
    private var context: ChannelHandlerContext?
    /// Runs `onLoop` calls' tasks on this connection's event loop; made on first use.
    private var loopExecutor: EventLoopTaskExecutor?

    init(state: ControlServerState, callContext: CallContext, maxPipelinedCalls: Int) {
        self.state = state
        self.callContext = callContext
        self.maxPipelinedCalls = maxPipelinedCalls
    }

    private var inFlight: Int { Int(nextSequence - nextToWrite) + onewayRunning }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelAll()
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelAll()
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is DrainConnectionEvent {
            draining = true
            if inFlight == 0 && tasks.isEmpty { context.close(promise: nil) }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        inReadBurst = false
        if needsFlush {
            needsFlush = false
            context.flush()
        }
        context.fireChannelReadComplete()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        inReadBurst = true
        switch unwrapInboundIn(data) {
        case .violation(let error):
            guard acceptingCalls else { return }
            acceptingCalls = false
            let wire: WireError =
                switch error.kind {
                case .empty: .invalidMessage("frame with length 0")
                case .tooLarge(_, let limit): .messageTooLarge(limit: limit)
                }
            let sequence = take()
            deliver(sequence, frame(.failure(wire)), final: true, closeAfter: true)
        case .payload(let payload):
            guard acceptingCalls else { return }
            handleCall(payload, context: context)
        }
    }

    // Backpressure: hold the next socket read while too many calls wait or replies do not drain.
    func read(context: ChannelHandlerContext) {
        // After a framing violation, input is read and discarded until the peer closes: closing
        // with unread input would make the kernel reset the peer before it reads our error reply.
        if acceptingCalls && (inFlight >= maxPipelinedCalls || !context.channel.isWritable) {
            readHeld = true
            return
        }
        context.read()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        resumeReadingIfPossible()
        context.fireChannelWritabilityChanged()
    }

    private func resumeReadingIfPossible() {
        guard readHeld, let context, inFlight < maxPipelinedCalls, context.channel.isWritable else {
            return
        }
        readHeld = false
        context.read()
    }

    private func take() -> UInt64 {
        defer { nextSequence += 1 }
        return nextSequence
    }

    private func handleCall(_ payload: ByteBuffer, context: ChannelHandlerContext) {
        let request: CallRequest
        do {
            request = try CallRequest.parse(payload: payload.readableBytesView)
        } catch {
            deliver(take(), frame(.failure(error)), final: true)
            return
        }
        let oneway = request.isOneway
        if draining || state.isDraining {
            if !oneway { deliver(take(), frame(.failure(.unavailable("vectortd is shutting down"))), final: true) }
            return
        }
        let route: MethodTable.Route
        let parameters: Parameters
        do {
            (route, parameters) = try state.methods.resolve(request, role: callContext.role)
        } catch {
            if !oneway { deliver(take(), frame(.failure(error)), final: true) }
            return
        }
        let sequence: UInt64? = oneway ? nil : take()
        switch route.implementation {
        case .immediate(let run):
            let reply: CallReply.Encoded
            do {
                reply = .success(try run(callContext, parameters))
            } catch {
                reply = .failure(ErrorReplies.wireError(for: error, method: request.method, logger: callContext.logger))
            }
            if let sequence { deliver(sequence, frame(reply), final: true) }
        case .async(let run):
            startTask(
                sequence: sequence, request: request, parameters: parameters, run: run, eventLoop: context.eventLoop,
                onLoop: false)
        case .onLoop(let run):
            startTask(
                sequence: sequence, request: request, parameters: parameters, run: run, eventLoop: context.eventLoop,
                onLoop: true)
        }
    }

    private func startTask(
        sequence: UInt64?, request: CallRequest, parameters: Parameters,
        run: @escaping @Sendable (CallContext, Parameters, ReplyStream) async throws -> any Encodable & Sendable,
        eventLoop: any EventLoop, onLoop: Bool
    ) {
        let taskID = nextTaskID
        nextTaskID += 1
        if sequence == nil { onewayRunning += 1 }
        if onLoop && loopExecutor == nil { loopExecutor = EventLoopTaskExecutor(eventLoop) }
        tasks[taskID] = Self.spawn(
            handler: NIOLoopBound(self, eventLoop: eventLoop), taskID: taskID, sequence: sequence,
            streaming: request.wantsMore, method: request.method, context: callContext, parameters: parameters,
            executor: onLoop ? loopExecutor : nil, run: run)
    }

    private static func spawn(
        handler: NIOLoopBound<ControlConnectionHandler>, taskID: UInt64, sequence: UInt64?, streaming: Bool,
        method: String, context: CallContext, parameters: Parameters, executor: EventLoopTaskExecutor?,
        run: @escaping @Sendable (CallContext, Parameters, ReplyStream) async throws -> any Encodable & Sendable
    ) -> Task<Void, Never> {
        let eventLoop = handler.eventLoop
        let stream = ReplyStream { value in
            guard streaming, let sequence else { return }
            try Task.checkCancellation()
            let buffer = try encodeFrame(CallReply.Encoded.continued(value))
            runOnLoop(eventLoop) { handler.value.deliver(sequence, buffer, final: false) }
        }
        let body: @Sendable () async -> Void = {
            let buffer = await runCall(run, context: context, parameters: parameters, stream: stream, method: method)
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

    private func finishTask(_ taskID: UInt64, sequence: UInt64?, buffer: ByteBuffer) {
        guard tasks.removeValue(forKey: taskID) != nil else { return }
        if sequence == nil { onewayRunning -= 1 }
        if let sequence {
            deliver(sequence, buffer, final: true)
        } else if let context {
            afterProgress(context: context)
        }
    }

    private static func runCall(
        _ run: @Sendable (CallContext, Parameters, ReplyStream) async throws -> any Encodable & Sendable,
        context: CallContext, parameters: Parameters, stream: ReplyStream, method: String
    ) async -> ByteBuffer {
        let reply: CallReply.Encoded
        do {
            reply = .success(try await run(context, parameters, stream))
        } catch {
            reply = .failure(ErrorReplies.wireError(for: error, method: method, logger: context.logger))
        }
        return frameOrInternalError(reply, method: method, logger: context.logger)
    }

    /// Writes a reply now if its call is next in line, or keeps it until the earlier calls answer.
    private func deliver(_ sequence: UInt64, _ buffer: ByteBuffer, final: Bool, closeAfter: Bool = false) {
        guard let context else { return }
        if sequence == nextToWrite {
            if final {
                nextToWrite += 1
                if closeAfter {
                    context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
                    LingeringClose.start(context: context)
                    return
                }
                context.write(wrapOutboundOut(buffer), promise: nil)
                drainSlots(context: context)
            } else {
                context.write(wrapOutboundOut(buffer), promise: nil)
            }
            needsFlush = true
            if !inReadBurst { scheduleFlush(context: context) }
            afterProgress(context: context)
        } else {
            slots[sequence, default: Slot()].buffered.append(buffer)
            if final {
                slots[sequence]!.finished = true
                slots[sequence]!.closeAfter = closeAfter
            }
        }
    }

    /// Replies that tasks deliver outside a read burst are flushed by one task queued behind
    /// them on the loop: the replies of calls finishing in the same loop tick (a ledger batch
    /// resumes many at once) leave in one write syscall instead of one each.
    private func scheduleFlush(context: ChannelHandlerContext) {
        guard !flushScheduled else { return }
        flushScheduled = true
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        context.eventLoop.execute {
            let handler = handler.value
            handler.flushScheduled = false
            guard handler.needsFlush, let context = handler.context else { return }
            handler.needsFlush = false
            context.flush()
        }
    }

    private func drainSlots(context: ChannelHandlerContext) {
        while let slot = slots[nextToWrite] {
            for buffer in slot.buffered { context.write(wrapOutboundOut(buffer), promise: nil) }
            if slot.finished {
                slots[nextToWrite] = nil
                nextToWrite += 1
                if slot.closeAfter {
                    context.flush()
                    LingeringClose.start(context: context)
                    return
                }
            } else {
                slots[nextToWrite]!.buffered = []
                break
            }
        }
    }

    private func afterProgress(context: ChannelHandlerContext) {
        if draining && inFlight == 0 && tasks.isEmpty {
            context.close(promise: nil)
            return
        }
        resumeReadingIfPossible()
    }

    private func cancelAll() {
        for task in tasks.values { task.cancel() }
        tasks.removeAll()
        onewayRunning = 0
        slots.removeAll()
    }

    private func frame(_ reply: CallReply.Encoded) -> ByteBuffer {
        Self.frameOrInternalError(reply, method: "", logger: callContext.logger, encoder: encoder)
    }

    /// The frame of a reply; an encoding failure becomes an Internal error reply.
    static func frameOrInternalError(
        _ reply: CallReply.Encoded, method: String, logger: Logger, encoder: JSONEncoder = WireCoding.encoder
    ) -> ByteBuffer {
        do {
            return try encodeFrame(reply, encoder: encoder)
        } catch {
            let wire = ErrorReplies.wireError(for: error, method: method, logger: logger)
            return try! encodeFrame(.failure(wire), encoder: encoder)
        }
    }

    private static func encodeFrame(_ reply: CallReply.Encoded, encoder: JSONEncoder = WireCoding.encoder) throws
        -> ByteBuffer
    {
        // Success replies are framed by hand around the encoded parameters: one less level of
        // Codable containers on the hot path. Key order stays sorted, as the encoder's.
        let prefix: StaticString
        let body: Data
        switch reply {
        case .success(let parameters):
            prefix = "{\"parameters\":"
            if let bytes = handWritten(parameters) { return frame(prefix, bytes) }
            body = try encoder.encode(parameters)
        case .continued(let parameters):
            prefix = "{\"continues\":true,\"parameters\":"
            if let bytes = handWritten(parameters) { return frame(prefix, bytes) }
            body = try encoder.encode(parameters)
        case .failure:
            let data = try encoder.encode(reply)
            var buffer = ByteBufferAllocator().buffer(capacity: data.count + Framing.headerSize)
            buffer.writeInteger(UInt32(data.count), endianness: .big)
            buffer.writeBytes(data)
            return buffer
        }
        return frame(prefix, body)
    }

    /// The JSON of the replies sent most often (a generation's events, balances, holds), written
    /// by hand; nil for the others and for a value that leaves itself to the encoder.
    private static func handWritten(_ parameters: any Encodable & Sendable) -> [UInt8]? {
        guard let writable = parameters as? any WireJSONWritable else { return nil }
        var writer = WireJSONWriter()
        return writable.writeWireJSON(&writer) ? writer.bytes : nil
    }

    /// `prefix`, the parameters' JSON and a closing brace, after the length header.
    private static func frame(_ prefix: StaticString, _ body: some Collection<UInt8>) -> ByteBuffer {
        let length = prefix.utf8CodeUnitCount + body.count + 1
        var buffer = ByteBufferAllocator().buffer(capacity: length + Framing.headerSize)
        buffer.writeInteger(UInt32(length), endianness: .big)
        buffer.writeStaticString(prefix)
        buffer.writeBytes(body)
        buffer.writeInteger(UInt8(ascii: "}"))
        return buffer
    }
}

@available(*, unavailable)
extension ControlConnectionHandler: Sendable {}

extension CallReply {
    /// A reply as the server encodes it: typed parameters, encoded once, straight to the frame.
    enum Encoded: Encodable, Sendable {
        case success(any Encodable & Sendable)
        case continued(any Encodable & Sendable)
        case failure(WireError)

        private enum Keys: String, CodingKey {
            case parameters, continues, error
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Keys.self)
            switch self {
            case .success(let parameters):
                try container.encode(parameters, forKey: .parameters)
            case .continued(let parameters):
                try container.encode(parameters, forKey: .parameters)
                try container.encode(true, forKey: .continues)
            case .failure(let error):
                try container.encode(error.name, forKey: .error)
                try container.encode(error.parameters, forKey: .parameters)
            }
        }
    }
}

/// A task executor that runs jobs on one NIO event loop, so that a task resumed by another
/// thread (the ledger writer) comes straight back to the loop that answers its caller.
final class EventLoopTaskExecutor: TaskExecutor {
    let eventLoop: any EventLoop

    init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        eventLoop.execute { job.runSynchronously(on: executor) }
    }
}
