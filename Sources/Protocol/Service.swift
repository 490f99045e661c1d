/// Result of `io.vectort.Service.GetInfo`.
public struct ServiceInfo: Sendable, Codable, Hashable {
    public struct Listeners: Sendable, Codable, Hashable {
        /// Path of the control socket ("(inherited)" detail is in `control_activated`).
        public var control: String
        /// `host:port` of the webhook listener when it runs.
        public var webhook: String?
        /// `host:port` of the metrics listener when it runs.
        public var metrics: String?
        /// `host:port` of the web API when it runs.
        public var api: String?
        /// `host:port` of the preview origin when it runs.
        public var preview: String?

        public init(control: String, webhook: String? = nil, metrics: String? = nil, api: String? = nil, preview: String? = nil) {
            self.control = control
            self.webhook = webhook
            self.metrics = metrics
            self.api = api
            self.preview = preview
        }
    }

    public var product: String
    public var version: String
    public var `protocol`: Int
    public var interfaces: [String]
    public var listeners: Listeners
    /// RFC 3339 UTC.
    public var startedAt: String
    /// The caller's role.
    public var role: Role
    /// Process id of the daemon (an addition to version 1; optional for clients).
    public var pid: Int?
    /// Whether versions are built, and with which esbuild (an addition to version 1).
    public var builds: Builds?
    /// Whether credits can be bought (a Stripe key is configured) and webhooks verified (an
    /// addition to version 1).
    public var payments: Payments?

    public struct Payments: Sendable, Codable, Hashable {
        public var enabled: Bool
        public var webhookSecrets: Int

        public init(enabled: Bool, webhookSecrets: Int) {
            self.enabled = enabled
            self.webhookSecrets = webhookSecrets
        }

        enum CodingKeys: String, CodingKey {
            case enabled
            case webhookSecrets = "webhook_secrets"
        }
    }

    /// `build.enabled` and the esbuild it found.
    public struct Builds: Sendable, Codable, Hashable {
        public var enabled: Bool
        public var esbuild: String?

        public init(enabled: Bool, esbuild: String? = nil) {
            self.enabled = enabled
            self.esbuild = esbuild
        }
    }

    /// The control socket's limits a client should follow.
    public struct Limits: Sendable, Codable, Hashable {
        /// `control.max_message_bytes`: the largest frame either side sends.
        public var maxMessageBytes: Int

        public init(maxMessageBytes: Int) {
            self.maxMessageBytes = maxMessageBytes
        }

        enum CodingKeys: String, CodingKey {
            case maxMessageBytes = "max_message_bytes"
        }
    }

    public var limits: Limits?
    /// Where the daemon keeps its data (an addition to version 1).
    public var storage: Storage?

    /// The storage backend; on PostgreSQL, this node's id and the nodes whose heartbeat is live
    /// (this one included), as of this node's last heartbeat.
    public struct Storage: Sendable, Codable, Hashable {
        /// `sqlite` or `postgresql`.
        public var backend: String
        public var node: String?
        public var nodes: [String]?

        public init(backend: String, node: String? = nil, nodes: [String]? = nil) {
            self.backend = backend
            self.node = node
            self.nodes = nodes
        }
    }

    public init(
        product: String, version: String, protocol: Int, interfaces: [String], listeners: Listeners,
        startedAt: String, role: Role, pid: Int? = nil, builds: Builds? = nil, payments: Payments? = nil,
        limits: Limits? = nil, storage: Storage? = nil
    ) {
        self.storage = storage
        self.limits = limits
        self.payments = payments
        self.builds = builds
        self.product = product
        self.version = version
        self.protocol = `protocol`
        self.interfaces = interfaces
        self.listeners = listeners
        self.startedAt = startedAt
        self.role = role
        self.pid = pid
    }

    enum CodingKeys: String, CodingKey {
        case product, version, `protocol`, interfaces, listeners, role, pid, builds, payments, limits, storage
        case startedAt = "started_at"
    }
}

/// Health of one part, or of the whole daemon.
public enum HealthStatus: String, Sendable, Codable, Hashable, Comparable {
    case ok
    case degraded
    case failing

    public static func < (lhs: HealthStatus, rhs: HealthStatus) -> Bool {
        lhs.severity < rhs.severity
    }

    private var severity: Int {
        switch self {
        case .ok: 0
        case .degraded: 1
        case .failing: 2
        }
    }
}

/// Result of `io.vectort.Service.GetHealth`.
public struct HealthReport: Sendable, Codable, Hashable {
    public struct Check: Sendable, Codable, Hashable {
        public var status: HealthStatus
        public var detail: String

        public init(status: HealthStatus, detail: String) {
            self.status = status
            self.detail = detail
        }
    }

    public var status: HealthStatus
    public var checks: [String: Check]

    public init(checks: [String: Check]) {
        self.checks = checks
        self.status = checks.values.map(\.status).max() ?? .ok
    }
}

/// Result of `io.vectort.Service.Describe`.
public struct ServiceDescription: Sendable, Codable, Hashable {
    public var `protocol`: Int
    public var methods: [MethodDescriptor]

    public init(protocol: Int, methods: [MethodDescriptor]) {
        self.protocol = `protocol`
        self.methods = methods
    }
}

/// Result of `io.vectort.Service.Reload`.
public struct ReloadResult: Sendable, Codable, Hashable {
    /// Configuration keys and secret names whose values changed (never the values).
    public var changed: [String]

    public init(changed: [String]) {
        self.changed = changed
    }
}

/// Result of `io.vectort.Service.Ping`.
public struct PingResult: Sendable, Codable, Hashable {
    public init() {}
}

/// `io.vectort.Service.GetStats`: the metrics registry's current values, as `/metrics` exports
/// them, one family per metric.
public struct ServiceStats: Sendable, Codable, Hashable {
    public var metrics: [MetricFamily]

    public init(metrics: [MetricFamily]) {
        self.metrics = metrics
    }
}

/// One metric and its samples. `type` is Prometheus's: counter, gauge, histogram.
public struct MetricFamily: Sendable, Codable, Hashable {
    public var name: String
    public var type: String
    public var help: String
    public var samples: [MetricSample]

    public init(name: String, type: String, help: String, samples: [MetricSample]) {
        self.name = name
        self.type = type
        self.help = help
        self.samples = samples
    }
}

/// One sample: a histogram's samples carry their own names (`_bucket`, `_sum`, `_count`).
public struct MetricSample: Sendable, Codable, Hashable {
    public var name: String
    public var labels: [String: String]
    public var value: Double

    public init(name: String, labels: [String: String], value: Double) {
        self.name = name
        self.labels = labels
        self.value = value
    }
}
