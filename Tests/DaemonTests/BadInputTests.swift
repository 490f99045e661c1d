import Foundation
import Protocol
import Testing
import VectortTesting

#if canImport(Glibc)
import Glibc
#endif

extension DaemonSuite {
    @Suite("Bad input never crashes the daemon")
    struct BadInputTests {
        private func header(_ length: UInt32) -> [UInt8] {
            var bytes: [UInt8] = []
            Framing.appendHeader(length, to: &bytes)
            return bytes
        }

        @Test func hugeAnnouncedLengthIsRefusedWithoutReadingThePayload() async throws {
            let daemon = try await DaemonProcess()
            let client = try await daemon.connect()
            try await client.sendRaw(header(UInt32.max) + Array(repeating: 0x41, count: 4096))
            let reply = try await client.receive()
            #expect(reply.error == .messageTooLarge)
            #expect(reply.parameters?["limit"] == .int(Int64(Framing.defaultMaxMessageBytes)))
            await #expect(throws: VectortClientError.connectionClosed) { _ = try await client.receive() }
            let other = try await daemon.connect()
            _ = try await other.call(MethodName.ping)
        }

        @Test func configuredLimitApplies() async throws {
            var options = DaemonProcess.Options()
            options.config = "control:\n  max_message_bytes: 2048\n"
            let daemon = try await DaemonProcess(options)
            let client = try await daemon.connect()
            let big = "{\"method\":\"io.vectort.Service.Ping\",\"parameters\":{},\"pad\":\"\(String(repeating: "x", count: 3000))\"}"
            try await client.sendFrame(Array(big.utf8))
            let reply = try await client.receive()
            #expect(reply.error == .messageTooLarge)
            #expect(reply.parameters?["limit"] == .int(2048))
        }

        @Test func zeroLengthFrameIsInvalidAndClosesTheConnection() async throws {
            let daemon = try await DaemonProcess()
            let client = try await daemon.connect()
            try await client.sendRaw(header(0))
            let reply = try await client.receive()
            #expect(reply.error == .invalidMessage)
            await #expect(throws: VectortClientError.connectionClosed) { _ = try await client.receive() }
        }

        @Test func malformedPayloadsKeepTheConnection() async throws {
            let daemon = try await DaemonProcess()
            let client = try await daemon.connect()
            let payloads: [(String, ErrorName)] = [
                ("not json", .invalidMessage),
                ("[1,2,3]", .invalidMessage),
                ("\"text\"", .invalidMessage),
                ("{}", .invalidMessage),
                ("{\"method\": 42}", .invalidMessage),
                ("{\"method\": \"io.vectort.Service.Ping\", \"parameters\": [1]}", .invalidMessage),
                ("{\"method\": \"io.vectort.Service.Ping\", \"more\": \"yes\"}", .invalidMessage),
                ("{\"method\": \"io.vectort.Nope.Nothing\"}", .methodNotFound),
                ("{\"method\": \"io.vectort.Service.Ping\", \"parameters\": {\"verbose\": true}}", .invalidParameter),
                ("{\"method\": \"io.vectort.Service.Ping\"", .invalidMessage),
                ("{\"method\": \"io.vectort.Service.Ping\", \"method\": \"io.vectort.Credits.Grant\"}", .invalidMessage),
                ("\u{FF}\u{FE}", .invalidMessage),
            ]
            for (payload, _) in payloads { try await client.sendFrame(Array(payload.utf8)) }
            for (payload, expected) in payloads {
                let reply = try await client.receive()
                #expect(reply.error == expected, "payload \(payload)")
            }
            _ = try await client.call(MethodName.ping)
        }

        @Test func unknownParameterIsNamed() async throws {
            let daemon = try await DaemonProcess()
            let client = try await daemon.connect()
            await #expect {
                _ = try await client.call(MethodName.getInfo, ["verbose": true])
            } throws: { error in
                guard let wire = (error as? VectortClientError)?.remoteError else { return false }
                return wire.name == .invalidParameter && wire.details["parameter"] == "verbose"
            }
        }

