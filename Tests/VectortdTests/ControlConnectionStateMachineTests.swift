import Testing

@testable import VectortDaemon

/// The control connection's bookkeeping, driven event by event with no channel: replies are
/// strings, and every test reads the actions the machine answers.
@Suite("Control connection state machine")
struct ControlConnectionStateMachineTests {
    typealias Machine = ControlConnectionStateMachine<String>

    private func admitted(_ machine: inout Machine, oneway: Bool = false) -> UInt64? {
        guard case .run(let sequence) = machine.callArrived(oneway: oneway, shuttingDown: false) else {
            Issue.record("the call was not admitted")
            return nil
        }
        return sequence
    }

    @Test func repliesGoOutInCallOrderWhateverOrderTheyFinishIn() throws {
        var machine = Machine(maxPipelinedCalls: 8)
        machine.frameArrived()
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
        machine.frameArrived()
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
}
