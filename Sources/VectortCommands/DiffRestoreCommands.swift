import ArgumentParser
import Foundation
import Protocol

/// `vectortctl diff`: how one version differs from another.
struct DiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Show how one version of a project differs from another, as unified diffs.",
        discussion: """
            Versions are ids (v_…) or numbers. Each added, deleted or changed file is printed as a unified \
            diff (coloured on a terminal, plain when piped); binary files are named only. --json prints \
            Projects.Diff's reply.

            Example: vectortctl diff p_3f2a 3 4
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var target: ProjectTarget

    @Argument(help: "The version to compare from.")
    var from: String

    @Argument(help: "The version to compare to.")
    var to: String

    func run() throws {
        var parameters = target.parameters
        parameters["from"] = .string(from)
        parameters["to"] = .string(to)
        try global.run {
            let diff = try decode(VersionDiff.self, try global.connect().call(MethodName.projectsDiff, parameters))
            Output.render(ColouredDiff(diff: diff, colour: isatty(STDOUT_FILENO) == 1), as: global.format)
        }
    }
}

/// A diff as people read it; `--json` prints the reply.
struct ColouredDiff: CommandResult {
    var diff: VersionDiff
    var colour: Bool

    func encode(to encoder: any Encoder) throws { try diff.encode(to: encoder) }

    var text: String {
        guard !diff.files.isEmpty else { return Output.lines("\(diff.from) and \(diff.to) have the same files") }
        var out = ""
        for file in diff.files {
            if file.binary == true {
                out += "Binary file \(file.path) \(file.status.rawValue)\n"
                continue
            }
            for line in (file.diff ?? "").split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
                out += paint(String(line)) + "\n"
            }
            if file.truncated == true { out += "… (\(file.path): diff cut at projects.diff_max_bytes)\n" }
        }
        return out
    }

    private func paint(_ line: String) -> String {
        guard colour else { return line }
        if line.hasPrefix("+++") || line.hasPrefix("---") { return "\u{1B}[1m\(line)\u{1B}[0m" }
        if line.hasPrefix("@@") { return "\u{1B}[36m\(line)\u{1B}[0m" }
        if line.hasPrefix("+") { return "\u{1B}[32m\(line)\u{1B}[0m" }
        if line.hasPrefix("-") { return "\u{1B}[31m\(line)\u{1B}[0m" }
        return line
    }
}

/// `vectortctl restore`: make an earlier version current again, as a new version.
struct RestoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Make a new current version identical to an earlier one (no provider call, no charge).",
        discussion: "Example: vectortctl restore p_3f2a 2")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var target: ProjectTarget

    @Argument(help: "The version to restore: an id (v_…) or a number.")
    var version: String

    func run() throws {
        var parameters = target.parameters
        parameters["version"] = .string(version)
        try global.run {
            let summary = try decode(VersionSummary.self, try global.connect().call(MethodName.projectsRestore, parameters))
            Output.render(Restored(version: summary), as: global.format)
        }
    }

    /// The new version; `--json` prints the reply.
    struct Restored: CommandResult {
        var version: VersionSummary

        func encode(to encoder: any Encoder) throws { try version.encode(to: encoder) }

        var text: String {
            Output.lines("restored \(version.project) as version \(version.number) (\(version.id)), \(version.files) files")
        }
    }
}

/// `vectortctl cancel`: stop a running generation from anywhere.
struct CancelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel",
        abstract: "Cancel a running generation; returns once its credit hold is released.",
        discussion: "Its Generate call ends with io.vectort.Cancelled. Example: vectortctl cancel g_4ef4a1da85ba0b8b")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Generation id (g_…).")
    var generation: String

    @Option(name: .long, help: "The owner acted for; required when connected with the client role.")
    var user: String?

    struct Cancelled: CommandResult {
        var result: GenerationCancellation

        func encode(to encoder: any Encoder) throws { try result.encode(to: encoder) }

        var text: String { Output.lines("\(result.generation) \(result.status.rawValue)") }
    }

    func run() throws {
        var parameters: [String: JSONValue] = ["generation": .string(generation)]
        if let user { parameters["user"] = .string(user) }
        try global.run {
            let result = try decode(
                GenerationCancellation.self, try global.connect().call(MethodName.projectsCancelGeneration, parameters))
            Output.render(Cancelled(result: result), as: global.format)
        }
    }
}
