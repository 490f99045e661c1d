/// The bookkeeping of one control connection as a value: events in, actions out, no I/O.
///
/// Calls take a sequence number in arrival order; replies go out in that order, so a reply that
/// finishes early waits in a slot until every earlier call has answered (a client may
/// pipeline). At most `maxPipelinedCalls` calls run at once: frames that arrive beyond that (one
/// socket read can hold thousands) wait, unparsed and unstarted, and reading stops until they
/// have started. Reading also stops while the peer does not read its replies, or while replies
/// waiting for an earlier call hold more than `maxUnsentReplyBytes`. Within a read burst,
/// replies are written and flushed once at its end; replies that finish outside a burst are
/// flushed by one task queued behind them on the loop. A call whose envelope the fast parser
/// declines is parsed off the event loop; later frames wait for it, so calls still start in
/// order. A framing violation is answered and then
/// the connection closes; a drain request closes it as soon as nothing is in flight; once the
/// connection is closed, no waiting or later frame starts.
///
/// `Reply` is the handler's frame type (`ByteBuffer`), `Frame` what its decoder hands it; tests
/// use plain values.
struct ControlConnectionStateMachine<Reply, Frame> {
    /// What the handler does after an event, in this order: write, flush, start the lingering
    /// close, schedule a flush, close, read.
    struct Actions {
        var writes: [Reply] = []
        var flushNow = false
        /// A framing violation was answered: close after the peer had time to read the reply.
        var lingeringClose = false
        /// Queue one flush behind the other replies of this loop tick.
        var scheduleFlush = false
        var close = false
        /// Ask the channel for the next read (it was held).
        var read = false
    }

    /// What to do with a call that arrived.
    enum Admission: Equatable {
        /// Run it; a call that expects a reply answers under `sequence`.
        case run(sequence: UInt64?)
        /// Refuse it with `Unavailable`, under `sequence` (nil: a oneway call is dropped).
        case refuseDraining(sequence: UInt64?)
        /// Input after a framing violation is read and dropped.
        case ignore
    }

    private struct Slot {
        var buffered: [Reply] = []
        var bytes = 0
        var finished = false
        var closeAfter = false
    }

    let maxPipelinedCalls: Int
    let maxUnsentReplyBytes: Int
    /// Frames that arrived while the connection was at its limits, oldest first (from `waitingHead`).
    private var waiting: [Frame] = []
    private var waitingHead = 0
    /// Bytes of replies kept in slots until earlier calls answer.
    private var unsentBytes = 0
    private var closed = false
    private var nextSequence: UInt64 = 0
    private var nextToWrite: UInt64 = 0
    private var slots: [UInt64: Slot] = [:]
    private var runningTasks: Set<UInt64> = []
    private var nextTaskID: UInt64 = 0
    /// Oneway calls still running: they take no reply slot but count against the limit.
    private var onewayRunning = 0
    private var readHeld = false
    /// A call's envelope is being parsed off the loop; later frames wait behind it.
    private var parsing = false
    private(set) var acceptingCalls = true
    private var draining = false
    private var inReadBurst = false
    private var needsFlush = false
    private var flushScheduled = false

    init(maxPipelinedCalls: Int, maxUnsentReplyBytes: Int = ControlSettings.defaultMaxUnsentReplyBytes) {
        self.maxPipelinedCalls = maxPipelinedCalls
        self.maxUnsentReplyBytes = maxUnsentReplyBytes
    }

    /// Calls taken and not yet answered, oneway calls still running included.
    var inFlight: Int { Int(nextSequence - nextToWrite) + onewayRunning }

    /// Frames waiting to start.
    var waitingFrames: Int { waiting.count - waitingHead }

    /// Whether the next frame may start: always after a framing violation (every frame is then
    /// dropped, which costs nothing), else within the limits.
    private var mayStartFrame: Bool {
        !acceptingCalls || (!parsing && inFlight < maxPipelinedCalls && unsentBytes <= maxUnsentReplyBytes)
    }

