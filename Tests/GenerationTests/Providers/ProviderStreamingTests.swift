import AsyncHTTPClient
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif
import VectortCore
import VectortTesting

@testable import Generation

/// Behaviour every network provider shares, each against the fake of its own API.
@Suite("Provider streaming")
struct ProviderStreamingTests {
    static let answerText = "Here is \"your\" app:\n<file path=\"index.html\">\n<h1>Hé 👋</h1>\n</file>\n\\done\t."

    @Test(arguments: networkKinds)
    func streamedAnswerReassemblesExactlyWithUsageAndStop(kind: ProviderKind) async throws {
        let result = try await outcome(
            kind, .answer(Self.answerText, chunkSize: 5, usage: FakeLLMUsage(inputTokens: 31, outputTokens: 17)))
        #expect(result.failure == nil)
        #expect(result.text == Self.answerText)
        #expect(result.texts.count > 5)
        #expect(result.finish == .stop)
        #expect(result.usage == TokenUsage(inputTokens: 31, outputTokens: 17))
        #expect(result.eventsAfterFinish == 0)
    }

    @Test(arguments: networkKinds)
    func outputLimitFinishIsLength(kind: ProviderKind) async throws {
        let result = try await outcome(kind, .answer("cut here", finishReason: nativeLengthReason(kind)))
        #expect(result.text == "cut here")
        #expect(result.finish == .length)
    }

    @Test(arguments: networkKinds)
    func unknownFinishReasonIsKeptVerbatim(kind: ProviderKind) async throws {
        let raw = kind == .gemini ? "SAFETY" : "content_filter"
        let result = try await outcome(kind, .answer("x", finishReason: raw))
        #expect(result.finish == .other(raw))
    }

    @Test(arguments: networkKinds)
    func pacedAnswerArrivesAsSeparateDeltas(kind: ProviderKind) async throws {
        let result = try await outcome(kind, .paced("abcdefghij", chunks: 5, interval: .milliseconds(20)))
        #expect(result.texts == ["ab", "cd", "ef", "gh", "ij"])
        #expect(result.finish == .stop)
    }

    @Test(arguments: networkKinds)
    func abruptCutMidStreamIsStreamCutNotAFinish(kind: ProviderKind) async throws {
        let result = try await outcome(kind, .cut(afterChunks: 3))
        #expect(result.finish == nil)
        #expect(result.failure?.kind == .streamCut)
        #expect(result.failure?.disposition == .retry)
        #expect(result.texts.count == 3)
    }

    @Test(arguments: networkKinds)
    func cleanEndWithoutTerminatorIsStreamCut(kind: ProviderKind) async throws {
        let result = try await outcome(kind, .cut(afterChunks: 2, cleanly: true))
        #expect(result.finish == nil)
        #expect(result.failure?.kind == .streamCut)
        #expect(result.failure?.disposition == .retry)
    }

    @Test(arguments: networkKinds)
    func overloadedInStreamErrorIsRetried(kind: ProviderKind) async throws {
        let result = try await outcome(kind, .inStreamError(afterChunks: 2))
        #expect(result.finish == nil)
        #expect(result.texts.count == 2)
        #expect(result.failure?.kind == .inStreamError)
        #expect(result.failure?.disposition == .retry)
    }

    @Test(arguments: networkKinds)
    func quotaErrorInsideTheStreamFallsBack(kind: ProviderKind) async throws {
        let result = try await outcome(kind, .inStreamError(afterChunks: 1, error: FakeLLMError(.insufficientQuota)))
        #expect(result.failure?.kind == .inStreamError)
        #expect(result.failure?.disposition == .fallback)
    }

    @Test(arguments: networkKinds)
    func malformedDataLineIsMalformedResponse(kind: ProviderKind) async throws {
        let result = try await outcome(kind, .malformed(afterChunks: 1))
        #expect(result.finish == nil)
        #expect(result.failure?.kind == .malformedResponse)
        #expect(result.failure?.disposition == .retry)
    }

    @Test(arguments: networkKinds)
    func stallBeforeFirstTokenTimesOutWithinTheFirstTokenTimeout(kind: ProviderKind) async throws {
        let clock = TestClock()
        let result = try await outcome(kind, timeouts: .fast, on: clock, .stall(beforeFirstToken: .seconds(60))) { _ in
            try await clock.advanceWhenAsleep(by: .milliseconds(249))
            try await clock.advanceWhenAsleep(by: .milliseconds(1))
        }
        #expect(result.failure?.kind == .firstTokenTimeout)
        #expect(result.failure?.disposition == .retry)
        #expect(result.texts.isEmpty)
        #expect(result.elapsed == .milliseconds(250))
    }

    @Test(arguments: networkKinds)
    func headersHeldBackCountAgainstTheFirstToken(kind: ProviderKind) async throws {
        let clock = TestClock()
        let script = FakeLLMScript.answer("late").delayingHeaders(by: .seconds(60))
        let result = try await outcome(kind, timeouts: .fast, on: clock, script) { _ in
            try await clock.advanceWhenAsleep(by: .milliseconds(250))
        }
        #expect(result.failure?.kind == .firstTokenTimeout)
        // The first-token clock ended it, not the 60 s the fake holds back.
        #expect(result.elapsed == .milliseconds(250))
    }

