import Testing

@testable import VectortDaemon

/// The control connection's bookkeeping, driven event by event with no channel: replies are
/// strings, and every test reads the actions the machine answers.
@Suite("Control connection state machine")
struct ControlConnectionStateMachineTests {
    typealias Machine = ControlConnectionStateMachine<String, String>

    private func admitted(_ machine: inout Machine, oneway: Bool = false) -> UInt64? {
        guard case .run(let sequence) = machine.callArrived(oneway: oneway, shuttingDown: false) else {
            Issue.record("the call was not admitted")
            return nil
        }
        return sequence
    }

    @Test func repliesGoOutInCallOrderWhateverOrderTheyFinishIn() throws {
        var machine = Machine(maxPipelinedCalls: 8)
        _ = machine.frameArrived("frame")
        let first = try #require(admitted(&machine))
        let second = try #require(admitted(&machine))
        let third = try #require(admitted(&machine))
        #expect([first, second, third] == [0, 1, 2])
        #expect(machine.readBurstEnded() == false)

        // The third and second finish first: nothing may be written yet.
        #expect(machine.deliver(third, "c", final: true, writable: true).writes.isEmpty)
        #expect(machine.deliver(second, "b1", final: false, writable: true).writes.isEmpty)
        #expect(machine.deliver(second, "b2", final: true, writable: true).writes.isEmpty)
        #expect(machine.inFlight == 3)

        let actions = machine.deliver(first, "a", final: true, writable: true)
        #expect(actions.writes == ["a", "b1", "b2", "c"])
        #expect(actions.scheduleFlush, "outside a read burst, one flush is queued behind the replies")
        #expect(machine.inFlight == 0)
        #expect(machine.scheduledFlushRan() == true)
        #expect(machine.scheduledFlushRan() == false, "a second flush has nothing to send")
    }

    @Test func aStreamingCallWritesItsContinuedRepliesAsTheyCome() throws {
        var machine = Machine(maxPipelinedCalls: 8)
        let call = try #require(admitted(&machine))
        #expect(machine.deliver(call, "event", final: false, writable: true).writes == ["event"])
        #expect(machine.inFlight == 1)
        #expect(machine.deliver(call, "result", final: true, writable: true).writes == ["result"])
        #expect(machine.inFlight == 0)
    }

    @Test func repliesWithinAReadBurstAreFlushedOnceAtItsEnd() throws {
        var machine = Machine(maxPipelinedCalls: 8)
        _ = machine.frameArrived("frame")
        for _ in 0..<3 {
            let sequence = try #require(admitted(&machine))
            let actions = machine.deliver(sequence, "r\(sequence)", final: true, writable: true)
            #expect(actions.writes == ["r\(sequence)"])
            #expect(!actions.scheduleFlush && !actions.flushNow)
        }
        #expect(machine.readBurstEnded() == true)
        #expect(machine.readBurstEnded() == false)
    }

    @Test func readingStopsAtThePipelineLimitAndResumesWhenACallAnswers() throws {
        var machine = Machine(maxPipelinedCalls: 2)
        let first = try #require(admitted(&machine))
        _ = try #require(admitted(&machine))
        #expect(machine.readRequested(writable: true) == false, "two calls in flight: the read is held")
        #expect(machine.deliver(first, "a", final: true, writable: true).read, "one answered: the held read goes on")
        #expect(machine.readRequested(writable: true) == true)
    }

    @Test func aPeerThatDoesNotReadItsRepliesStopsReadingUntilTheSocketDrains() {
        var machine = Machine(maxPipelinedCalls: 8)
        #expect(machine.readRequested(writable: false) == false)
        #expect(machine.writabilityChanged(writable: false).read == false)
        #expect(machine.writabilityChanged(writable: true).read)
        #expect(machine.writabilityChanged(writable: true).read == false, "the held read was given back once")
    }

    @Test func onewayCallsTakeNoSequenceButCountAgainstTheLimit() throws {
        var machine = Machine(maxPipelinedCalls: 1)
        #expect(machine.callArrived(oneway: true, shuttingDown: false) == .run(sequence: nil))
        let task = machine.taskStarted(sequence: nil)
        #expect(machine.inFlight == 1)
        #expect(machine.readRequested(writable: true) == false)
        let actions = machine.taskFinished(task, sequence: nil, reply: "dropped", writable: true)
        #expect(actions.writes.isEmpty, "a oneway call's reply is never written")
        #expect(actions.read)
        #expect(machine.inFlight == 0)
        #expect(admitted(&machine) == 0)
    }

    @Test func aFramingViolationIsAnsweredThenTheConnectionCloses() throws {
        var machine = Machine(maxPipelinedCalls: 8)
        let earlier = try #require(admitted(&machine))
        let answered = machine.framingViolated()
        let violation = try #require(answered)
        #expect(machine.framingViolated() == nil, "only the first violation is answered")
        #expect(machine.callArrived(oneway: false, shuttingDown: false) == .ignore)
        #expect(machine.readRequested(writable: false) == true, "input is read and dropped so the peer sees the reply")

        #expect(machine.deliver(violation, "too large", final: true, closeAfter: true, writable: true).writes.isEmpty)
        let actions = machine.deliver(earlier, "ok", final: true, writable: true)
        #expect(actions.writes == ["ok", "too large"])
        #expect(actions.flushNow && actions.lingeringClose)
    }

