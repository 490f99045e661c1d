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
