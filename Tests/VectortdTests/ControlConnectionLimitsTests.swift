import Foundation
import NIOCore
import NIOEmbedded
import Protocol
import Testing

@testable import VectortDaemon

/// Timeouts, the budget for partly received frames, and envelopes parsed off the event loop,
/// on one connection with virtual time.
@Suite("ControlConnectionHandler: timeouts, the partial-frame budget, parsing off the loop", .timeLimit(.minutes(1)))
struct ControlConnectionLimitsTests {
    static let echo = "io.vectort.Test.Echo"
    static let slow = "io.vectort.Test.Slow"

    let gate = Gate()

    var methods: MethodTable {
        var table = MethodTable()
        table.register(
            MethodDescriptor(
                method: Self.echo, role: .client,
                parameters: [ParameterDescriptor("text", .string, required: true), ParameterDescriptor("ratio", .number)],
                summary: "Answers its parameters."),
            .immediate { _, parameters in JSONValue.object(parameters.values) })
        table.register(
            MethodDescriptor(method: Self.slow, role: .client, summary: "Answers when the gate opens."),
            .async { [gate] _, _, _ in
                await gate.wait()
                return ["call": "slow"] as JSONValue
            })
        return table
    }

    /// The first `count` bytes of a frame carrying an Echo of `text`.
    static func partialFrame(_ text: String, count: Int) throws -> [UInt8] {
        let payload = try WireCoding.encoder.encode(CallRequest(method: echo, parameters: ["text": .string(text)]))
        return Array(Framing.frame(Array(payload)).prefix(count))
    }

    // MARK: The frame timeout

    @Test func aFrameThatStallsIsAnsweredWithTimeoutThenTheConnectionCloses() async throws {
        let connection = try await ControlConnectionHarness.make(
            methods: methods, role: .client, frameTimeout: .seconds(30))
        try await connection.sendRaw(try Self.partialFrame("never finished", count: 10))
        await connection.channel.testingEventLoop.advanceTime(by: .seconds(29))
        #expect(try await connection.writtenReply() == nil)
        #expect(connection.socket.closes == [])

        await connection.channel.testingEventLoop.advanceTime(by: .seconds(2))
        let error = try #require(try await connection.nextReply().wireError)
        #expect(error.name == .timeout)
        #expect(error.details["reason"] == "frame")
        #expect(error.details["seconds"] == .int(30), "whole seconds travel as an integer")
        #expect(connection.socket.closes == [.output])
        // The rest of the frame, arriving late, is discarded.
        try await connection.sendRaw(Array(repeating: 0x20, count: 100))
        #expect(try await connection.writtenReply() == nil)
        await connection.channel.testingEventLoop.advanceTime(by: LingeringClose.linger)
        #expect(!connection.channel.isActive)
    }

    @Test func aFrameSentSlowlyButWithinTheTimeoutIsServed() async throws {
        let connection = try await ControlConnectionHarness.make(
            methods: methods, role: .client, frameTimeout: .seconds(30))
        let payload = try WireCoding.encoder.encode(CallRequest(method: Self.echo, parameters: ["text": "slowly"]))
        let frame = Framing.frame(Array(payload))
        for byte in frame {
            try await connection.sendRaw([byte])
            await connection.channel.testingEventLoop.advanceTime(by: .milliseconds(100))
        }
        #expect(try await connection.nextReply() == CallReply(parameters: ["text": "slowly"]))
        // The next frame gets a clock of its own.
        try await connection.sendRaw(try Self.partialFrame("second", count: 6))
        await connection.channel.testingEventLoop.advanceTime(by: .seconds(20))
        #expect(try await connection.writtenReply() == nil)
        await connection.channel.testingEventLoop.advanceTime(by: .seconds(11))
        #expect(try await connection.nextReply().error == .timeout)
    }

    @Test func aStallingHeaderIsAFrameThatStallsToo() async throws {
        let connection = try await ControlConnectionHarness.make(
            methods: methods, role: .client, frameTimeout: .seconds(5))
        try await connection.sendRaw([0, 0])
        await connection.channel.testingEventLoop.advanceTime(by: .seconds(6))
        #expect(try await connection.nextReply().error == .timeout)
    }

    // MARK: The idle timeout

    @Test func anIdleConnectionIsClosedWithoutAFrame() async throws {
        let connection = try await ControlConnectionHarness.make(
            methods: methods, role: .client, idleTimeout: .seconds(300))
        try await connection.send(CallRequest(method: Self.echo, parameters: ["text": "hello"]))
        #expect(try await connection.nextReply() == CallReply(parameters: ["text": "hello"]))
        await connection.channel.testingEventLoop.advanceTime(by: .seconds(200))
        // Input restarts the idle clock.
        try await connection.send(CallRequest(method: Self.echo, parameters: ["text": "again"]))
        #expect(try await connection.nextReply() == CallReply(parameters: ["text": "again"]))
        await connection.channel.testingEventLoop.advanceTime(by: .seconds(299))
        #expect(connection.channel.isActive)

        await connection.channel.testingEventLoop.advanceTime(by: .seconds(2))
        #expect(!connection.channel.isActive)
        #expect(connection.socket.closes == [.all])
        #expect(try await connection.writtenReply() == nil)
    }

