import Engine
import NIOCore
import Protocol
import Synchronization
import Generation
import VectortCore

/// Answers "is the daemon healthy": a database round trip and the control event loop answering.
/// Used by `GetHealth` and by the watchdog, which pings systemd only while nothing is failing.
struct HealthMonitor: Sendable {
    let engine: Engine
    let controlLoop: any EventLoop
    /// How long ago accepting a control connection last failed; nil if it never did.
    var sinceLastAcceptFailure: @Sendable () -> Duration? = { nil }

    func check(timeout: Duration = .seconds(2)) async -> HealthReport {
        async let database = probe("database round trip", timeout: timeout) { try await self.engine.ping() }
        async let loop = probe("control event loop answered", timeout: timeout) {
            try await self.controlLoop.submit {}.get()
        }
        return HealthReport(checks: ["database": await database, "control": await loop, "accept": acceptCheck()])
    }

    /// Degraded for a minute after a connection could not be accepted (out of file descriptors,
    /// most likely): clients are being turned away.
    private func acceptCheck() -> HealthReport.Check {
        guard let since = sinceLastAcceptFailure(), since < .seconds(60) else {
            return .init(status: .ok, detail: "no accept failure in the last 60 s")
        }
        return .init(status: .degraded, detail: "accepting a control connection failed \(since.components.seconds) s ago")
    }

    private func probe(
        _ what: String, timeout: Duration, _ operation: @escaping @Sendable () async throws -> Void
    ) async -> HealthReport.Check {
        let start = ContinuousClock.now
        switch await withDeadline(timeout, operation) {
        case .finished:
            let elapsed = ContinuousClock.now - start
            let microseconds = elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000
            return .init(status: .ok, detail: "\(what) in \(microseconds) µs")
        case .failed(let error):
            return .init(status: .failing, detail: "\(what) failed: \(error)")
        case .timedOut:
            return .init(status: .failing, detail: "\(what) did not finish within \(timeout)")
        }
    }
}

enum DeadlineOutcome: Sendable {
    case finished
    case failed(String)
    case timedOut
}

/// Runs `operation`, but returns after `timeout` even if the operation does not respond to
/// cancellation (a stuck database read must not stall the watchdog).
func withDeadline(
    _ timeout: Duration, _ operation: @escaping @Sendable () async throws -> Void
) async -> DeadlineOutcome {
    let resumed = Mutex<CheckedContinuation<DeadlineOutcome, Never>?>(nil)
    return await withCheckedContinuation { (continuation: CheckedContinuation<DeadlineOutcome, Never>) in
        resumed.withLock { $0 = continuation }
        let finish: @Sendable (DeadlineOutcome) -> Void = { outcome in
            resumed.withLock { slot in
                slot?.resume(returning: outcome)
                slot = nil
            }
        }
        let work = Task {
            do {
                try await operation()
                finish(.finished)
            } catch {
                finish(.failed("\(error)"))
            }
        }
        let timer = Task {
            try? await Task.sleep(for: timeout)
            guard !Task.isCancelled else { return }
            work.cancel()
            finish(.timedOut)
        }
        // The timer has nothing left to do once the work has answered.
        Task {
            _ = await work.value
            timer.cancel()
        }
    }
}