    /// Nothing is in flight, waiting or being parsed: the connection only waits for its peer.
    var isIdle: Bool {
        inFlight == 0 && runningTasks.isEmpty && waitingFrames == 0 && !parsing
    }

    /// Whether the server holds back the next read (the peer may have more to send).
    var isHoldingRead: Bool { readHeld }

    // MARK: Reading

    /// The channel asks to read: true to read now, false to hold the read until calls drain.
    mutating func readRequested(writable: Bool) -> Bool {
        // After a framing violation, input is read and discarded until the peer closes: closing
        // with unread input would make the kernel reset the peer before it reads our reply.
        if acceptingCalls && (!mayStartFrame || waitingFrames > 0 || !writable) {
            readHeld = true
            return false
        }
        return true
    }

    /// A frame came off the socket: the frame to handle now, or nil when it waits for calls to
    /// finish (or the connection is closed and it is dropped).
    mutating func frameArrived(_ frame: Frame) -> Frame? {
        inReadBurst = true
        guard !closed else { return nil }
        guard waitingFrames == 0 && mayStartFrame else {
            waiting.append(frame)
            return nil
        }
        return frame
    }

    /// The waiting frames have started as far as they could: true to give back a held read.
    mutating func waitingFramesStarted(writable: Bool) -> Bool {
        resumeReadingIfPossible(writable: writable)
    }

    /// The oldest waiting frame, when it may start now.
    mutating func nextWaitingFrame() -> Frame? {
        guard !closed, waitingFrames > 0, mayStartFrame else { return nil }
        let frame = waiting[waitingHead]
        waitingHead += 1
        if waitingHead == waiting.count {
            waiting.removeAll(keepingCapacity: true)
            waitingHead = 0
        }
        return frame
    }

    /// The read burst ended: true to flush what it wrote.
    mutating func readBurstEnded() -> Bool {
        inReadBurst = false
        defer { needsFlush = false }
        return needsFlush
    }

    /// After work that may have ended the last call or lifted a limit (an envelope came back
    /// from parsing): close a draining connection, or give back a held read.
    mutating func progressed(writable: Bool) -> Actions {
        var actions = Actions()
        afterProgress(writable: writable, into: &actions)
        return actions
    }

    mutating func writabilityChanged(writable: Bool) -> Actions {
        var actions = Actions()
        actions.read = resumeReadingIfPossible(writable: writable)
        return actions
    }

    // MARK: Calls

    /// A frame that broke the framing rules: its error reply takes the next sequence, and no
    /// further call is accepted. Nil when one was already refused.
    mutating func framingViolated() -> UInt64? {
        guard acceptingCalls else { return nil }
        acceptingCalls = false
        return takeSequence()
    }

    /// A call arrived; `shuttingDown` is the server's own drain.
    mutating func callArrived(oneway: Bool, shuttingDown: Bool) -> Admission {
        guard acceptingCalls else { return .ignore }
        if draining || shuttingDown { return .refuseDraining(sequence: oneway ? nil : takeSequence()) }
        return .run(sequence: oneway ? nil : takeSequence())
    }

    /// A call that was not parsed or not resolved: it answers under a sequence of its own
    /// unless it was oneway (unknown when the request did not parse: it answers).
    mutating func callRefused(oneway: Bool) -> UInt64? {
        oneway ? nil : takeSequence()
    }

    /// A call's envelope goes to be parsed off the loop: no later frame starts until it is back.
    mutating func slowParseStarted() {
        parsing = true
    }

    /// The envelope parsed off the loop is back: true to handle it, false when the connection
    /// closed meanwhile.
    mutating func slowParseFinished() -> Bool {
        parsing = false
        return !closed
    }

    /// A call runs in a task: its id, for `taskFinished`.
    mutating func taskStarted(sequence: UInt64?) -> UInt64 {
        let id = nextTaskID
        nextTaskID += 1
        runningTasks.insert(id)
        if sequence == nil { onewayRunning += 1 }
        return id
    }

