import Foundation
import NIOCore
import NIOEmbedded
import Protocol
import Testing

@testable import VectortDaemon

@Suite("ControlConnectionHandler: calls and replies on one connection", .timeLimit(.minutes(1)))
struct ControlConnectionTests {
    static let echo = "io.vectort.Test.Echo"
    static let slow = "io.vectort.Test.Slow"
    static let hang = "io.vectort.Test.Hang"
    static let stream = "io.vectort.Test.Stream"
    static let fail = "io.vectort.Test.Fail"
    static let reset = "io.vectort.Admin.Reset"

    struct NotAWireError: Error {}

    let gate = Gate()
    let events = EventLog()

    var methods: MethodTable {
        var table = MethodTable()
        table.register(
            MethodDescriptor(
                method: Self.echo, role: .client,
                parameters: [ParameterDescriptor("text", .string, required: true), ParameterDescriptor("count", .int)],
                summary: "Answers its parameters."),
            .immediate { _, parameters in JSONValue.object(parameters.values) })
        table.register(
            MethodDescriptor(method: Self.slow, role: .client, summary: "Answers when the gate opens."),
            .async { [gate, events] _, _, _ in
                events.record("slow started")
                await gate.wait()
                events.record("slow finished")
                return ["call": "slow"] as JSONValue
            })
        table.register(
            MethodDescriptor(method: Self.hang, role: .client, summary: "Runs until cancelled."),
            .async { [events] _, _, _ in
                events.record("hang started")
                do {
                    try await Task.sleep(for: .seconds(3600))
                } catch is CancellationError {
                    events.record("hang cancelled")
                    throw CancellationError()
                }
                return PingResult()
            })
        table.register(
            MethodDescriptor(method: Self.stream, role: .client, streams: true, summary: "Two events, then a result."),
            .async { _, _, replies in
                try await replies.yield(["event": "started"] as JSONValue)
                try await replies.yield(["event": "file", "path": "src/App.jsx"] as JSONValue)
                return ["done": true] as JSONValue
            })
        table.register(
            MethodDescriptor(
                method: Self.fail, role: .client, parameters: [ParameterDescriptor("wire", .bool)],
                summary: "Fails."),
            .immediate { _, parameters in
                if parameters.bool("wire") == true {
                    throw WireError(.conflict, "wrong state", ["reason": "terminal"])
                }
                throw NotAWireError()
            })
        table.register(
            MethodDescriptor(method: Self.reset, role: .admin, summary: "Admin only."),
            .immediate { context, _ in ["role": .string(context.role.rawValue)] as JSONValue })
        return table
    }

    func connect(as role: Role = .client) async throws -> ControlConnectionHarness {
        try await ControlConnectionHarness.make(methods: methods, role: role)
    }

    @Test func immediateCallAnswersWithItsParameters() async throws {
        let connection = try await connect()
        try await connection.send(CallRequest(method: Self.echo, parameters: ["text": "hi", "count": 2]))
        let reply = try await connection.nextReply()
        #expect(reply == CallReply(parameters: ["text": "hi", "count": 2]))
    }

    @Test func pipelinedRepliesComeBackInCallOrder() async throws {
        let connection = try await connect()
        try await connection.send(
            CallRequest(method: Self.slow), CallRequest(method: Self.echo, parameters: ["text": "second"]))
        try await eventually("the slow call runs") { events.all == ["slow started"] }
        // The echo has answered, but its reply waits for the slow call's.
        #expect(try await connection.writtenReply() == nil)
        gate.open()
        #expect(try await connection.nextReply() == CallReply(parameters: ["call": "slow"]))
        #expect(try await connection.nextReply() == CallReply(parameters: ["text": "second"]))
    }

    @Test func unknownMethodIsMethodNotFound() async throws {
        let connection = try await connect()
        try await connection.send(CallRequest(method: "io.vectort.Test.Nope"))
        let error = try #require(try await connection.nextReply().wireError)
        #expect(error.name == .methodNotFound)
        #expect(error.details["method"] == "io.vectort.Test.Nope")
    }

