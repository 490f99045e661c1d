import Foundation
import Histogram
import Protocol
import VectortTesting
import VectortCore

/// Closed-loop load over N connections, one thread each: send a frame (or `depth` frames),
/// read as many replies, record the latency of each round trip.
struct LoadGenerator {
    struct Result {
        var requests: UInt64
        var seconds: Double
        /// Microseconds per round trip (per batch when pipelined).
        var latency: Histogram<UInt64>

        var requestsPerSecond: Double { Double(requests) / seconds }
    }

    let socketPath: String
    let connections: Int
    let depth: Int
    let duration: Duration
    let payload: [UInt8]
    /// Connect without the GetInfo handshake (the echo floor does not speak JSON).
    let handshake: Bool

    func run() throws -> Result {
        let clients = try (0..<connections).map { _ in
            try VectortClient.connect(socketPath: socketPath, timeout: 30, handshake: handshake)
        }
        let frame = Framing.frame(payload)
        let batch = Array([[UInt8]](repeating: frame, count: depth).joined())
        let start = Locked(ContinuousClock.now)
        let results = Locked<[(UInt64, Histogram<UInt64>)]>([])
        let failures = Locked<[String]>([])
        let group = DispatchGroup()
        let barrier = DispatchSemaphore(value: 0)
        for client in clients {
            nonisolated(unsafe) let client = client
            group.enter()
            Thread {
                defer { group.leave() }
                barrier.wait()
                var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
                var count: UInt64 = 0
                let end = start.withLock { $0 } + duration
                do {
                    while ContinuousClock.now < end {
                        let t0 = ContinuousClock.now
                        try client.sendRaw(batch)
                        for _ in 0..<depth { _ = try client.receiveFrame(deadline: nil) }
                        let elapsed = ContinuousClock.now - t0
                        _ = histogram.record(UInt64(max(1, elapsed.microseconds)))
                        count += UInt64(depth)
                    }
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
                results.withLock { $0.append((count, histogram)) }
            }.start()
        }
        start.withLock { $0 = .now }
        for _ in clients { barrier.signal() }
        group.wait()
        let elapsed = ContinuousClock.now - start.withLock { $0 }
        if let failure = failures.withLock({ $0.first }) {
            throw BenchmarkError(description: "a connection failed: \(failure)")
        }
        var merged = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
        var total: UInt64 = 0
        for (count, histogram) in results.withLock({ $0 }) {
            total += count
            merged.add(histogram)
        }
        return Result(requests: total, seconds: elapsed.seconds, latency: merged)
    }
}

struct BenchmarkError: Error, CustomStringConvertible {
    var description: String
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
    var microseconds: Int64 { components.seconds * 1_000_000 + components.attoseconds / 1_000_000_000_000 }
}