    /// A task ended with its final reply (dropped for a oneway call, `sequence` nil). Nothing
    /// happens for a task already cancelled with the connection.
    mutating func taskFinished(_ id: UInt64, sequence: UInt64?, reply: Reply, bytes: Int = 0, writable: Bool)
        -> Actions
    {
        guard runningTasks.remove(id) != nil else { return Actions() }
        if let sequence {
            return deliver(sequence, reply, bytes: bytes, final: true, writable: writable)
        }
        onewayRunning -= 1
        var actions = Actions()
        afterProgress(writable: writable, into: &actions)
        return actions
    }

    // MARK: Replies

    /// A reply of call `sequence`: written now if that call is next in line, else kept until
    /// the earlier calls answer. `final` is the call's last reply; `closeAfter` closes the
    /// connection once it is out.
    mutating func deliver(
        _ sequence: UInt64, _ reply: Reply, bytes: Int = 0, final: Bool, closeAfter: Bool = false, writable: Bool
    ) -> Actions {
        var actions = Actions()
        guard sequence == nextToWrite else {
            slots[sequence, default: Slot()].buffered.append(reply)
            slots[sequence]!.bytes += bytes
            unsentBytes += bytes
            if final {
                slots[sequence]!.finished = true
                slots[sequence]!.closeAfter = closeAfter
            }
            return actions
        }
        actions.writes.append(reply)
        if final {
            nextToWrite += 1
            if closeAfter {
                actions.flushNow = true
                actions.lingeringClose = true
                return actions
            }
            drainSlots(into: &actions)
        }
        needsFlush = true
        if !inReadBurst && !flushScheduled {
            flushScheduled = true
            actions.scheduleFlush = true
        }
        afterProgress(writable: writable, into: &actions)
        return actions
    }

    /// The scheduled flush runs: true to flush.
    mutating func scheduledFlushRan() -> Bool {
        flushScheduled = false
        defer { needsFlush = false }
        return needsFlush
    }

    private mutating func drainSlots(into actions: inout Actions) {
        while let slot = slots[nextToWrite] {
            actions.writes += slot.buffered
            unsentBytes -= slot.bytes
            guard slot.finished else {
                slots[nextToWrite]!.buffered = []
                slots[nextToWrite]!.bytes = 0
                return
            }
            slots[nextToWrite] = nil
            nextToWrite += 1
            if slot.closeAfter {
                actions.flushNow = true
                actions.lingeringClose = true
                return
            }
        }
    }

    // MARK: Closing

    /// The server drains: close now if nothing is in flight, else once the last call answers.
    mutating func drainRequested() -> Bool {
        draining = true
        return inFlight == 0 && runningTasks.isEmpty && !parsing
    }

    /// The connection went away: the tasks to cancel. Their replies are dropped, and so is every
    /// frame still waiting or arriving later.
    mutating func connectionClosed() -> Set<UInt64> {
        defer {
            closed = true
            runningTasks.removeAll()
            onewayRunning = 0
            slots.removeAll()
            unsentBytes = 0
            waiting.removeAll()
            waitingHead = 0
        }
        return runningTasks
    }

    private mutating func takeSequence() -> UInt64 {
        defer { nextSequence += 1 }
        return nextSequence
    }

    private mutating func afterProgress(writable: Bool, into actions: inout Actions) {
        if draining && inFlight == 0 && runningTasks.isEmpty && !parsing {
            // The last replies go out before the close, which would discard unflushed writes.
            actions.flushNow = true
            actions.close = true
            return
        }
        actions.read = resumeReadingIfPossible(writable: writable)
    }

    private mutating func resumeReadingIfPossible(writable: Bool) -> Bool {
        guard readHeld, mayStartFrame, waitingFrames == 0, writable else { return false }
        readHeld = false
        return true
    }
}
