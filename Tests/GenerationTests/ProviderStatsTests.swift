import Foundation
import Testing
import VectortTesting

@testable import Generation

@Suite("ProviderStats: recent success rate and latency, last error, totals")
struct ProviderStatsTests {
    let epoch = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func nothingIsReportedBeforeTheFirstCall() {
        let stats = ProviderStats()

        #expect(stats.successRate == nil)
        #expect(stats.latencyP50Milliseconds == nil)
        #expect(stats.lastError == nil)
        #expect(stats.lastErrorAt == nil)
        #expect(stats.totalCalls == 0)
    }

    @Test func theSuccessRateCoversOnlyTheLastCalls() {
        var stats = ProviderStats(capacity: 4)
        for second in 0..<4 {
            stats.recordFailure("overloaded", at: epoch + Double(second))
        }
        #expect(stats.successRate == 0)

        stats.recordSuccess(latency: .milliseconds(10), at: epoch + 4)
        #expect(stats.successRate == 0.25)
        for second in 5..<8 {
            stats.recordSuccess(latency: .milliseconds(10), at: epoch + Double(second))
        }

        #expect(stats.successRate == 1)
        #expect(stats.totalCalls == 8)
        #expect(stats.totalFailures == 4)
    }

    @Test func theMedianLatencyCoversOnlyTheLastSuccesses() {
        var stats = ProviderStats(capacity: 3)
        for latency in [100, 200, 300] {
            stats.recordSuccess(latency: .milliseconds(latency), at: epoch)
        }
        #expect(stats.latencyP50Milliseconds == 200)

        stats.recordSuccess(latency: .milliseconds(1), at: epoch)
        stats.recordSuccess(latency: .milliseconds(2), at: epoch)

        #expect(stats.latencyP50Milliseconds == 2, "100 and 200 fell out; 300, 1 and 2 remain")
    }

    @Test func theMedianOfAnEvenCountIsTheLowerMiddleValue() {
        var stats = ProviderStats()
        for latency in [40, 10, 30, 20] {
            stats.recordSuccess(latency: .milliseconds(latency), at: epoch)
        }

        #expect(stats.latencyP50Milliseconds == 20)
    }

    @Test func theMedianKeepsSubMillisecondPrecision() {
        var stats = ProviderStats()
        stats.recordSuccess(latency: .microseconds(1_500), at: epoch)

        #expect(stats.latencyP50Milliseconds == 1.5)
    }

    @Test func failuresDoNotAddLatencySamples() {
        var stats = ProviderStats(capacity: 2)
        stats.recordSuccess(latency: .milliseconds(50), at: epoch)
        stats.recordFailure("first token timeout", at: epoch + 1)
        stats.recordFailure("first token timeout", at: epoch + 2)

        #expect(stats.latencyP50Milliseconds == 50)
        #expect(stats.successRate == 0)
    }

    @Test func theLastErrorIsTheNewestWithItsTime() {
        var stats = ProviderStats()
        stats.recordFailure("rate_limited (HTTP 429)", at: epoch)
        stats.recordFailure("server_error (HTTP 503)", at: epoch + 5)
        stats.recordSuccess(latency: .milliseconds(10), at: epoch + 9)

        #expect(stats.lastError == "server_error (HTTP 503)")
        #expect(stats.lastErrorAt == epoch + 5)
        #expect(stats.lastSuccessAt == epoch + 9)
    }

    @Test func manyWrapsOfTheRingMatchACountOverTheLastCalls() {
        var stats = ProviderStats(capacity: 100)
        var history: [Bool] = []
        var generator = SeededGenerator(seed: 100)
        for step in 0..<10_007 {
            let failed = Int.random(in: 0..<10, using: &generator) < 3
            history.append(failed)
            if failed {
                stats.recordFailure("error \(step)", at: epoch)
            } else {
                stats.recordSuccess(latency: .milliseconds(step), at: epoch)
            }
        }
        let lastCalls = history.suffix(100)
        let successes = history.indices.filter { !history[$0] }.suffix(100).map(Double.init).sorted()

        #expect(stats.successRate == Double(lastCalls.filter { !$0 }.count) / 100)
        #expect(stats.latencyP50Milliseconds == successes[49])
        #expect(stats.totalCalls == 10_007)
        #expect(stats.totalFailures == history.filter { $0 }.count)
    }
}
