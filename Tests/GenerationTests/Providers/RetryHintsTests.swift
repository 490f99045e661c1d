import Foundation
import NIOHTTP1
import Testing

@testable import Generation
import VectortCore

@Suite("Retry hints")
struct RetryHintsTests {
    let now = Date(timeIntervalSince1970: 1_790_000_000)

    private func hint(_ status: Int, _ headers: [(String, String)], retryDelay: String? = nil) -> Duration? {
        RetryHints.retryAfter(status: status, headers: HTTPHeaders(headers), retryDelay: retryDelay, now: now)
    }

    private func hint(_ headers: [(String, String)], retryDelay: String? = nil) -> Duration? {
        hint(429, headers, retryDelay: retryDelay)
    }

    @Test func retryAfterSeconds() {
        #expect(hint([("retry-after", "30")]) == .seconds(30))
        #expect(hint(503, [("Retry-After", " 2 ")]) == .seconds(2))
    }

    @Test func retryAfterHTTPDateInEachForm() {
        let target = now.addingTimeInterval(90)
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        for format in ["EEE, dd MMM yyyy HH:mm:ss 'GMT'", "EEEE, dd-MMM-yy HH:mm:ss 'GMT'", "EEE MMM d HH:mm:ss yyyy"] {
            formatter.dateFormat = format
            #expect(hint([("retry-after", formatter.string(from: target))]) == .seconds(90), "\(format)")
        }
    }

    @Test func retryAfterDateInThePastIsZero() {
        #expect(hint([("retry-after", "Sun, 06 Nov 1994 08:49:37 GMT")]) == .zero)
    }

    @Test func retryAfterMillisecondsComesFirst() {
        #expect(hint([("retry-after", "30"), ("retry-after-ms", "250")]) == .milliseconds(250))
    }

    @Test func garbageRetryAfterFallsThroughToTheNextHint() {
        #expect(hint([("retry-after", "soon")], retryDelay: "3s") == .seconds(3))
        #expect(hint(500, [("retry-after", "-1")]) == nil)
    }

    @Test func geminiRetryDelayWholeAndFractional() {
        #expect(RetryHints.protobufDuration("37s") == .seconds(37))
        #expect(RetryHints.protobufDuration("1.5s") == .milliseconds(1500))
        #expect(RetryHints.protobufDuration("0.250s") == .milliseconds(250))
        #expect(RetryHints.protobufDuration("37") == nil)
        #expect(hint(429, [], retryDelay: "37s") == .seconds(37))
    }

    @Test func goDurations() {
        #expect(RetryHints.goDuration("6m0s") == .seconds(360))
        #expect(RetryHints.goDuration("12ms") == .milliseconds(12))
        #expect(RetryHints.goDuration("1s") == .seconds(1))
        #expect(RetryHints.goDuration("1h2m3.5s") == .milliseconds(3_723_500))
        #expect(RetryHints.goDuration("20us") == .microseconds(20))
        #expect(RetryHints.goDuration("0") == .zero)
        #expect(RetryHints.goDuration("6x") == nil)
        #expect(RetryHints.goDuration("") == nil)
    }

    @Test func openAIResetOfTheExhaustedDimensionOn429Only() {
        let headers = [
            ("x-ratelimit-remaining-requests", "0"), ("x-ratelimit-reset-requests", "6m0s"),
            ("x-ratelimit-remaining-tokens", "5000"), ("x-ratelimit-reset-tokens", "12ms"),
        ]
        #expect(hint(429, headers) == .seconds(360))
        #expect(hint(500, headers) == nil)
    }

    @Test func withoutAnExhaustedDimensionTheEarliestResetCounts() {
        let headers = [("x-ratelimit-reset-requests", "2s"), ("x-ratelimit-reset-tokens", "120ms")]
        #expect(hint(429, headers) == .milliseconds(120))
    }

    @Test func anthropicResetTimestamps() {
        let reset = ISO8601DateFormatter().string(from: now.addingTimeInterval(45))
        let later = ISO8601DateFormatter().string(from: now.addingTimeInterval(600))
        let headers = [
            ("anthropic-ratelimit-requests-remaining", "0"), ("anthropic-ratelimit-requests-reset", reset),
            ("anthropic-ratelimit-tokens-remaining", "10"), ("anthropic-ratelimit-tokens-reset", later),
        ]
        #expect(hint(429, headers) == .seconds(45))
        #expect(RetryHints.rfc3339("2026-09-21T10:00:00.500Z") != nil)
        #expect(RetryHints.rfc3339("2026-09-21T10:00:00+02:00") != nil)
    }

    @Test func retryAfterBeatsResetHeaders() {
        #expect(hint(429, [("retry-after", "3"), ("x-ratelimit-reset-requests", "6m0s")]) == .seconds(3))
    }

    @Test func shouldRetryHeader() {
        #expect(RetryHints.shouldRetry(HTTPHeaders([("x-should-retry", "false")])) == false)
        #expect(RetryHints.shouldRetry(HTTPHeaders([("X-Should-Retry", "TRUE")])) == true)
        #expect(RetryHints.shouldRetry(HTTPHeaders()) == nil)
    }
}
