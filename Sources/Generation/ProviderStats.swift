public import Foundation

/// A provider's recent outcomes for `Providers.List`: the success rate over its last calls, the
/// median latency of its last successful calls, its last error and lifetime totals. Recording is
/// O(1); the median is computed when read.
public struct ProviderStats: Sendable, Equatable {
    /// How many calls (and, separately, successful latencies) the recent figures cover.
    public let capacity: Int
    public private(set) var totalCalls = 0
    public private(set) var totalFailures = 0
    public private(set) var lastError: String?
    public private(set) var lastErrorAt: Date?
    public private(set) var lastSuccessAt: Date?
    private var outcomes: Ring<Bool>
    private var recentFailures = 0
    private var latencies: Ring<Duration>

    public init(capacity: Int = 100) {
        self.capacity = max(1, capacity)
        outcomes = Ring(capacity: self.capacity)
        latencies = Ring(capacity: self.capacity)
    }

    /// Share of the last `capacity` calls that succeeded (0...1); nil before the first call.
    public var successRate: Double? {
        guard !outcomes.isEmpty else { return nil }
        return Double(outcomes.count - recentFailures) / Double(outcomes.count)
    }

    /// Median latency of the last `capacity` successful calls, in milliseconds (the lower middle
    /// value for an even count); nil before the first success.
    public var latencyP50Milliseconds: Double? {
        guard !latencies.isEmpty else { return nil }
        let sorted = latencies.elements.sorted()
        let median = sorted[(sorted.count - 1) / 2].components
        return Double(median.seconds) * 1_000 + Double(median.attoseconds) / 1e15
    }

    public mutating func recordSuccess(latency: Duration, at time: Date) {
        record(failed: false)
        latencies.append(latency)
        lastSuccessAt = time
    }

    /// A failed call; `message` becomes the last error (keys never reach it: see `ProviderFailure`).
    public mutating func recordFailure(_ message: String, at time: Date) {
        record(failed: true)
        totalFailures += 1
        lastError = message
        lastErrorAt = time
    }

    private mutating func record(failed: Bool) {
        totalCalls += 1
        if outcomes.append(failed) == true { recentFailures -= 1 }
        if failed { recentFailures += 1 }
    }
}

/// The last `capacity` values appended, oldest first.
private struct Ring<Element: Sendable & Equatable>: Sendable, Equatable {
    let capacity: Int
    private var storage: [Element] = []
    /// Where the next value goes once the ring is full; also the index of the oldest value.
    private var next = 0

    init(capacity: Int) {
        self.capacity = capacity
        storage.reserveCapacity(capacity)
    }

    var count: Int { storage.count }
    var isEmpty: Bool { storage.isEmpty }

    /// Appends `value`, returning the value it pushed out, if the ring was full.
    @discardableResult
    mutating func append(_ value: Element) -> Element? {
        guard storage.count == capacity else {
            storage.append(value)
            return nil
        }
        let evicted = storage[next]
        storage[next] = value
        next = (next + 1) % capacity
        return evicted
    }

    var elements: [Element] {
        Array(storage[next...] + storage[..<next])
    }
}
