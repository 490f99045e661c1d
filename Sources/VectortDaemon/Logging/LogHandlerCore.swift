import Logging

/// What the journald and stderr handlers share: metadata, the live log level, merging.
struct LogHandlerCore {
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?
    let levels: LogLevelControl
    /// Set when a logger changes its own level; otherwise the daemon-wide level applies.
    var override: Logger.Level?

    init(levels: LogLevelControl) {
        self.levels = levels
    }

    /// Handler metadata, then the provider's, then the call's, then the error if any.
    func merged(_ event: LogEvent) -> Logger.Metadata {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let explicit = event.metadata { merged.merge(explicit) { _, new in new } }
        if let error = event.error { merged["error"] = "\(error)" }
        return merged
    }
}

/// A handler built on `LogHandlerCore`: everything but `log(event:)` comes with it.
protocol CoreLogHandler: LogHandler {
    var core: LogHandlerCore { get set }
}

extension CoreLogHandler {
    var metadata: Logger.Metadata {
        get { core.metadata }
        set { core.metadata = newValue }
    }

    var metadataProvider: Logger.MetadataProvider? {
        get { core.metadataProvider }
        set { core.metadataProvider = newValue }
    }

    var logLevel: Logger.Level {
        get { core.override ?? core.levels.level }
        set { core.override = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { core.metadata[key] }
        set { core.metadata[key] = newValue }
    }
}
