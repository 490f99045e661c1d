import Foundation
import Protocol
import Testing
import VectortTesting

/// `vectortctl generate --timeout` relies on these: the timeout of a streamed call bounds the
/// whole stream, and a stream that ends without its final reply is reported, not waited on.
@Suite("VectortClient stream deadlines", .serialized)
struct VectortClientStreamDeadlineTests {
    @Test func timeoutBoundsTheWholeStreamEvenWhileRepliesKeepComing() async throws {
        let daemon = try ScriptedDaemon { connection in
            _ = try connection.readRequest()
            // Far more than the timeout in total, though each reply comes well within it.
            for _ in 0..<40 {
                guard (try? connection.write(CallReply(parameters: ["event": "attempt"], continues: true))) != nil else {
                    return
                }
                Thread.sleep(forTimeInterval: 0.1)
            }
        }
        let client = try await AsyncVectortClient.connect(socketPath: daemon.path, handshake: false)
        var streamed = 0
        let start = ContinuousClock.now
        let error = await #expect(throws: VectortClientError.self) {
            _ = try await client.callStreaming("io.vectort.Projects.Generate", timeout: 1) { _ in streamed += 1 }
        }
        #expect(error == .timeout(seconds: 1))
        // The replies kept coming for the whole second; the deadline still ended the call.
        #expect(ContinuousClock.now - start < .seconds(15))
        #expect(streamed >= 1)
        client.close()
        #expect(await daemon.finish() == [])
    }

    @Test func streamCutOffBeforeItsFinalReplyIsAClosedConnection() async throws {
        let daemon = try ScriptedDaemon { connection in
            _ = try connection.readRequest()
            try connection.write(CallReply(parameters: ["event": "started"], continues: true))
        }
        let client = try await AsyncVectortClient.connect(socketPath: daemon.path, handshake: false)
        var streamed = 0
        let error = await #expect(throws: VectortClientError.self) {
            _ = try await client.callStreaming("io.vectort.Projects.Generate", timeout: 5) { _ in streamed += 1 }
        }
        #expect(error == .connectionClosed)
        #expect(streamed == 1)
        #expect(await daemon.finish() == [])
    }
}
