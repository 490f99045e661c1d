import Foundation
import Glibc
import Protocol
import Testing
import VectortTesting

@Suite("VectortClient reports typed errors", .serialized)
struct VectortClientErrorTests {
    static func connectError(
        _ path: String, timeout: Double? = 10, handshake: Bool = true
    ) async -> VectortClientError? {
        await #expect(throws: VectortClientError.self) {
            _ = try await AsyncVectortClient.connect(socketPath: path, timeout: timeout, handshake: handshake)
        }
    }

    @Test func missingSocketMeansNotRunning() async throws {
        let directory = try TemporaryDirectory(prefix: "vt")
        let path = directory.file("vectortd.sock")
        let error = await Self.connectError(path)
        #expect(error == .notRunning(path: path, reason: String(cString: strerror(ENOENT))))
    }

    @Test func socketFileWithoutListenerMeansNotRunning() async throws {
        let directory = try TemporaryDirectory(prefix: "vt")
        let path = directory.file("vectortd.sock")
        let fd = try bindUnixSocket(path: path)
        defer {
            close(fd)
            unlink(path)
        }
        let error = await Self.connectError(path)
        #expect(error == .notRunning(path: path, reason: String(cString: strerror(ECONNREFUSED))))
    }

    @Test(.enabled(if: getuid() != 0, "root ignores directory permissions"))
    func socketInAnUnreadableDirectoryMeansPermissionDenied() async throws {
        let directory = try TemporaryDirectory(prefix: "vt")
        let path = directory.file("vectortd.sock")
        let fd = try bindUnixSocket(path: path)
        #expect(listen(fd, 1) == 0)
        chmod(directory.path, 0)
        defer {
            chmod(directory.path, 0o700)
            close(fd)
            unlink(path)
        }
        let error = await Self.connectError(path)
        #expect(error == .permissionDenied(path: path, reason: String(cString: strerror(EACCES))))
    }

    @Test func overlongPathIsAnIOErrorNotACrash() async {
        let path = "/tmp/" + String(repeating: "x", count: 200) + ".sock"
        let error = await Self.connectError(path)
        guard let error, error.code == .io, let detail = error.detailText else {
            Issue.record("expected .io, got \(String(describing: error))")
            return
        }
        #expect(detail.contains("longer than"))
    }

    @Test func handshakeWithAnotherProtocolVersionIsAMismatch() async throws {
        let daemon = try ScriptedDaemon { connection in
            let request = try connection.readRequest()
            guard request.method == MethodName.getInfo else {
                throw ScriptedDaemon.ScriptError(description: "handshake called \(request.method)")
            }
            try connection.write(.success(ServiceInfo.sample(protocol: 2)))
            try connection.waitForClose()
        }
        let error = await Self.connectError(daemon.path)
        #expect(error == .protocolMismatch(client: 1, server: 2))
        #expect(await daemon.finish() == [])
    }

    @Test func handshakeWithTheSameVersionConnects() async throws {
        let daemon = try ScriptedDaemon { connection in
            let request = try connection.readRequest()
            guard request == CallRequest(method: MethodName.getInfo, parameters: [:]) else {
                throw ScriptedDaemon.ScriptError(description: "unexpected handshake \(request)")
            }
            try connection.write(.success(ServiceInfo.sample()))
            try connection.waitForClose()
        }
        let client = try await AsyncVectortClient.connect(socketPath: daemon.path)
        #expect(client.socketPath == daemon.path)
        client.close()
        #expect(await daemon.finish() == [])
    }

    @Test func errorReplyBeforeCloseIsRemoteWithItsName() async throws {
        let refusal = WireError.unavailable("vectortd is shutting down", retryAfterSeconds: 5)
        let daemon = try ScriptedDaemon { connection in
            _ = try connection.readRequest()
            try connection.write(CallReply(error: refusal))
        }
        let error = await Self.connectError(daemon.path)
        #expect(error == .remote(refusal))
        #expect(await daemon.finish() == [])
    }

    @Test func roleRefusalSentBeforeAnyRequestIsPermissionDenied() async throws {
        let refusal = WireError(
            .permissionDenied, "uid 1000 may not use vectortd", ["method": "", "required_role": "client"])
        let daemon = try ScriptedDaemon { connection in
            try connection.write(CallReply(error: refusal))
        }
        let error = await Self.connectError(daemon.path)
        #expect(error == .permissionDenied(path: daemon.path, reason: "uid 1000 may not use vectortd"))
        #expect(await daemon.finish() == [])
    }

    @Test func daemonThatNeverAnswersTimesOut() async throws {
        let daemon = try ScriptedDaemon { connection in
            _ = try connection.readRequest()
            try connection.waitForClose()
        }
        let started = ContinuousClock.now
        let error = await Self.connectError(daemon.path, timeout: 0.3)
        #expect(error == .timeout(seconds: 0.3))
        #expect(ContinuousClock.now - started >= .milliseconds(300))
        #expect(await daemon.finish() == [])
    }

    @Test func perCallTimeoutIsTheOneReported() async throws {
        let daemon = try ScriptedDaemon { connection in
            _ = try connection.readRequest()
            try connection.waitForClose()
        }
        let client = try await AsyncVectortClient.connect(socketPath: daemon.path, timeout: 10, handshake: false)
        let error = await #expect(throws: VectortClientError.self) {
            _ = try await client.call(MethodName.ping, timeout: 0.2)
        }
        #expect(error == .timeout(seconds: 0.2))
        client.close()
        #expect(await daemon.finish() == [])
    }

    @Test func closeWithoutReplyIsConnectionClosed() async throws {
        let daemon = try ScriptedDaemon { connection in
            _ = try connection.readRequest()
        }
        let error = await Self.connectError(daemon.path)
        #expect(error == .connectionClosed)
        #expect(await daemon.finish() == [])
    }

    @Test func replyThatIsNotJSONIsAnInvalidReply() async throws {
        let daemon = try ScriptedDaemon { connection in
            _ = try connection.readRequest()
            try connection.writeFrame(Array("not json".utf8))
            try connection.waitForClose()
        }
        let client = try await AsyncVectortClient.connect(socketPath: daemon.path, handshake: false)
        let error = await #expect(throws: VectortClientError.self) { _ = try await client.call(MethodName.ping) }
        guard error?.code == .invalidReply else {
            Issue.record("expected .invalidReply, got \(String(describing: error))")
            return
        }
        client.close()
        #expect(await daemon.finish() == [])
    }

    @Test func replyFrameAboveTheClientLimitIsAnInvalidReply() async throws {
        let daemon = try ScriptedDaemon { connection in
            _ = try connection.readRequest()
            try connection.writeFrame(Array(repeating: 0x20, count: 2048) + Array("{}".utf8))
            try connection.waitForClose()
        }
        let client = try await AsyncVectortClient.connect(socketPath: daemon.path, handshake: false, maxMessageBytes: 1024)
        let error = await #expect(throws: VectortClientError.self) { _ = try await client.call(MethodName.ping) }
        guard error?.code == .invalidReply else {
            Issue.record("expected .invalidReply, got \(String(describing: error))")
            return
        }
        client.close()
        #expect(await daemon.finish() == [])
    }
}
