public import CoreMetrics
import Prometheus
public import Protocol
import Synchronization

/// One named instrument of the catalogue: its Prometheus name, kind, help and label names.
/// Every metric the daemon exports is declared in `Metric` (docs/operations.md lists them).
public struct MetricSpec: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        case counter
        case gauge
        /// Durations, exported in seconds; the buckets in seconds.
        case seconds([Double])
        /// A plain value histogram.
        case values([Double])
    }

    public var name: String
    public var kind: Kind
    public var help: String
    public var labels: [String]

    public init(_ name: String, _ kind: Kind, _ help: String, labels: [String] = []) {
        self.name = name
        self.kind = kind
        self.help = help
        self.labels = labels
    }
}

/// The daemon's metrics: swift-metrics instruments made by a factory over a swift-prometheus
/// registry of its own (no global bootstrap, so engines in one test process never mix their
/// figures). Label values are positional, in the order of the spec's labels, and must come from
/// bounded sets (providers, routes, outcomes): never a user, project or payment id.
///
/// Disabled (`metrics.enabled: false`), every call returns at once and nothing is kept.
public final class Telemetry: Sendable {
    public let enabled: Bool
    private let registry: PrometheusCollectorRegistry
    private let factory: CatalogueFactory
    private let instruments = Mutex<[String: Instrument]>([:])

    private enum Instrument: Sendable {
        case counter(CoreMetrics.FloatingPointCounter)
        case timer(CoreMetrics.Timer)
        case recorder(CoreMetrics.Recorder)
    }

    public init(enabled: Bool = true) {
        self.enabled = enabled
        let registry = PrometheusCollectorRegistry()
        self.registry = registry
        self.factory = CatalogueFactory(registry: registry)
    }

    /// Adds `amount` to a counter.
    public func increment(_ spec: MetricSpec, _ labels: [String] = [], by amount: Int = 1) {
        guard enabled, case .counter(let counter) = instrument(spec, labels) else { return }
        counter.increment(by: Double(amount))
    }

    /// Adds a fractional amount (money) to a counter.
    public func add(_ spec: MetricSpec, _ labels: [String] = [], _ amount: Double) {
        guard enabled, amount > 0, case .counter(let counter) = instrument(spec, labels) else { return }
        counter.increment(by: amount)
    }

    /// Records a duration in a `seconds` histogram.
    public func record(_ spec: MetricSpec, _ labels: [String] = [], _ duration: Duration) {
        guard enabled, case .timer(let timer) = instrument(spec, labels) else { return }
        timer.recordNanoseconds(Int64(duration.components.seconds) * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
    }

    /// Records a value in a `values` histogram, or sets a gauge.
    public func record(_ spec: MetricSpec, _ labels: [String] = [], _ value: Double) {
        guard enabled, case .recorder(let recorder) = instrument(spec, labels) else { return }
        recorder.record(value)
    }

    /// The registry in the Prometheus text format (version 0.0.4), as `/metrics` serves it.
    public func exposition() -> [UInt8] {
        guard enabled else { return [] }
        return registry.emitToBuffer()
    }

    /// The same figures as families of samples (`Service.GetStats`), parsed from the exposition.
    public func stats() -> [MetricFamily] {
        ExpositionParser.parse(String(decoding: exposition(), as: UTF8.self))
    }

    private func instrument(_ spec: MetricSpec, _ values: [String]) -> Instrument {
        precondition(values.count == spec.labels.count, "\(spec.name) takes labels \(spec.labels)")
        var key = spec.name
        for value in values {
            key.append("\u{1F}")
            key.append(value)
        }
        if let found = instruments.withLock({ $0[key] }) { return found }
        let dimensions = Array(zip(spec.labels, values))
        let made: Instrument
        switch spec.kind {
        case .counter:
            made = .counter(FloatingPointCounter(label: spec.name, dimensions: dimensions, factory: factory))
        case .gauge:
            made = .recorder(Recorder(label: spec.name, dimensions: dimensions, aggregate: false, factory: factory))
        case .seconds:
            made = .timer(Timer(label: spec.name, dimensions: dimensions, factory: factory))
        case .values:
            made = .recorder(Recorder(label: spec.name, dimensions: dimensions, aggregate: true, factory: factory))
        }
        return instruments.withLock { instruments in
            if let raced = instruments[key] { return raced }
            instruments[key] = made
            return made
        }
    }
}

/// swift-metrics' factory over one registry, giving each metric the help text and buckets the
/// catalogue declares for its name.
private struct CatalogueFactory: MetricsFactory {
    let registry: PrometheusCollectorRegistry

    private func descriptor(_ label: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: label, unitName: "", helpText: Metric.byName[label]?.help ?? "")
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        registry.makeCounter(descriptor: descriptor(label), labels: dimensions)
    }

    func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        registry.makeCounter(descriptor: descriptor(label), labels: dimensions)
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        guard aggregate else { return registry.makeGauge(descriptor: descriptor(label), labels: dimensions) }
        var buckets: [Double] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]
        if case .values(let declared) = Metric.byName[label]?.kind { buckets = declared }
        return registry.makeValueHistogram(descriptor: descriptor(label), labels: dimensions, buckets: buckets)
    }

    func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        registry.makeGauge(descriptor: descriptor(label), labels: dimensions)
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        var seconds: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
        if case .seconds(let declared) = Metric.byName[label]?.kind { seconds = declared }
        let buckets = seconds.map { Duration.nanoseconds(Int64(($0 * 1e9).rounded())) }
        return registry.makeDurationHistogram(descriptor: descriptor(label), labels: dimensions, buckets: buckets)
    }

    // Series stay for the life of the registry: a counter that vanished would read as a reset.
    func destroyCounter(_ handler: any CounterHandler) {}
    func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {}
    func destroyRecorder(_ handler: any RecorderHandler) {}
    func destroyMeter(_ handler: any MeterHandler) {}
    func destroyTimer(_ handler: any TimerHandler) {}
}
