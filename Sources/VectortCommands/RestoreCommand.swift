import ArgumentParser
import Foundation
import Protocol

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
