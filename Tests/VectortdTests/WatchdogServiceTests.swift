import Logging
import Protocol
import Synchronization
import Testing

@testable import vectortd

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

        try await eventually { probe.pings.load(ordering: .relaxed) >= 3 }
        probe.healthy.store(false, ordering: .relaxed)
        // The loop is sequential: once a check has seen the failure, no earlier check's ping is left.
        try await eventually { probe.failingChecks.load(ordering: .relaxed) >= 1 }
        let whenFailing = probe.pings.load(ordering: .relaxed)
        try await Task.sleep(for: .milliseconds(200))
        #expect(probe.pings.load(ordering: .relaxed) == whenFailing, "no pings while failing")
        probe.healthy.store(true, ordering: .relaxed)
        try await eventually { probe.pings.load(ordering: .relaxed) > whenFailing }
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
        try await eventually { probe.pings.load(ordering: .relaxed) >= 2 }
    }

    /// Only a failure waits the whole minute. The service's loop runs on the shared task pool,
    /// two threads here, which the serialized daemon tests' blocking calls and CPU-bound tests
    /// can hold for seconds: one full-suite run saw no ping for 10 s.
    private func eventually(_ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("condition not met within 60 s")
                return
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}