    @Test func unknownParameterIsInvalidParameterNamingIt() async throws {
        let connection = try await connect()
        try await connection.send(CallRequest(method: Self.echo, parameters: ["text": "hi", "colour": "red"]))
        let error = try #require(try await connection.nextReply().wireError)
        #expect(error.name == .invalidParameter)
        #expect(error.details["parameter"] == "colour")
    }

    @Test func illTypedParameterIsInvalidParameter() async throws {
        let connection = try await connect()
        try await connection.send(CallRequest(method: Self.echo, parameters: ["text": "hi", "count": "two"]))
        let error = try #require(try await connection.nextReply().wireError)
        #expect(error.name == .invalidParameter)
        #expect(error.details["parameter"] == "count")
        #expect(error.message.contains("int"))
    }

    @Test func missingRequiredParameterIsInvalidParameter() async throws {
        let connection = try await connect()
        try await connection.send(CallRequest(method: Self.echo, parameters: ["count": 2]))
        let error = try #require(try await connection.nextReply().wireError)
        #expect(error.name == .invalidParameter)
        #expect(error.details["parameter"] == "text")
    }

    @Test func adminMethodCalledByAClientIsPermissionDenied() async throws {
        let connection = try await connect(as: .client)
        try await connection.send(CallRequest(method: Self.reset))
        let error = try #require(try await connection.nextReply().wireError)
        #expect(error.name == .permissionDenied)
        #expect(error.details["required_role"] == "admin")
        #expect(error.details["method"] == .string(Self.reset))
    }

    @Test func adminMethodCalledByAnAdminRuns() async throws {
        let connection = try await connect(as: .admin)
        try await connection.send(CallRequest(method: Self.reset))
        #expect(try await connection.nextReply() == CallReply(parameters: ["role": "admin"]))
    }

    @Test func onewayCallsGetNoReply() async throws {
        let connection = try await connect()
        try await connection.send(
            CallRequest(method: Self.echo, parameters: ["text": "first"], oneway: true),
            CallRequest(method: Self.slow, oneway: true),
            CallRequest(method: "io.vectort.Test.Nope", oneway: true),
            CallRequest(method: Self.echo, parameters: ["text": "last"]))
        #expect(try await connection.nextReply() == CallReply(parameters: ["text": "last"]))
        try await eventually("the oneway slow call runs") { events.all == ["slow started"] }
        gate.open()
        try await eventually("the oneway slow call finishes") { events.all.last == "slow finished" }
        await connection.channel.testingEventLoop.run()
        #expect(try await connection.writtenReply() == nil)
    }

    @Test func payloadThatIsNotAJSONObjectIsInvalidMessageAndTheConnectionStays() async throws {
        let connection = try await connect()
        try await connection.sendRaw(Framing.frame(Array("[1, 2]".utf8)))
        let error = try #require(try await connection.nextReply().wireError)
        #expect(error.name == .invalidMessage)
        try await connection.send(CallRequest(method: Self.echo, parameters: ["text": "still here"]))
        #expect(try await connection.nextReply() == CallReply(parameters: ["text": "still here"]))
        #expect(connection.socket.closes == [])
    }

    @Test func zeroLengthFrameIsInvalidMessageThenTheConnectionLingersAndCloses() async throws {
        let connection = try await connect()
        try await connection.sendRaw([0, 0, 0, 0])
        let error = try #require(try await connection.nextReply().wireError)
        #expect(error.name == .invalidMessage)
        #expect(connection.socket.closes == [.output])
        // Input after the violation is read and dropped, never answered.
        try await connection.send(CallRequest(method: Self.echo, parameters: ["text": "ignored"]))
        #expect(try await connection.writtenReply() == nil)
        await connection.channel.testingEventLoop.advanceTime(by: LingeringClose.linger)
        #expect(connection.socket.closes == [.output, .all])
        #expect(!connection.channel.isActive)
    }

