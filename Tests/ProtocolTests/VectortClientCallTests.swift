import Foundation
import Protocol
import Testing
import VectortTesting

@Suite("VectortClient calls, streams and pipelines", .serialized)
struct VectortClientCallTests {
    @Test func callSendsParametersAndReturnsReplyParameters() async throws {
        let daemon = try ScriptedDaemon { connection in
            let request = try connection.readRequest()
            guard request.method == "io.vectort.Credits.GetBalance", request.parameters == ["user": "u_1"],
                request.more == nil, request.oneway == nil
            else {
                throw ScriptedDaemon.ScriptError(description: "unexpected request \(request)")
            }
            try connection.write(CallReply(parameters: ["user": "u_1", "total": 10]))
            try connection.waitForClose()
        }
        let client = try await AsyncVectortClient.connect(socketPath: daemon.path, handshake: false)
        let result = try await client.call("io.vectort.Credits.GetBalance", ["user": "u_1"])
        #expect(result == ["user": "u_1", "total": 10])
        client.close()
        #expect(await daemon.finish() == [])
    }

    @Test func callStreamingHandsOverContinuedRepliesThenReturnsTheFinalOne() async throws {
        let daemon = try ScriptedDaemon { connection in
            let request = try connection.readRequest()
            guard request.wantsMore else { throw ScriptedDaemon.ScriptError(description: "more was not set") }
            try connection.write(CallReply(parameters: ["event": "started"], continues: true))
            try connection.write(CallReply(parameters: ["event": "file", "path": "src/App.jsx"], continues: true))
            try connection.write(CallReply(parameters: ["generation": "g_1"]))
            try connection.waitForClose()
        }
        let client = try await AsyncVectortClient.connect(socketPath: daemon.path, handshake: false)
        var streamed: [CallReply] = []
        let final = try await client.callStreaming("io.vectort.Projects.Generate", ["project": "p_1"]) { streamed.append($0) }
        #expect(streamed.map(\.parameters) == [["event": "started"], ["event": "file", "path": "src/App.jsx"]])
        #expect(streamed.allSatisfy { $0.isContinued })
        #expect(final == ["generation": "g_1"])
        client.close()
        #expect(await daemon.finish() == [])
    }

    @Test func errorInTheMiddleOfAStreamEndsIt() async throws {
        let failure = WireError.unavailable("every provider failed")
        let daemon = try ScriptedDaemon { connection in
            _ = try connection.readRequest()
            try connection.write(CallReply(parameters: ["event": "started"], continues: true))
            try connection.write(CallReply(error: failure))
            try connection.waitForClose()
        }
        let client = try await AsyncVectortClient.connect(socketPath: daemon.path, handshake: false)
        var streamed = 0
        let error = await #expect(throws: VectortClientError.self) {
            _ = try await client.callStreaming("io.vectort.Projects.Generate") { _ in streamed += 1 }
        }
        #expect(error == .remote(failure))
        #expect(streamed == 1)
        client.close()
        #expect(await daemon.finish() == [])
    }

    @Test func pipelinedCallsAreAnsweredInOrder() async throws {
        let daemon = try ScriptedDaemon { connection in
            // Read all three before answering: the client must not wait for a reply between sends.
            let requests = try (0..<3).map { _ in try connection.readRequest() }
            for request in requests {
                try connection.write(CallReply(parameters: ["echo": .string(request.method)]))
            }
            try connection.waitForClose()
        }
        let client = try await AsyncVectortClient.connect(socketPath: daemon.path, handshake: false)
        let methods = ["io.vectort.Test.A", "io.vectort.Test.B", "io.vectort.Test.C"]
        for method in methods { try await client.send(CallRequest(method: method)) }
        var replies: [CallReply] = []
        for _ in methods { replies.append(try await client.receive()) }
        #expect(replies.map { $0.parameters?["echo"] } == methods.map { .string($0) })
        client.close()
        #expect(await daemon.finish() == [])
    }

    @Test func callAfterCloseIsConnectionClosed() async throws {
        let daemon = try ScriptedDaemon { connection in try connection.waitForClose() }
        let client = try await AsyncVectortClient.connect(socketPath: daemon.path, handshake: false)
        client.close()
        await #expect(throws: VectortClientError.connectionClosed) { _ = try await client.call(MethodName.ping) }
        #expect(await daemon.finish() == [])
    }
}
