import Logging
import Protocol
import Synchronization
import Testing

@testable import VectortDaemon

@Suite("Watchdog pings only while healthy")
struct WatchdogServiceTests {
    final class Probe: Sendable {
        let healthy = Atomic<Bool>(true)
        let pings = Atomic<Int>(0)
        let failingChecks = Atomic<Int>(0)
    }

    @Test func pingsWhileHealthyAndWithholdsWhileFailing() async throws {
        let probe = Probe()
        let service = WatchdogService(
            interval: .milliseconds(40),
            check: { _ in
                let status: HealthStatus = probe.healthy.load(ordering: .relaxed) ? .ok : .failing
                if status == .failing { probe.failingChecks.add(1, ordering: .relaxed) }
                return HealthReport(checks: ["database": .init(status: status, detail: "test")])
            },
            ping: { probe.pings.add(1, ordering: .relaxed) },
            logger: Logger(label: "test"))
        let task = Task { try await service.run() }
        defer { task.cancel() }

        // The loop runs on the shared task pool (two threads here), which other tests can hold for
        // seconds: one full-suite run saw no ping for 10 s.
        try await eventually("three pings", timeout: .seconds(60)) { probe.pings.load(ordering: .relaxed) >= 3 }
        probe.healthy.store(false, ordering: .relaxed)
        // The loop is sequential: once a check has seen the failure, no earlier check's ping is left.
        try await eventually("a check that sees the failure", timeout: .seconds(60)) {
            probe.failingChecks.load(ordering: .relaxed) >= 1
        }
        let whenFailing = probe.pings.load(ordering: .relaxed)
        try await Task.sleep(for: .milliseconds(200))
        #expect(probe.pings.load(ordering: .relaxed) == whenFailing, "no pings while failing")
        probe.healthy.store(true, ordering: .relaxed)
        try await eventually("a ping after recovery", timeout: .seconds(60)) { probe.pings.load(ordering: .relaxed) > whenFailing }
    }

    @Test func degradedStillPings() async throws {
        let probe = Probe()
        let service = WatchdogService(
            interval: .milliseconds(40),
            check: { _ in HealthReport(checks: ["providers": .init(status: .degraded, detail: "one provider down")]) },
            ping: { probe.pings.add(1, ordering: .relaxed) },
            logger: Logger(label: "test"))
        let task = Task { try await service.run() }
        defer { task.cancel() }
        try await eventually("two pings", timeout: .seconds(60)) { probe.pings.load(ordering: .relaxed) >= 2 }
    }
}