    @Test func frameAboveTheLimitIsMessageTooLargeThenTheConnectionCloses() async throws {
        let connection = try await connect()
        var header: [UInt8] = []
        Framing.appendHeader(UInt32(ControlConnectionHarness.maxMessageBytes + 1), to: &header)
        try await connection.sendRaw(header)
        let error = try #require(try await connection.nextReply().wireError)
        #expect(error.name == .messageTooLarge)
        #expect(error.details["limit"] == .int(Int64(ControlConnectionHarness.maxMessageBytes)))
        #expect(connection.socket.closes == [.output])
        await connection.channel.testingEventLoop.advanceTime(by: LingeringClose.linger)
        #expect(!connection.channel.isActive)
    }

    @Test func violationAfterPendingCallsAnswersThemFirst() async throws {
        let connection = try await connect()
        try await connection.send(CallRequest(method: Self.slow))
        try await connection.sendRaw([0, 0, 0, 0])
        try await eventually("the slow call runs") { events.all == ["slow started"] }
        #expect(try await connection.writtenReply() == nil)
        #expect(connection.socket.closes == [])
        gate.open()
        #expect(try await connection.nextReply() == CallReply(parameters: ["call": "slow"]))
        #expect(try await connection.nextReply().error == .invalidMessage)
        #expect(connection.socket.closes == [.output])
    }

    @Test func closingTheConnectionCancelsARunningCall() async throws {
        let connection = try await connect()
        try await connection.send(CallRequest(method: Self.hang))
        try await eventually("the call runs") { events.all == ["hang started"] }
        try await connection.channel.close().get()
        try await eventually("the call is cancelled") { events.all == ["hang started", "hang cancelled"] }
    }

    @Test func streamingCallWithMoreGetsContinuedRepliesThenTheResult() async throws {
        let connection = try await connect()
        try await connection.send(CallRequest(method: Self.stream, more: true))
        #expect(try await connection.nextReply() == CallReply(parameters: ["event": "started"], continues: true))
        #expect(
            try await connection.nextReply()
                == CallReply(parameters: ["event": "file", "path": "src/App.jsx"], continues: true))
        #expect(try await connection.nextReply() == CallReply(parameters: ["done": true]))
    }

    @Test func streamingCallWithoutMoreGetsOnlyTheResult() async throws {
        let connection = try await connect()
        try await connection.send(
            CallRequest(method: Self.stream), CallRequest(method: Self.echo, parameters: ["text": "after"]))
        #expect(try await connection.nextReply() == CallReply(parameters: ["done": true]))
        #expect(try await connection.nextReply() == CallReply(parameters: ["text": "after"]))
    }

    @Test func wireErrorThrownByAMethodIsTheReply() async throws {
        let connection = try await connect()
        try await connection.send(CallRequest(method: Self.fail, parameters: ["wire": true]))
        let error = try #require(try await connection.nextReply().wireError)
        #expect(error == WireError(.conflict, "wrong state", ["reason": "terminal"]))
    }

    @Test func otherErrorsBecomeInternalWithAReference() async throws {
        let connection = try await connect()
        try await connection.send(CallRequest(method: Self.fail))
        let error = try #require(try await connection.nextReply().wireError)
        #expect(error.name == .internal)
        #expect(error.details["reference"]?.stringValue?.isEmpty == false)
        #expect(!error.message.contains("NotAWireError"))
    }

    @Test func drainingRefusesNewCallsAndClosesWhenTheLastCallAnswers() async throws {
        let connection = try await connect()
        try await connection.send(CallRequest(method: Self.slow))
        try await eventually("the slow call runs") { events.all == ["slow started"] }
        connection.channel.pipeline.fireUserInboundEventTriggered(DrainConnectionEvent())
        try await connection.send(CallRequest(method: Self.echo, parameters: ["text": "late"]))
        #expect(connection.socket.closes == [])
        gate.open()
        #expect(try await connection.nextReply() == CallReply(parameters: ["call": "slow"]))
        let refusal = try #require(try await connection.nextReply().wireError)
        #expect(refusal.name == .unavailable)
        try await eventually("the connection closes") { !connection.channel.isActive }
        #expect(connection.socket.closes == [.all])
    }
}