    @Test func drainingRefusesNewCallsAndClosesOnceTheLastCallAnswers() throws {
        var machine = Machine(maxPipelinedCalls: 8)
        let running = try #require(admitted(&machine))
        let task = machine.taskStarted(sequence: running)
        #expect(machine.drainRequested() == false, "a call is still running")
        #expect(machine.callArrived(oneway: false, shuttingDown: false) == .refuseDraining(sequence: 1))
        #expect(machine.callArrived(oneway: true, shuttingDown: false) == .refuseDraining(sequence: nil))
        #expect(machine.deliver(1, "unavailable", final: true, writable: true).writes.isEmpty)
        let actions = machine.taskFinished(task, sequence: running, reply: "done", writable: true)
        #expect(actions.writes == ["done", "unavailable"])
        #expect(actions.close)
        #expect(actions.flushNow, "a close discards what was not flushed")
    }

    @Test func anIdleConnectionClosesAtOnceWhenDrained() {
        var machine = Machine(maxPipelinedCalls: 8)
        #expect(machine.drainRequested() == true)
    }

    @Test func theServersOwnShutdownRefusesCallsToo() {
        var machine = Machine(maxPipelinedCalls: 8)
        #expect(machine.callArrived(oneway: false, shuttingDown: true) == .refuseDraining(sequence: 0))
    }

    @Test func closingCancelsEveryTaskAndDropsTheirLateReplies() throws {
        var machine = Machine(maxPipelinedCalls: 8)
        let first = try #require(admitted(&machine))
        let firstTask = machine.taskStarted(sequence: first)
        let onewayTask = machine.taskStarted(sequence: nil)
        #expect(machine.connectionClosed() == [firstTask, onewayTask])
        let late = machine.taskFinished(firstTask, sequence: first, reply: "late", writable: true)
        #expect(late.writes.isEmpty && !late.close && !late.read)
    }

    @Test func framesBeyondThePipelineLimitWaitUnstartedAndStartInOrderAsCallsFinish() throws {
        var machine = Machine(maxPipelinedCalls: 2)
        #expect(machine.frameArrived("a") == "a")
        let first = try #require(admitted(&machine))
        #expect(machine.frameArrived("b") == "b")
        let second = try #require(admitted(&machine))
        // One socket read can carry thousands of frames: past the limit they wait.
        #expect(machine.frameArrived("c") == nil)
        #expect(machine.frameArrived("d") == nil)
        #expect(machine.waitingFrames == 2)
        #expect(machine.readRequested(writable: true) == false)
        #expect(machine.nextWaitingFrame() == nil, "no call has finished yet")

        _ = machine.deliver(first, "A", final: true, writable: true)
        #expect(machine.nextWaitingFrame() == "c")
        let third = try #require(admitted(&machine))
        #expect(machine.nextWaitingFrame() == nil, "c took the freed place")
        _ = machine.deliver(second, "B", final: true, writable: true)
        #expect(machine.nextWaitingFrame() == "d")
        let fourth = try #require(admitted(&machine))
        #expect(machine.waitingFrames == 0)
        #expect(machine.waitingFramesStarted(writable: true) == false, "two calls run: the read stays held")
        _ = machine.deliver(third, "C", final: true, writable: true)
        _ = machine.deliver(fourth, "D", final: true, writable: true)
        #expect(machine.readRequested(writable: true) == true)
    }

    @Test func aLaterFrameWaitsBehindEarlierWaitingOnesEvenWhenAPlaceIsFree() throws {
        var machine = Machine(maxPipelinedCalls: 1)
        _ = machine.frameArrived("a")
        let first = try #require(admitted(&machine))
        #expect(machine.frameArrived("b") == nil)
        _ = machine.deliver(first, "A", final: true, writable: true)
        #expect(machine.frameArrived("c") == nil, "b arrived first")
        #expect(machine.nextWaitingFrame() == "b")
    }

    @Test func repliesHeldForAnEarlierCallStopNewCallsPastTheByteLimit() throws {
        var machine = Machine(maxPipelinedCalls: 16, maxUnsentReplyBytes: 100)
        let slow = try #require(admitted(&machine))
        let fast = try #require(admitted(&machine))
        _ = machine.deliver(fast, "big", bytes: 101, final: true, writable: true)
        #expect(machine.frameArrived("next") == nil, "101 bytes wait for the slow call")
        #expect(machine.readRequested(writable: true) == false)
        let actions = machine.deliver(slow, "done", bytes: 10, final: true, writable: true)
        #expect(actions.writes == ["done", "big"])
        #expect(machine.nextWaitingFrame() == "next")
    }

    @Test func aClosedConnectionStartsNoWaitingOrLaterFrame() throws {
        var machine = Machine(maxPipelinedCalls: 1)
        _ = try #require(admitted(&machine))
        #expect(machine.frameArrived("waiting") == nil)
        _ = machine.connectionClosed()
        #expect(machine.waitingFrames == 0)
        #expect(machine.nextWaitingFrame() == nil)
        #expect(machine.frameArrived("late") == nil)
    }
}
