import Protocol
import Testing

@Suite("HealthReport overall status")
struct HealthReportTests {
    static func report(_ statuses: [HealthStatus]) -> HealthReport {
        HealthReport(checks: Dictionary(uniqueKeysWithValues: statuses.enumerated().map {
            ("check\($0.offset)", HealthReport.Check(status: $0.element, detail: ""))
        }))
    }

    @Test func noChecksIsOk() {
        #expect(HealthReport(checks: [:]).status == .ok)
    }

    @Test func overallStatusIsTheWorstCheck() {
        #expect(Self.report([.ok, .ok]).status == .ok)
        #expect(Self.report([.ok, .degraded, .ok]).status == .degraded)
        #expect(Self.report([.degraded, .failing, .ok]).status == .failing)
        #expect(Self.report([.failing]).status == .failing)
    }

    @Test func statusesAreOrderedBySeverity() {
        #expect(HealthStatus.ok < .degraded)
        #expect(HealthStatus.degraded < .failing)
    }
}
