import Foundation
import Synchronization
import Protocol
import Testing
import VectortTesting

#if canImport(Glibc)
import Glibc
#endif

extension DaemonSuite {
    /// What a client that does not play by the rules can cost the daemon, measured on the real
    /// process.
    @Suite("Hostile clients: bounded memory per connection")
    struct HostileClientTests {
        /// The daemon's resident memory, from /proc.
        private static func residentBytes(_ pid: Int32) -> Int? {
            guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
            guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return nil }
            return line.split(separator: " ").dropFirst().first.flatMap { Int($0) }.map { $0 * 1024 }
        }

        @Test func pipelinedCallsWithLargeRepliesThatAreNeverReadDoNotGrowTheDaemon() async throws {
            let daemon = try await DaemonProcess()
            let admin = try await daemon.connect(callTimeout: 60)
            let user = try await admin.call(MethodName.usersCreate, ["email": "hoarder@example.com"])
            let project = try await admin.call(
                MethodName.projectsCreate, ["user": try #require(user["id"]), "title": "Big"])
            let projectID = try #require(project["id"]?.stringValue)
            let page = String(repeating: "<p>bytes that a reply carries</p>\n", count: 8 * 1024)  // 280 KB
            _ = try await admin.call(
                MethodName.projectsImportFiles, ["project": .string(projectID), "files": ["index.html": .string(page)]])
            let before = try #require(Self.residentBytes(daemon.pid))

            // 3,000 GetCode calls in one write, each answered with 280 KB, and no reply ever read:
            // unbounded, that is 840 MB of replies.
            let frame = Framing.frame(
                Array(#"{"method":"\#(MethodName.projectsGetCode)","parameters":{"project":"\#(projectID)"}}"#.utf8))
            var burst: [UInt8] = []
            for _ in 0..<3_000 { burst += frame }
            let hoarder = try await daemon.connect()
            hoarder.timeout = 2
            // The daemon stops reading: the write may not complete, which is the point.
            _ = try? await hoarder.sendRaw(burst)
            try await Task.sleep(for: .seconds(2))

            let after = try #require(Self.residentBytes(daemon.pid))
            #expect(after - before < 200 * 1024 * 1024, "grew from \(before) to \(after) bytes")
            // Everyone else is still served.
            _ = try await admin.call(MethodName.ping)
            #expect(daemon.isRunning)
        }

        @Test func callsQueuedByAConnectionThatClosedNeverRun() async throws {
            let daemon = try await DaemonProcess()
            let admin = try await daemon.connect()
            let user = try await admin.call(MethodName.usersCreate, ["email": "leaver@example.com"])
            let userID = try #require(user["id"]?.stringValue)
            // 500 pipelined grants behind a call that waits on the writer, then the client goes.
            var burst: [UInt8] = []
            for index in 0..<500 {
                burst += Framing.frame(
                    Array(
                        #"{"method":"\#(MethodName.creditsGrant)","parameters":{"user":"\#(userID)","amount":1,"reason":"r","idempotency_key":"k\#(index)"}}"#
                            .utf8))
            }
            let leaver = try await daemon.connect()
            try await leaver.sendRaw(burst)
            leaver.close()
            try await Task.sleep(for: .seconds(1))
            let balance = try await admin.call(MethodName.creditsGetBalance, ["user": .string(userID)])
            let total = try #require(balance["total"]?.intValue)
            // control.max_pipelined_calls (128) run at once; a few more start as those finish, until
            // the daemon sees the close. The rest never do.
            #expect(total < 10 + 250, "grants of the closed connection ran on (balance \(total))")
        }

        @Test func aStalledFrameGetsTimeoutAndPartlyReceivedFramesShareOneBudget() async throws {
            var options = DaemonProcess.Options()
            options.config = "control:\n  frame_timeout_seconds: 1\n  max_partial_frame_bytes: 1048576\n"
            let daemon = try await DaemonProcess(options)
            let probe = try await daemon.connect()
            // 900 KB announced, a few bytes sent, and then nothing.
            var header: [UInt8] = []
            Framing.appendHeader(900_000, to: &header)
            let stalled = try await daemon.connect()
            try await stalled.sendRaw(header + Array(#"{"method":"#.utf8))
            try await Task.sleep(for: .milliseconds(100))
            // A second one does not fit beside it in the daemon's 1 MiB budget.
            let second = try await daemon.connect()
            try await second.sendRaw(header + [0x7B])
            let refusal = try await second.receive(deadline: .now + .seconds(20))
            #expect(refusal.error == .unavailable)
            #expect(refusal.parameters?["message"]?.stringValue?.contains("max_partial_frame_bytes") == true)

            let timeout = try await stalled.receive(deadline: .now + .seconds(20))
            #expect(timeout.error == .timeout)
            #expect(timeout.parameters?["reason"] == "frame")
            await #expect(throws: VectortClientError.self) { _ = try await stalled.receive(deadline: .now + .seconds(20)) }
            // The stalled frame's share went back with its connection: the next one is taken.
            let third = try await daemon.connect()
            try await third.sendRaw(header + [0x7B])
            #expect(try await third.receive(deadline: .now + .seconds(20)).error == .timeout)
            _ = try await probe.call(MethodName.ping)
        }

        @Test func aMessageOnlyTheFullDecoderTakesDoesNotStallOtherClients() async throws {
            let daemon = try await DaemonProcess()
            // About 12 MB of fractions, which only Foundation's decoder reads: seconds of work.
            let payload = Array(
                (#"{"method":"\#(MethodName.ping)","parameters":{"x":["# + String(repeating: "1.5,", count: 3_000_000)
                    + "1.5]}}").utf8)
            // Probes on several connections, so that some share the heavy connection's event loop.
            var probes: [AsyncVectortClient] = []
            for _ in 0..<4 { probes.append(try await daemon.connect()) }
            let heavy = try await daemon.connect(callTimeout: 300)
            let done = DoneFlag()
            let started = ContinuousClock.now
            let answered = Task {
                try await heavy.sendFrame(payload)
                let reply = try await heavy.receive(deadline: .now + .seconds(300))
                done.set()
                return (reply, ContinuousClock.now - started)
            }
            let worst = try await withThrowingTaskGroup(of: Duration.self) { group in
                for probe in probes {
                    group.addTask {
                        var worst = Duration.zero
                        while !done.isSet {
                            let sent = ContinuousClock.now
                            _ = try await probe.call(MethodName.ping)
                            worst = max(worst, ContinuousClock.now - sent)
                            try await Task.sleep(for: .milliseconds(5))
                        }
                        return worst
                    }
                }
                return try await group.reduce(Duration.zero) { max($0, $1) }
            }
            let (reply, total) = try await answered.value
            #expect(reply.error == .invalidParameter, "Ping takes no parameter x")
            // On the event loop, the decode held every connection of that loop for all of it.
            #expect(worst < total / 2, "a probe waited \(worst) while the message took \(total)")
        }
    }
}

extension DaemonSuite {
    @Suite("The open-files limit")
    struct OpenFileLimitTests {
        @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/prlimit")))
        func theDaemonRaisesItsSoftLimitAndServesOnlyTheConnectionsItCanHold() async throws {
            var options = DaemonProcess.Options()
            // A soft limit of 100 under a hard one of 300: room for 300 - 256 = 44 connections.
            options.wrapper = ["/usr/bin/prlimit", "--nofile=100:300", "--"]
            options.config = "control:\n  max_connections: 1024\n"
            let daemon = try await DaemonProcess(options)
            var held: [AsyncVectortClient] = [try await daemon.connect()]
            let limits = try String(contentsOfFile: "/proc/\(daemon.pid)/limits", encoding: .utf8)
            let openFiles = try #require(limits.split(separator: "\n").first { $0.hasPrefix("Max open files") })
            #expect(openFiles.split(separator: " ", omittingEmptySubsequences: true).dropFirst(3).prefix(2) == ["300", "300"])
            #expect(daemon.output.contains("control.max_connections is above what the open-files limit allows"))

            for _ in 1..<44 { held.append(try await daemon.connect()) }
            // One more is refused with a reply, not left to a failing accept.
            await #expect {
                _ = try await AsyncVectortClient.connect(socketPath: daemon.socketPath, timeout: 5)
            } throws: { error in
                (error as? VectortClientError)?.remoteError?.name == .unavailable
            }
            let health = try await held[0].call(MethodName.getHealth)
            #expect(health["checks"]?["accept"]?["status"] == "ok")
        }
    }
}

/// Set once by one task, read by others.
private final class DoneFlag: Sendable {
    private let flag = Atomic<Bool>(false)

    var isSet: Bool { flag.load(ordering: .relaxed) }

    func set() { flag.store(true, ordering: .relaxed) }
}
