import CDispatch
import Foundation
import Protocol
import Testing
import VectortTesting

#if canImport(Glibc)
import Glibc
#endif

extension DaemonSuite {
    @Suite("Daemon lifecycle with systemd notifications")
    struct LifecycleTests {
        @Test func readyIsSentBeforeTheFirstCallIsAnswered() async throws {
            let daemon = try await DaemonProcess()
            let client = try await daemon.connect()
            let answeredAt = NotifySocket.realtimeNanoseconds()
            _ = try await client.call(MethodName.ping)
            let notify = try #require(daemon.notify)
            let ready = try #require(await notify.waitFor("READY", "1"))
            let readyAt = try #require(ready.kernelNanoseconds)
            #expect(readyAt <= answeredAt, "READY=1 reached the notify socket after a call was answered")
            #expect(ready["STATUS"]?.contains("serving on \(daemon.socketPath)") == true)
            #expect(notify.messages.contains { $0["STATUS"]?.hasPrefix("opening database") == true })
        }

        @Test func sigtermSendsStoppingAndExitsZero() async throws {
            let daemon = try await DaemonProcess()
            let notify = try #require(daemon.notify)
            _ = try #require(await notify.waitFor("READY", "1"))
            daemon.signal(SIGTERM)
            let status = await daemon.waitForExit(timeout: .seconds(30))
            #expect(status == 0, "output: \(daemon.output)")
            let stopping = try #require(await notify.waitFor("STOPPING", "1"))
            #expect(stopping["STATUS"] != nil)
            #expect(!FileManager.default.fileExists(atPath: daemon.socketPath), "the socket it bound is removed on exit")
        }

        @Test func sighupReloadsBetweenReloadingAndReady() async throws {
            let daemon = try await DaemonProcess()
            let notify = try #require(daemon.notify)
            _ = try #require(await notify.waitFor("READY", "1"))
            let before = notify.messages.count
            daemon.signal(SIGHUP)
            let reloading = try #require(await notify.waitFor("RELOADING", "1", after: before))
            let monotonic = try #require(reloading["MONOTONIC_USEC"].flatMap(UInt64.init))
            var now = timespec()
            clock_gettime(CLOCK_MONOTONIC, &now)
            #expect(monotonic <= UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1000)
            let index = notify.messages.count
            _ = try #require(await notify.waitFor("READY", "1", after: before + 1), "READY=1 after the reload")
            #expect(index >= before + 1)
            #expect(daemon.process.isRunning, "SIGHUP must not kill the daemon")
            let client = try await daemon.connect()
            _ = try await client.call(MethodName.ping)
        }

        @Test func watchdogPingsAtHalfTheInterval() async throws {
            var options = DaemonProcess.Options()
            options.environment["WATCHDOG_USEC"] = "200000"
            let daemon = try await DaemonProcess(options)
            let notify = try #require(daemon.notify)
            _ = try #require(await notify.waitFor("READY", "1"))
            try await Task.sleep(for: .seconds(1.5))
            let pings = notify.messages.filter { $0["WATCHDOG"] == "1" }
            // One ping each 100 ms: expect most of the 15, whatever the machine's load.
            #expect(pings.count >= 5, "only \(pings.count) watchdog pings in 1.5 s")
            #expect(pings.count <= 30)
        }

        @Test func noWatchdogPingsWhenTheWatchdogIsOff() async throws {
            let daemon = try await DaemonProcess()
            let notify = try #require(daemon.notify)
            _ = try #require(await notify.waitFor("READY", "1"))
            try await Task.sleep(for: .milliseconds(500))
            #expect(!notify.messages.contains { $0["WATCHDOG"] != nil })
        }

        @Test func reloadCallReportsChangedKeysAndAppliesThem() async throws {
            var options = DaemonProcess.Options()
            options.config = "control:\n  max_connections: 50\n"
            options.credentials["jwt-secret"] = "initial-jwt-secret-value-0123456789abcdef"
            let daemon = try await DaemonProcess(options)
            let client = try await daemon.connect()
            try daemon.directory.write("vectortd.yaml", "control:\n  max_connections: 60\nlog:\n  level: debug\n")
            try daemon.directory.write("credentials/github-token", "ghp_test_not_a_real_token")
            let result = try await client.call(MethodName.reload).decode(as: ReloadResult.self)
            #expect(result.changed.contains("control.max_connections"))
            #expect(result.changed.contains("log.level"))
            #expect(result.changed.contains("secret:github-token"))
            #expect(!result.changed.contains("secret:jwt-secret"))
            #expect(!result.changed.contains("control.admin_group"))
            #expect(!daemon.output.contains("ghp_test_not_a_real_token"), "a secret reached the log")
        }

        @Test func reloadWithAnInvalidFileKeepsTheRunningConfiguration() async throws {
            var options = DaemonProcess.Options()
            options.config = "shutdown:\n  grace_seconds: 5\n"
            let daemon = try await DaemonProcess(options)
            let client = try await daemon.connect()
            try daemon.directory.write("vectortd.yaml", "shutdown:\n  grace_seconds: soon\n")
            await #expect {
                _ = try await client.call(MethodName.reload)
            } throws: { error in
                guard let wire = (error as? VectortClientError)?.remoteError else { return false }
                return wire.name == .conflict && wire.message.contains("shutdown.grace_seconds")
            }
            _ = try await client.call(MethodName.ping)
            let notify = try #require(daemon.notify)
            let readies = notify.messages.filter { $0["READY"] == "1" }
            #expect(readies.count >= 2, "READY=1 follows even a failed reload")
        }

        @Test func healthReportsDatabaseControlLoopAndAccept() async throws {
            let daemon = try await DaemonProcess()
            let client = try await daemon.connect()
            let health = try await client.call(MethodName.getHealth).decode(as: HealthReport.self)
            #expect(health.status == .ok)
            #expect(Set(health.checks.keys) == ["database", "control", "accept"])
            let info = try await client.call(MethodName.getInfo).decode(as: ServiceInfo.self)
            #expect(info.product == "vectortd")
            #expect(info.protocol == 1)
            #expect(info.role == .admin)
            #expect(info.listeners.control == daemon.socketPath)
            #expect(info.interfaces == ["io.vectort.Credits", "io.vectort.Deployments", "io.vectort.Events", "io.vectort.Payments", "io.vectort.Projects", "io.vectort.Providers", "io.vectort.Service", "io.vectort.Usage", "io.vectort.Users"])
            #expect(FileManager.default.fileExists(atPath: daemon.directory.file("state/vectortd.sqlite")))
        }

        @Test func describeListsEveryRoutedMethod() async throws {
            let daemon = try await DaemonProcess()
            let client = try await daemon.connect()
            let description = try await client.call(MethodName.describe).decode(as: ServiceDescription.self)
            let names = description.methods.map(\.method)
            #expect(names == names.sorted())
            for method in [MethodName.getInfo, MethodName.ping, MethodName.getHealth, MethodName.describe, MethodName.reload] {
                #expect(names.contains(method))
            }
            #expect(description.methods.first { $0.method == MethodName.reload }?.role == .admin)
            // Every described method is routed: none answers MethodNotFound, and a method
            // with required parameters names the first one missing.
            for method in description.methods where method.method != MethodName.reload {
                try await client.send(CallRequest(method: method.method))
                let reply = try await client.receive()
                #expect(reply.error != .methodNotFound, "\(method.method)")
                if let required = method.parameters.first(where: \.required) {
                    #expect(reply.error == .invalidParameter, "\(method.method)")
                    #expect(reply.parameters?["parameter"] != nil, "\(method.method) should name \(required.name)")
                }
            }
        }
    }
}