    @Test func aConnectionWaitingForItsCallIsNotIdle() async throws {
        let connection = try await ControlConnectionHarness.make(
            methods: methods, role: .client, idleTimeout: .seconds(300))
        try await connection.send(CallRequest(method: Self.slow))
        await connection.channel.testingEventLoop.advanceTime(by: .seconds(1000))
        #expect(connection.channel.isActive)
        gate.open()
        #expect(try await connection.nextReply() == CallReply(parameters: ["call": "slow"]))
        // The idle clock starts when the call answered.
        await connection.channel.testingEventLoop.advanceTime(by: .seconds(299))
        #expect(connection.channel.isActive)
        await connection.channel.testingEventLoop.advanceTime(by: .seconds(302))
        #expect(!connection.channel.isActive)
    }

    // MARK: The partial-frame budget

    @Test func partlyReceivedFramesShareOneBudget() async throws {
        let budget = PartialFrameBudget(limit: 800)
        let first = try await ControlConnectionHarness.make(methods: methods, role: .client, budget: budget)
        let second = try await ControlConnectionHarness.make(methods: methods, role: .client, budget: budget)
        let text = String(repeating: "x", count: 500)
        let payload = try WireCoding.encoder.encode(CallRequest(method: Self.echo, parameters: ["text": .string(text)]))
        let frame = Framing.frame(Array(payload))

        try await first.sendRaw(Array(frame.prefix(20)))
        #expect(budget.inUse == frame.count)
        // A second frame of the same size does not fit beside it: Unavailable, and closed.
        try await second.sendRaw(Array(frame.prefix(20)))
        let refusal = try #require(try await second.nextReply().wireError)
        #expect(refusal.name == .unavailable)
        #expect(refusal.message.contains("control.max_partial_frame_bytes"))
        #expect(second.socket.closes == [.output])
        #expect(budget.inUse == frame.count)

        // The first completes its frame and gives its share back.
        try await first.sendRaw(Array(frame.dropFirst(20)))
        #expect(try await first.nextReply() == CallReply(parameters: ["text": .string(text)]))
        #expect(budget.inUse == 0)
        // A connection that goes away mid-frame gives its share back too.
        try await first.sendRaw(Array(frame.prefix(20)))
        #expect(budget.inUse == frame.count)
        try await first.channel.close().get()
        #expect(budget.inUse == 0)
    }

    // MARK: Parsing off the loop

    @Test func envelopesTheFastParserDeclinesAreParsedOffTheLoopAndAnsweredInOrder() async throws {
        let connection = try await ControlConnectionHarness.make(methods: methods, role: .client)
        // A fraction sends the first call to the full decoder; a key repeated, the third.
        try await connection.sendRaw(
            Framing.frame(Array(#"{"method":"io.vectort.Test.Echo","parameters":{"text":"a","ratio":0.5}}"#.utf8))
                + Framing.frame(Array(#"{"method":"io.vectort.Test.Echo","parameters":{"text":"b"}}"#.utf8))
                + Framing.frame(Array(#"{"method":"io.vectort.Test.Echo","method":"x"}"#.utf8))
                + Framing.frame(Array(#"{"method":"io.vectort.Test.Echo","parameters":{"text":"d"}}"#.utf8)))
        #expect(try await connection.nextReply() == CallReply(parameters: ["text": "a", "ratio": .double(0.5)]))
        #expect(try await connection.nextReply() == CallReply(parameters: ["text": "b"]))
        let duplicate = try #require(try await connection.nextReply().wireError)
        #expect(duplicate.name == .invalidMessage)
        #expect(duplicate.message.hasSuffix(#"duplicate key "method""#))
        #expect(try await connection.nextReply() == CallReply(parameters: ["text": "d"]))
    }

    @Test func aOnewayCallParsedOffTheLoopStaysWithoutAReply() async throws {
        let connection = try await ControlConnectionHarness.make(methods: methods, role: .client)
        try await connection.sendRaw(
            Framing.frame(
                Array(#"{"method":"io.vectort.Test.Echo","parameters":{"text":"a","ratio":1.5},"oneway":true}"#.utf8))
                + Framing.frame(Array(#"{"method":"io.vectort.Test.Echo","parameters":{"text":"b"}}"#.utf8)))
        #expect(try await connection.nextReply() == CallReply(parameters: ["text": "b"]))
        await connection.channel.testingEventLoop.run()
        #expect(try await connection.writtenReply() == nil)
    }

    @Test func whileAnEnvelopeIsParsedOffTheLoopLaterFramesWaitAndReadsAreHeld() {
        var machine = ControlConnectionStateMachine<Int, Int>(maxPipelinedCalls: 4)
        #expect(machine.isIdle)
        machine.slowParseStarted()
        #expect(!machine.isIdle)
        let held = machine.frameArrived(1)
        #expect(held == nil, "a later frame waits")
        let reads = machine.readRequested(writable: true)
        #expect(!reads)
        #expect(machine.slowParseFinished() == true)
        let next = machine.nextWaitingFrame()
        #expect(next == 1)
        let actions = machine.progressed(writable: true)
        #expect(actions.read, "the held read is given back")
        // A connection that closed while its envelope was away handles nothing more.
        machine.slowParseStarted()
        _ = machine.connectionClosed()
        #expect(machine.slowParseFinished() == false)
    }

    @Test func aDrainingConnectionWaitsForTheEnvelopeBeingParsed() {
        var machine = ControlConnectionStateMachine<Int, Int>(maxPipelinedCalls: 4)
        machine.slowParseStarted()
        #expect(machine.drainRequested() == false)
        #expect(machine.slowParseFinished() == true)
        let actions = machine.progressed(writable: true)
        #expect(actions.close)
    }
}
