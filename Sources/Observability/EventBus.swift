public import Foundation
public import Protocol
import Synchronization
import VectortCore

/// The domain events `io.vectort.Events.Subscribe` follows: generations, payments, deployments,
/// provider breakers, users. Publishing never waits: each subscriber has a bounded buffer, and
/// one that falls behind loses events and is told so with `lagged {dropped}` before the next
/// event it does get. What happens on this node only (several nodes each have their own bus).
public final class EventBus: Sendable {
    /// Events a subscriber may have waiting before it starts losing them.
    public let capacity: Int
    private let telemetry: Telemetry
    private let now: @Sendable () -> Date
    private let state = Mutex(State())

    private struct State {
        var nextID = 0
        var subscribers: [Int: Subscriber] = [:]
        /// Generations started and not ended, by id: the snapshot's `generations`.
        var running: [String: [String: JSONValue]] = [:]
        var runningOrder: [String] = []
        var closed = false
    }

    private struct Subscriber {
        var prefixes: [String]?
        var continuation: AsyncStream<JSONValue>.Continuation
        var dropped = 0

        func wants(_ kind: String) -> Bool {
            guard let prefixes else { return true }
            return prefixes.contains { kind.hasPrefix($0) }
        }
    }

    public init(capacity: Int = 1024, telemetry: Telemetry, now: @escaping @Sendable () -> Date = { Date() }) {
        precondition(capacity > 1)
        self.capacity = capacity
        self.telemetry = telemetry
        self.now = now
    }

    /// Whether anyone listens; callers building costly payloads may skip them when not.
    public var hasSubscribers: Bool { state.withLock { !$0.subscribers.isEmpty } }

    /// Publishes one event of `kind` (`generation.started`, `payment.paid`, …) with its fields.
    /// Generation starts and ends also keep the snapshot of what runs.
    public func publish(_ kind: String, _ fields: [String: JSONValue]) {
        let tracksRunning = kind.hasPrefix("generation.")
        var event: [String: JSONValue]?
        var lost = 0
        state.withLock { state in
            if tracksRunning, let id = fields["generation"]?.stringValue {
                switch kind {
                case "generation.started":
                    state.running[id] = fields
                    state.runningOrder.append(id)
                case "generation.completed", "generation.failed":
                    if state.running.removeValue(forKey: id) != nil { state.runningOrder.removeAll { $0 == id } }
                default: break
                }
            }
            guard !state.subscribers.isEmpty else { return }
            if event == nil {
                var object = fields
                object["event"] = .string(kind)
                object["at"] = .string(Timestamps.string(now()))
                event = object
            }
            for (id, subscriber) in state.subscribers where subscriber.wants(kind) {
                var subscriber = subscriber
                if subscriber.dropped > 0 {
                    let notice: JSONValue = .object(["event": "lagged", "dropped": .int(Int64(subscriber.dropped))])
                    if case .enqueued = subscriber.continuation.yield(notice) { subscriber.dropped = 0 }
                }
                // Once it lost one, it loses every event until the `lagged` notice fits.
                let delivered: Bool
                if subscriber.dropped == 0 {
                    if case .dropped = subscriber.continuation.yield(.object(event!)) { delivered = false } else { delivered = true }
                } else {
                    delivered = false
                }
                if !delivered {
                    subscriber.dropped += 1
                    lost += 1
                }
                state.subscribers[id] = subscriber
            }
        }
        if lost > 0 { telemetry.increment(Metric.eventsDropped, by: lost) }
    }

    /// A stream of events whose kind starts with one of `kinds` (all when nil), beginning with
    /// `snapshot` (the generations running now and `deployments`). The stream ends when the
    /// caller stops iterating it (its task is cancelled).
    public func subscribe(kinds: [String]?, deployments: [JSONValue]) -> AsyncStream<JSONValue> {
        let (stream, continuation) = AsyncStream.makeStream(of: JSONValue.self, bufferingPolicy: .bufferingOldest(capacity))
        let id = state.withLock { state -> Int? in
            let running = state.runningOrder.compactMap { state.running[$0] }.map { JSONValue.object($0) }
            continuation.yield(.object(["event": "snapshot", "generations": .array(running), "deployments": .array(deployments)]))
            state.nextID += 1
            if !state.closed { state.subscribers[state.nextID] = Subscriber(prefixes: kinds, continuation: continuation) }
            return state.closed ? nil : state.nextID
        }
        guard let id else {
            continuation.finish()
            return stream
        }
        let open = state.withLock { $0.subscribers.count }
        telemetry.record(Metric.eventSubscribers, [], Double(open))
        continuation.onTermination = { [weak self] _ in
            guard let self else { return }
            let count = self.state.withLock { state -> Int in
                state.subscribers[id] = nil
                return state.subscribers.count
            }
            self.telemetry.record(Metric.eventSubscribers, [], Double(count))
        }
        return stream
    }
}

extension EventBus {
    /// Ends every subscription (the daemon is stopping); later ones end after their snapshot.
    public func close() {
        let ending = state.withLock { state in
            state.closed = true
            defer { state.subscribers = [:] }
            return state.subscribers.values.map(\.continuation)
        }
        for continuation in ending { continuation.finish() }
    }
}
