import Testing

@testable import Protocol

@Suite("retry_after_seconds on the wire")
struct RetryAfterTests {
    @Test func wholeSecondsRoundedUpAndNeverBelowOne() {
        #expect(WireError.retryAfter(0) == .int(1))
        #expect(WireError.retryAfter(0.2) == .int(1))
        #expect(WireError.retryAfter(1) == .int(1))
        #expect(WireError.retryAfter(1.01) == .int(2))
        #expect(WireError.retryAfter(59.9) == .int(60))
        #expect(WireError.retryAfter(-5) == .int(1))
        #expect(WireError.retryAfter(.nan) == .int(1))
        #expect(WireError.unavailable("busy", retryAfterSeconds: 0).details["retry_after_seconds"] == .int(1))
    }
}
