/// What the engine reports to: the metrics registry and the bus of domain events. One per
/// daemon (per node); every service holds the same one.
public struct Observer: Sendable {
    public let metrics: Telemetry
    public let events: EventBus

    public init(metrics: Telemetry = Telemetry(), eventCapacity: Int = 1024) {
        self.metrics = metrics
        self.events = EventBus(capacity: eventCapacity, telemetry: metrics)
    }
}