        @Test func pipelinedRepliesComeBackInCallOrder() async throws {
            let daemon = try await DaemonProcess()
            let client = try await daemon.connect()
            let methods = (0..<200).map { i in
                [MethodName.getHealth, MethodName.ping, MethodName.getInfo, "io.vectort.X.Y"][i % 4]
            }
            for method in methods { try await client.send(CallRequest(method: method)) }
            for (i, method) in methods.enumerated() {
                let reply = try await client.receive()
                switch method {
                case MethodName.getHealth: #expect(reply.parameters?["checks"] != nil, "reply \(i)")
                case MethodName.ping: #expect(reply.parameters == [:], "reply \(i)")
                case MethodName.getInfo: #expect(reply.parameters?["product"] == "vectortd", "reply \(i)")
                default: #expect(reply.error == .methodNotFound, "reply \(i)")
                }
            }
        }

        @Test func onewayCallsGetNoReply() async throws {
            let daemon = try await DaemonProcess()
            let client = try await daemon.connect()
            try await client.send(CallRequest(method: MethodName.ping, oneway: true))
            try await client.send(CallRequest(method: "io.vectort.Unknown.Method", oneway: true))
            try await client.send(CallRequest(method: MethodName.getInfo))
            let reply = try await client.receive()
            #expect(reply.parameters?["product"] == "vectortd")
        }

        @Test func halfFrameThenDisconnectAndHalfCloseAreSurvived() async throws {
            let daemon = try await DaemonProcess()
            do {
                let client = try await daemon.connect()
                try await client.sendRaw(header(100) + Array("{\"meth".utf8))
                client.close()
            }
            do {
                let client = try await daemon.connect()
                try await client.sendRaw(header(100))
                shutdownWrite(client)
            }
            let client = try await daemon.connect()
            _ = try await client.call(MethodName.ping)
            #expect(daemon.process.isRunning)
        }

        @Test func aClientThatNeverReadsDoesNotStallOthers() async throws {
            let daemon = try await DaemonProcess()
            let greedy = try await daemon.connect()
            greedy.timeout = 1
            let request = Framing.frame(Array("{\"method\":\"io.vectort.Service.Describe\"}".utf8))
            // Far more replies than socket buffers hold; the server must stop reading this client
            // instead of buffering without bound, and keep serving everyone else.
            var sent = 0
            for _ in 0..<20000 {
                do {
                    try await greedy.sendRaw(request)
                    sent += 1
                } catch { break }
            }
            #expect(sent > 0)
            let other = try await daemon.connect()
            for _ in 0..<10 { _ = try await other.call(MethodName.ping) }
            #expect(daemon.process.isRunning)
        }

        @Test func connectionsAboveTheLimitAreRefusedAsUnavailable() async throws {
            var options = DaemonProcess.Options()
            options.config = "control:\n  max_connections: 3\n"
            let daemon = try await DaemonProcess(options)
            var held: [AsyncVectortClient] = []
            for _ in 0..<3 { held.append(try await daemon.connect()) }
            await #expect {
                _ = try await AsyncVectortClient.connect(socketPath: daemon.socketPath, timeout: 5)
            } throws: { error in
                guard let wire = (error as? VectortClientError)?.remoteError else { return false }
                return wire.name == .unavailable
            }
            held.removeLast().close()
            try await Task.sleep(for: .milliseconds(200))
            let again = try await daemon.connect()
            _ = try await again.call(MethodName.ping)
        }

        private func shutdownWrite(_ client: AsyncVectortClient) {
            // The client does not expose its fd; a second connection that half-closes stands in.
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            _ = UnixSocketAddress(path: client.socketPath)?.connect(fd)
            let partial: [UInt8] = [0, 0, 0, 50, UInt8(ascii: "{")]
            _ = partial.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            shutdown(fd, Int32(SHUT_WR))
            var buffer = [UInt8](repeating: 0, count: 64)
            _ = read(fd, &buffer, 64)
            close(fd)
        }
    }
}