    @Test(arguments: networkKinds)
    func silenceBetweenChunksIsIdleTimeout(kind: ProviderKind) async throws {
        let timeouts = ProviderTimeouts(
            connect: .seconds(5), firstToken: .seconds(10), idle: .milliseconds(400), total: .seconds(30))
        let clock = TestClock()
        let result = try await outcome(kind, timeouts: timeouts, on: clock, .stall(afterChunks: 2, for: .seconds(60))) {
            texts in
            try await clock.advanceWhenAsleep(by: .milliseconds(400), once: texts, reach: 2)
        }
        #expect(result.failure?.kind == .idleTimeout)
        #expect(result.failure?.disposition == .retry)
        #expect(result.texts.count == 2)
        #expect(result.elapsed == .milliseconds(400))
    }

    @Test(arguments: networkKinds)
    func slowButSteadyStreamHitsTheTotalTimeout(kind: ProviderKind) async throws {
        let timeouts = ProviderTimeouts(
            connect: .seconds(5), firstToken: .seconds(20), idle: .seconds(20), total: .seconds(6))
        let clock = TestClock()
        // Text keeps coming (every gap well inside the idle clock) while six seconds pass.
        let script = FakeLLMScript.paced(String(repeating: "x", count: 600), chunks: 600, interval: .milliseconds(100))
        let result = try await outcome(kind, timeouts: timeouts, on: clock, script) { texts in
            try await clock.advanceWhenAsleep(by: .seconds(3), once: texts, reach: 1)
            try await clock.advanceWhenAsleep(by: .seconds(3), once: texts, reach: 2)
        }
        #expect(result.failure?.kind == .totalTimeout)
        #expect(result.texts.count >= 2)
        #expect(result.elapsed == .seconds(6))
    }

    @Test(arguments: networkKinds)
    func connectionResetBeforeHeadersIsARetriedConnectionFailure(kind: ProviderKind) async throws {
        let result = try await outcome(kind, .reset)
        #expect(result.failure?.kind == .connection)
        #expect(result.failure?.disposition == .retry)
    }

    @Test(arguments: networkKinds)
    func refusedConnectionIsARetriedConnectionFailure(kind: ProviderKind) async throws {
        // A port that is bound but never listens refuses every connection, and stays ours for
        // the test: a closed fake's port could be taken by a fake of a test running beside it.
        let refusing = try RefusingPort()
        defer { refusing.close() }
        let root = "http://127.0.0.1:\(refusing.port)"
        let baseURL = kind.fakeFlavour == .openai ? root + "/v1" : root
        let client = HTTPClient(configuration: ProviderClient.configuration(for: .relaxed))
        let provider = try #require(
            ProviderClient.provider(
                ProviderSettings(
                    name: "gone", kind: kind, model: kind.sampleModel, baseURL: baseURL, apiKey: testKey,
                    timeouts: .relaxed), httpClient: client))
        let result = await drive(provider)
        try await client.shutdown()
        #expect(result.failure?.kind == .connection)
        #expect(result.failure?.disposition == .retry)
    }

    @Test(arguments: networkKinds)
    func consumerCancellationClosesTheServerStream(kind: ProviderKind) async throws {
        try await withProvider(
            kind, scripts: [.paced(String(repeating: "y", count: 200), chunks: 200, interval: .milliseconds(20))]
        ) { server, provider in
            var received = 0
            for try await event in provider.stream(sampleRequest) {
                if case .text = event { received += 1 }
                if received == 3 { break }
            }
            let closed = await server.waitUntil { $0.clientDisconnects == 1 }
            #expect(closed)
            #expect(server.counters.completed == 0)
        }
    }

    @Test(arguments: networkKinds)
    func taskCancellationStopsAStalledCallPromptly(kind: ProviderKind) async throws {
        let timeouts = ProviderTimeouts(
            connect: .seconds(2), firstToken: .seconds(30), idle: .seconds(30), total: .seconds(60))
        try await withProvider(kind, timeouts: timeouts, scripts: [.stall(beforeFirstToken: .seconds(30))]) {
            server, provider in
            let call = Task { await drive(provider) }
            #expect(await server.waitUntil { $0.activeResponses == 1 })
            let start = ContinuousClock.now
            call.cancel()
            let result = await call.value
            // Well under the 30 s stall and first-token clock, with room for a loaded machine.
            #expect(ContinuousClock.now - start < .seconds(20))
            #expect(result.finish == nil)
            #expect(await server.waitUntil { $0.clientDisconnects == 1 })
        }
    }

    @Test(arguments: networkKinds)
    func keepAliveReusesOneConnectionForSequentialCalls(kind: ProviderKind) async throws {
        try await withProvider(kind) { server, provider in
            for _ in 0..<3 {
                let result = await drive(provider)
                #expect(result.finish == .stop)
            }
            #expect(server.callCount == 3)
            #expect(server.counters.acceptedConnections == 1)
        }
    }
}

/// A TCP socket bound to an ephemeral port of 127.0.0.1 without `listen`: connecting to it is refused.
private struct RefusingPort {
    let descriptor: Int32
    let port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EMFILE) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
                bind(fd, generic, length) == 0 && getsockname(fd, generic, &length) == 0
            }
        }
        guard bound else {
            Glibc.close(fd)
            throw POSIXError(.EADDRINUSE)
        }
        descriptor = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    func close() { Glibc.close(descriptor) }
}
