import Foundation
import Logging

/// Readable log lines on stderr, for running by hand:
/// `2026-11-26T09:12:03.512Z info  serving the control socket socket=/run/vectortd.sock`.
struct StderrLogHandler: CoreLogHandler {
    var core: LogHandlerCore
    let label: String

    init(label: String, levels: LogLevelControl) {
        self.label = label
        self.core = LogHandlerCore(levels: levels)
    }

    func log(event: LogEvent) {
        let level = event.level
        let message = event.message
        let merged = core.merged(event)
        let fields = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\(Self.quoted("\($0.value)"))" }
        let levelText = level.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)
        var text = "\(Self.timestamp()) \(levelText) \(message)"
        if !fields.isEmpty { text += " " + fields.joined(separator: " ") }
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// Values with spaces, quotes or newlines are quoted so that each entry stays one line.
    private static func quoted(_ value: String) -> String {
        guard value.contains(where: { $0 == " " || $0 == "\"" || $0 == "\n" }) else { return value }
        let escaped = value.replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
        return "\"\(escaped)\""
    }

    private static func timestamp() -> String {
        Date().formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}
