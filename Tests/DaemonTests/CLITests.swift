import Foundation
import Protocol
import Testing
import VectortTesting

extension DaemonSuite {
    @Suite("vectortctl against a real daemon")
    struct CLITests {
        private func ctl(_ arguments: [String], socket: String? = nil) async throws -> CommandResult {
            var environment = ["PATH": "/usr/bin:/bin"]
            if let socket { environment["VECTORTD_SOCKET"] = socket }
            return try await runCommand(Binaries.vectortctl, arguments, environment: environment)
        }

        @Test func statusOfAHealthyDaemonExitsZero() async throws {
            let daemon = try await DaemonProcess()
            _ = try await daemon.connect()
            let table = try await ctl(["status"], socket: daemon.socketPath)
            #expect(table.status == 0, "stderr: \(table.stderr)")
            #expect(table.stdout.contains("vectortd \(vectortVersion) (protocol 1)"))
            #expect(table.stdout.contains("database"))
            let json = try await ctl(["status", "--json"], socket: daemon.socketPath)
            #expect(json.status == 0)
            let value = try JSONDecoder().decode(JSONValue.self, from: Data(json.stdout.utf8))
            #expect(value["health"]?["status"] == "ok")
            #expect(value["info"]?["listeners"]?["control"] == .string(daemon.socketPath))
        }

        @Test func daemonNotRunningExitsThreeWithAHelpfulMessage() async throws {
            let directory = try TemporaryDirectory(prefix: "vtc")
            let path = directory.file("absent.sock")
            let result = try await ctl(["status", "--socket", path])
            #expect(result.status == 3)
            #expect(result.stderr.contains("vectortd is not running (socket \(path)"))
            #expect(result.stderr.contains("systemctl start vectortd"))
            let json = try await ctl(["ping", "--socket", path, "--json"])
            #expect(json.status == 3)
            #expect(json.stdout.isEmpty)
            let error = try JSONDecoder().decode(JSONValue.self, from: Data(json.stderr.utf8))
            #expect(error["error"] == "not_running")
        }

        @Test func statusWaitGivesUpWithTheNotRunningCode() async throws {
            let directory = try TemporaryDirectory(prefix: "vtw")
            let start = Date()
            let result = try await ctl(["status", "--wait", "0.5", "--socket", directory.file("none.sock")])
            #expect(result.status == 3)
            #expect(Date().timeIntervalSince(start) >= 0.5)
        }

        @Test func daemonErrorsExitTwoAndUsageErrorsSixtyFour() async throws {
            let daemon = try await DaemonProcess()
            _ = try await daemon.connect()
            let unknown = try await ctl(["call", "io.vectort.Nope.Nothing", "--json"], socket: daemon.socketPath)
            #expect(unknown.status == 2)
            let error = try JSONDecoder().decode(JSONValue.self, from: Data(unknown.stderr.utf8))
            #expect(error["error"] == "io.vectort.MethodNotFound")
            #expect(try await ctl(["call", "Ping"], socket: daemon.socketPath).status == 64)
            #expect(try await ctl(["call", "io.vectort.Service.Ping", "[1]"], socket: daemon.socketPath).status == 64)
            #expect(try await ctl(["status", "--timeout", "-1"], socket: daemon.socketPath).status == 64)
            #expect(try await ctl(["no-such-command"], socket: daemon.socketPath).status == 64)
        }

        @Test func callPingDescribeAndReload() async throws {
            let daemon = try await DaemonProcess()
            _ = try await daemon.connect()
            let call = try await ctl(["call", "io.vectort.Service.GetInfo", "{}"], socket: daemon.socketPath)
            #expect(call.status == 0)
            #expect(try JSONDecoder().decode(JSONValue.self, from: Data(call.stdout.utf8))["product"] == "vectortd")
            let ping = try await ctl(["ping"], socket: daemon.socketPath)
            #expect(ping.status == 0)
            #expect(ping.stdout.hasPrefix("pong from \(daemon.socketPath)"))
            let describe = try await ctl(["describe", "--json"], socket: daemon.socketPath)
            let description = try JSONDecoder().decode(ServiceDescription.self, from: Data(describe.stdout.utf8))
            #expect(description.methods.map(\.method) == description.methods.map(\.method).sorted())
            #expect(description.methods.contains { $0.method == MethodName.reload && $0.role == .admin })
            let reload = try await ctl(["reload", "--wait"], socket: daemon.socketPath)
            #expect(reload.status == 0)
            #expect(reload.stdout.contains("reloaded"))
            let notify = try #require(daemon.notify)
            #expect(await notify.waitFor("RELOADING", "1") != nil)
        }

        @Test func completionScriptsForEveryShell() async throws {
            for shell in ["bash", "zsh", "fish"] {
                let result = try await ctl(["--generate-completion-script", shell])
                #expect(result.status == 0)
                #expect(result.stdout.contains("vectortctl"))
                #expect(result.stdout.contains("reload"))
            }
        }

        @Test func helpDocumentsTheExitCodes() async throws {
            let help = try await ctl(["--help"])
            #expect(help.status == 0)
            for text in ["3 vectortd not reachable", "4 permission denied", "64 usage"] {
                #expect(help.stdout.replacingOccurrences(of: "\n", with: " ").contains(text), "missing: \(text)")
            }
        }
    }
}

extension DaemonSuite.CLITests {
    @Test func reloadWithoutWaitStillReloads() async throws {
        let daemon = try await DaemonProcess()
        _ = try await daemon.connect()
        let notify = try #require(daemon.notify)
        let before = notify.messages.count
        let result = try await runCommand(
            Binaries.vectortctl, ["reload", "--socket", daemon.socketPath], environment: ["PATH": "/usr/bin:/bin"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("reload requested"))
        let reloading = try #require(await notify.waitFor("RELOADING", "1", after: before))
        _ = reloading
        #expect(await notify.waitFor("READY", "1", after: before + 1) != nil)
    }
}

extension DaemonSuite.CLITests {
    @Test func globalOptionsMayComeBeforeTheCommand() async throws {
        let daemon = try await DaemonProcess()
        _ = try await daemon.connect()
        let result = try await runCommand(
            Binaries.vectortctl, ["--socket", daemon.socketPath, "--json", "--timeout", "5", "ping"],
            environment: ["PATH": "/usr/bin:/bin"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(try JSONDecoder().decode(JSONValue.self, from: Data(result.stdout.utf8))["ok"] == true)
    }
}
