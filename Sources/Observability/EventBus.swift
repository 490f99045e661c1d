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
        var subscribers: [ObjectIdentifier: EventSubscription] = [:]
        /// Generations started and not ended, by id: the snapshot's `generations`.
        var running: [String: [String: JSONValue]] = [:]
        var runningOrder: [String] = []
        var closed = false
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
        let listeners = state.withLock { state -> [EventSubscription] in
            if kind.hasPrefix("generation."), let id = fields["generation"]?.stringValue {
                switch kind {
                case "generation.started":
                    state.running[id] = fields
                    state.runningOrder.append(id)
                case "generation.completed", "generation.failed":
                    if state.running.removeValue(forKey: id) != nil { state.runningOrder.removeAll { $0 == id } }
                default: break
                }
            }
            return state.subscribers.isEmpty ? [] : state.subscribers.values.filter { $0.wants(kind) }
        }
        guard !listeners.isEmpty else { return }
        var object = fields
        object["event"] = .string(kind)
        object["at"] = .string(Timestamps.string(now()))
        let event = JSONValue.object(object)
        var lost = 0
        for listener in listeners where !listener.offer(event) { lost += 1 }
        if lost > 0 { telemetry.increment(Metric.eventsDropped, by: lost) }
    }

    /// A subscription to events whose kind starts with one of `kinds` (all when nil); its first
    /// event is `snapshot` (the generations running now and `deployments`). It ends when the
    /// bus closes or the caller cancels it.
    public func subscribe(kinds: [String]?, deployments: [JSONValue]) -> EventSubscription {
        let subscription = EventSubscription(prefixes: kinds, capacity: capacity)
        let count = state.withLock { state -> Int? in
            let running = state.runningOrder.compactMap { state.running[$0] }.map { JSONValue.object($0) }
            _ = subscription.offer(.object(["event": "snapshot", "generations": .array(running), "deployments": .array(deployments)]))
            guard !state.closed else { return nil }
            state.subscribers[ObjectIdentifier(subscription)] = subscription
            return state.subscribers.count
        }
        guard let count else {
            subscription.finish()
            return subscription
        }
        telemetry.record(Metric.eventSubscribers, [], Double(count))
        subscription.onEnd = { [weak self] in
            guard let self else { return }
            let left = self.state.withLock { state -> Int in
                state.subscribers[ObjectIdentifier(subscription)] = nil
                return state.subscribers.count
            }
            self.telemetry.record(Metric.eventSubscribers, [], Double(left))
        }
        return subscription
    }

    /// Ends every subscription (the daemon is stopping); later ones end after their snapshot.
    public func close() {
        let ending = state.withLock { state in
            state.closed = true
            defer { state.subscribers = [:] }
            return Array(state.subscribers.values)
        }
        for subscription in ending { subscription.finish() }
    }
}

/// One subscriber's bounded queue. The reader takes everything waiting at once (`next()`), so
/// a burst of events costs it one wake-up, not one per event.
public final class EventSubscription: Sendable {
    let prefixes: [String]?
    let capacity: Int
    private let state = Mutex(State())
    /// Called once when the subscription ends (finished or cancelled).
    fileprivate var onEnd: (@Sendable () -> Void)? {
        get { state.withLock { $0.onEnd } }
        set { state.withLock { $0.onEnd = newValue } }
    }

    private struct State {
        var queue: [JSONValue] = []
        var dropped = 0
        var waiter: CheckedContinuation<[JSONValue]?, Never>?
        var finished = false
        var onEnd: (@Sendable () -> Void)?
    }

    init(prefixes: [String]?, capacity: Int) {
        self.prefixes = prefixes
        self.capacity = capacity
    }

    func wants(_ kind: String) -> Bool {
        guard let prefixes else { return true }
        return prefixes.contains { kind.hasPrefix($0) }
    }

    /// Queues `event`; false when it was dropped (the queue is full, or a `lagged` notice is
    /// still owed and does not fit yet).
    func offer(_ event: JSONValue) -> Bool {
        let (waiter, batch, delivered) = state.withLock { state -> (CheckedContinuation<[JSONValue]?, Never>?, [JSONValue], Bool) in
            guard !state.finished else { return (nil, [], true) }
            if state.dropped > 0 {
                guard state.queue.count < capacity else {
                    state.dropped += 1
                    return (nil, [], false)
                }
                state.queue.append(.object(["event": "lagged", "dropped": .int(Int64(state.dropped))]))
                state.dropped = 0
            }
            guard state.queue.count < capacity else {
                state.dropped += 1
                return (nil, [], false)
            }
            state.queue.append(event)
            guard let waiter = state.waiter else { return (nil, [], true) }
            state.waiter = nil
            defer { state.queue = [] }
            return (waiter, state.queue, true)
        }
        waiter?.resume(returning: batch)
        return delivered
    }

    /// Every event waiting, oldest first, waiting for one when none is; nil once the
    /// subscription ended (the bus closed, or the calling task was cancelled).
    public func next() async -> [JSONValue]? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<[JSONValue]?, Never>) in
                let ready = state.withLock { state -> [JSONValue]?? in
                    if !state.queue.isEmpty || state.dropped > 0 {
                        // What was lost came after everything queued: the notice goes last.
                        if state.dropped > 0 {
                            state.queue.append(.object(["event": "lagged", "dropped": .int(Int64(state.dropped))]))
                            state.dropped = 0
                        }
                        defer { state.queue = [] }
                        return .some(state.queue)
                    }
                    if state.finished || Task.isCancelled { return .some(nil) }
                    state.waiter = continuation
                    return .none
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            finish()
        }
    }

    /// Ends the subscription: a waiting reader gets nil, queued events are still handed out.
    public func finish() {
        let (waiter, end) = state.withLock { state -> (CheckedContinuation<[JSONValue]?, Never>?, (@Sendable () -> Void)?) in
            guard !state.finished else { return (nil, nil) }
            state.finished = true
            defer {
                state.waiter = nil
                state.onEnd = nil
            }
            return (state.waiter, state.onEnd)
        }
        waiter?.resume(returning: nil)
        end?()
    }
}
