import NIOCore
import NIOEmbedded
import Protocol
import Testing

@testable import VectortDaemon

@Suite("ControlConnectionHandler stops reading while too many calls are in flight", .timeLimit(.minutes(1)))
struct ControlBackpressureTests {
    static let slow = "io.vectort.Test.Slow"
    static let limit = 2

    let gate = Gate()
    let events = EventLog()

    func connect() async throws -> ControlConnectionHarness {
        var table = MethodTable()
        table.register(
            MethodDescriptor(method: Self.slow, role: .client, summary: "Answers when the gate opens."),
            .async { [gate, events] _, _, _ in
                events.record("started")
                await gate.wait()
                return PingResult()
            })
        return try await ControlConnectionHarness.make(methods: table, role: .client, maxPipelinedCalls: Self.limit)
    }

    /// Asks the pipeline for a socket read, as the event loop does after each read burst.
    func requestRead(_ connection: ControlConnectionHarness) async {
        connection.channel.pipeline.read()
        await connection.channel.testingEventLoop.run()
    }

    @Test func readsContinueBelowTheLimit() async throws {
        let connection = try await connect()
        try await connection.send(CallRequest(method: Self.slow))
        await requestRead(connection)
        #expect(connection.socket.reads == 1)
    }

    @Test func readsPauseAtTheLimitAndResumeWhenARepliesGoOut() async throws {
        let connection = try await connect()
        try await connection.send(CallRequest(method: Self.slow), CallRequest(method: Self.slow))
        await requestRead(connection)
        #expect(connection.socket.reads == 0)
        try await eventually("both calls run") { events.all.count == 2 }
        gate.open()
        _ = try await connection.nextReply()
        _ = try await connection.nextReply()
        try await eventually("reading resumes") { connection.socket.reads == 1 }
    }

    @Test func onewayCallsStillRunningCountTowardsTheLimit() async throws {
        let connection = try await connect()
        try await connection.send(
            CallRequest(method: Self.slow, oneway: true), CallRequest(method: Self.slow, oneway: true))
        try await eventually("both calls run") { events.all.count == 2 }
        await requestRead(connection)
        #expect(connection.socket.reads == 0)
        gate.open()
        try await eventually("reading resumes once they finish") { connection.socket.reads == 1 }
    }
}
