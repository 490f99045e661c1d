import Foundation
import Protocol
import Testing
import VectortTesting

#if canImport(Glibc)
import Glibc
#endif

/// The daemon runs in a private mount namespace where /run/systemd is a temporary directory
/// holding a fake journal socket, so libsystemd's `sd_journal_sendv` talks to the test.
extension DaemonSuite {
    @Suite("journald native logging", .enabled(if: getuid() == 0 && FileManager.default.fileExists(atPath: "/usr/bin/unshare")))
    struct JournalTests {
        @Test func entriesCarryValidFieldsAndMultiLineValuesUseTheBinaryForm() async throws {
            let directory = try TemporaryDirectory(prefix: "vtj")
            let runSystemd = directory.file("run-systemd")
            try FileManager.default.createDirectory(atPath: runSystemd + "/journal", withIntermediateDirectories: true)
            let journal = try FakeJournal(path: runSystemd + "/journal/socket")
            defer { journal.stop() }

            let vercel = try await FakeVercel.start()
            defer { Task { await vercel.shutdown() } }
            var options = DeployDaemonTests.options(vercel)
            options.environment["VECTORTD_LOG_TARGET"] = "journal"
            options.config = (options.config ?? "") + "log:\n  level: info\n"
            options.wrapper = [
                "/usr/bin/unshare", "-m", "--propagation", "private", "/bin/sh", "-c",
                "mount --bind \"\(runSystemd)\" /run/systemd && exec \"$0\" \"$@\"",
            ]
            let daemon = try await DaemonProcess(options, in: directory)
            let client = try await daemon.connect()

            let serving = try #require(
                await journal.waitFor { $0["MESSAGE"] == "serving the control socket" }, "output: \(daemon.output)")
            #expect(serving["PRIORITY"] == "6")
            #expect(serving["SYSLOG_IDENTIFIER"] == "vectortd")
            #expect(serving["VECTORT_SOCKET"] == daemon.socketPath)
            #expect(serving["CODE_FILE"]?.hasSuffix(".swift") == true)
            #expect(serving["CODE_LINE"].flatMap(Int.init) != nil)
            #expect(serving["CODE_FUNC"] != nil)

            // A deployment's events carry its id, project and platform as fields.
            let (user, project) = try await DeployDaemonTests.generatedProject(client, email: "journal@example.com")
            let job = try await client.call(
                MethodName.deploymentsStart, ["user": .string(user), "project": .string(project), "platform": "vercel"])
            let queued = try #require(await journal.waitFor { $0["MESSAGE"] == "deployment queued" })
            #expect(queued["VECTORT_DEPLOYMENT"] == job["id"]?.stringValue)
            #expect(queued["VECTORT_PROJECT"] == project)
            #expect(queued["VECTORT_PLATFORM"] == "vercel")

            // A YAML syntax error: its description spans lines, so the field must be binary-framed.
            try daemon.directory.write("vectortd.yaml", "log:\n  level: [unclosed\n")
            await #expect(throws: VectortClientError.self) { _ = try await client.call(MethodName.reload) }
            let failed = try #require(await journal.waitFor { $0["MESSAGE"]?.hasPrefix("reload failed") == true })
            #expect(failed["PRIORITY"] == "3")
            let error = try #require(failed["VECTORT_ERROR"])
            #expect(error.contains("\n"))
            #expect(failed.binaryFields.contains("VECTORT_ERROR"))

            let valid = /^[A-Z][A-Z0-9_]{0,63}$/
            for entry in journal.entries {
                for name in entry.names {
                    #expect(name.wholeMatch(of: valid) != nil, "journald would drop field \(name)")
                }
            }
            #expect(journal.parseFailures.isEmpty)
            #expect(!daemon.output.contains("serving the control socket"), "logs go to the journal, not stderr")
        }

        @Test func withoutJournalTheLogIsReadableLinesOnStderr() async throws {
            let daemon = try await DaemonProcess()
            _ = try await daemon.connect()
            let output = daemon.output
            let line = try #require(output.split(separator: "\n").first { $0.contains("serving the control socket") })
            #expect(line.contains(" info "))
            #expect(line.contains("socket=\(daemon.socketPath)"))
        }
    }
}
