import Foundation
import Protocol

/// How `generate` shows a generation: each streamed event as it arrives, then a summary.
enum GenerationProgress {
    /// One streamed event: the object as it arrived for `--json`, its lines for people.
    struct Step: CommandResult {
        var event: [String: JSONValue]

        func encode(to encoder: any Encoder) throws { try JSONValue.object(event).encode(to: encoder) }

        var text: String { Output.lines(GenerationProgress.lines(for: event)) }
    }

    /// The final reply: printed as it arrived for `--json`, summarized for people.
    struct Summary: CommandResult {
        var reply: JSONValue
        var result: GenerationResult

        init(reply: JSONValue) throws(VectortClientError) {
            self.reply = reply
            result = try decode(GenerationResult.self, reply)
        }

        func encode(to encoder: any Encoder) throws { try reply.encode(to: encoder) }

        var text: String {
            let rows = [
                ["generation", result.generation],
                ["provider", "\(result.provider) \(result.model)"],
                ["files", String(result.files.count)],
                ["credits", "\(result.creditsCharged) charged"],
                ["tokens", "\(result.usage.inputTokens) in, \(result.usage.outputTokens) out"],
                ["attempts", String(result.attempts)],
                ["duration", QuantityDisplay.duration(milliseconds: result.durationMs)],
            ] + (result.build.map { build in
                [["build", "\(build.status.rawValue), \(build.files.count) files in \(QuantityDisplay.duration(milliseconds: build.durationMs ?? 0))"]]
            } ?? []) + GenerationProgress.changeRows(result) + (result.notes.map { [["notes", QuantityDisplay.truncated($0, to: 300)]] } ?? [])
            let verb = result.baseVersionNumber.map { "edited version \($0) of \(result.project) into" } ?? "generated \(result.project)"
            return Output.lines(
                "\(verb) version \(result.versionNumber) (\(result.version))",
                Output.table(rows, indent: "  "))
        }
    }

    /// An edit's changed, added and deleted files, a row each that has any.
    static func changeRows(_ result: GenerationResult) -> [[String]] {
        guard let changes = result.changes else { return [] }
        var rows: [[String]] = []
        for (name, paths) in [("changed", changes.changed), ("added", changes.added), ("deleted", changes.deleted)]
        where !paths.isEmpty {
            rows.append([name, paths.joined(separator: ", ")])
        }
        return rows.isEmpty ? [["changes", "none"]] : rows
    }

    /// The lines of one event; an event this client does not know is shown by its name.
    static func lines(for parameters: [String: JSONValue]) -> [String] {
        guard let event = try? JSONValue.object(parameters).decode(as: GenerationEvent.self) else {
            return ["  \(parameters["event"]?.stringValue ?? "event")"]
        }
        return lines(for: event)
    }

    static func lines(for event: GenerationEvent) -> [String] {
        let provider = event.provider ?? "provider"
        switch event.event {
        case .started:
            let details = [
                event.mode?.rawValue, event.creditsHeld.map { "\($0) credits held" },
            ].compactMap { $0 }
            let suffix = details.isEmpty ? "" : " (\(details.joined(separator: ", ")))"
            guard let base = event.baseVersionNumber else { return ["generation \(event.generation ?? "") started\(suffix)"] }
            var lines = ["editing version \(base): generation \(event.generation ?? "") started\(suffix)"]
            if let omitted = event.contextOmitted, !omitted.isEmpty {
                lines.append("  left out of the request for size: \(omitted.joined(separator: ", "))")
            }
            return lines
        case .attempt:
            var details = ["attempt \(event.attempt ?? 1)"]
            if let purpose = event.purpose, purpose != "generate" { details.append(purpose) }
            let model = event.model.map { " \($0)" } ?? ""
            return ["→ \(provider)\(model) (\(details.joined(separator: ", ")))"]
        case .retry:
            let delay = event.delaySeconds.map { " in \(QuantityDisplay.seconds($0))" } ?? ""
            return ["  retry\(delay): \(cause(event))"]
        case .fallback:
            guard let to = event.to else { return ["  giving up on \(provider): \(cause(event))"] }
            return ["  fallback \(provider) → \(to): \(cause(event))"]
        case .continue:
            return ["  continuing (cut off\(event.path.map { " in \($0)" } ?? ""))"]
        case .file:
            if event.deleted == true { return ["  - \(event.path ?? "?") (deleted)"] }
            let size = event.bytes.map { " (\(QuantityDisplay.bytes($0)))" } ?? ""
            return ["  + \(event.path ?? "?")\(size)"]
        case .validation:
            let issues = event.issues ?? []
            let count = issues.count == 1 ? "1 issue" : "\(issues.count) issues"
            let headline: String
            if event.passed ?? issues.isEmpty {
                headline = issues.isEmpty ? "  validation: passed" : "  validation: passed with \(count)"
            } else {
                headline = "  validation: \(count)"
            }
            return [headline] + issueLines(issues, indent: "    ")
        case .completed:
            return []
        }
    }

    /// What people need besides the error line: the validation issues of `GenerationFailed` and
    /// when to try again.
    static func errorDetails(_ error: WireError) -> [String] {
        var lines: [String] = []
        if let issues = try? error.details["issues"]?.decode(as: [GenerationIssue].self), !issues.isEmpty {
            lines.append("  issues:")
            lines += issueLines(issues, indent: "    ")
        }
        if error.name == .nothingChanged, let notes = error.details["notes"]?.stringValue {
            lines.append("  provider said: \(notes)")
        }
        if let retry = error.details["retry_after_seconds"], let seconds = try? retry.decode(as: Double.self) {
            lines.append("  retry after \(QuantityDisplay.seconds(seconds))")
        }
        return lines
    }

    /// `src/App.jsx:12: rule: message`, or `src/App.jsx:12:7:` with a column (build errors).
    static func issueLines(_ issues: [GenerationIssue], indent: String) -> [String] {
        issues.map { issue in
            let column = issue.line == nil ? nil : issue.column.map(String.init)
            let place = [issue.path, issue.line.map(String.init), column].compactMap { $0 }.joined(separator: ":")
            return indent + (place.isEmpty ? "" : place + ": ") + "\(issue.rule): \(issue.message)"
        }
    }

    /// `rate_limited: Too many requests` (the message shortened to keep the line readable).
    private static func cause(_ event: GenerationEvent) -> String {
        let reason = event.reason ?? "failed"
        guard let message = event.message, !message.isEmpty else { return reason }
        return "\(reason): \(QuantityDisplay.truncated(message, to: 100))"
    }
}
