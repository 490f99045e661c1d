import Foundation
import Logging

/// Readable log lines on stderr, for running by hand:
/// `2026-11-26T09:12:03.512Z info  serving the control socket socket=/run/vectortd.sock`.
struct StderrLogHandler: LogHandler {
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?
    let label: String
    let levels: LogLevelControl
    private var override: Logger.Level?

    init(label: String, levels: LogLevelControl) {
        self.label = label
        self.levels = levels
    }

    var logLevel: Logger.Level {
        get { override ?? levels.level }
        set { override = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let level = event.level
        let message = event.message
        let explicit = event.metadata
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let explicit { merged.merge(explicit) { _, new in new } }
        if let error = event.error { merged["error"] = "\(error)" }
        let fields = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\(Self.quoted("\($0.value)"))" }
        let levelText = level.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)
        var text = "\(Self.timestamp()) \(levelText) \(message)"
        if !fields.isEmpty { text += " " + fields.joined(separator: " ") }
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    private static func quoted(_ value: String) -> String {
        value.contains(where: { $0 == " " || $0 == "\"" || $0 == "\n" }) ? "\"\(value.replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n"))\"" : value
    }

    private static func timestamp() -> String {
        Date().formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}
