import ArgumentParser
import Foundation
import Protocol

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Export a project's version elsewhere.", subcommands: [GitHub.self])

    struct GitHub: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "github",
            abstract: "Push a version's whole tree to GitHub as one commit, creating the repository if needed.",
            discussion: """
                Uses the operator's github-token credential. The commit holds exactly the version's files; \
                exporting the version the branch already holds makes no commit. A repository with commits that \
                this project never exported to is refused unless --force.
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var target: ProjectTarget

        @Option(name: .long, help: "Version id or number (default: the current one).")
        var version: String?

        @Option(name: .long, help: "name or owner/name (default: the last export's, else named after the project).")
        var repo: String?

        @Flag(name: .long, inversion: .prefixedNo, help: "Make a new repository private (default) or public.")
        var `private` = true

        @Option(name: .long, help: "The commit message.")
        var message: String?

        @Flag(name: .long, help: "Add the version on top of a repository this project never exported to.")
        var force = false

        func run() throws {
            var parameters = target.parameters
            if let version { parameters["version"] = Int(version).map { .int(Int64($0)) } ?? .string(version) }
            if let repo { parameters["repo"] = .string(repo) }
            parameters["private"] = .bool(`private`)
            if let message { parameters["message"] = .string(message) }
            if force { parameters["force"] = .bool(true) }
            try global.run {
                let result = try decode(
                    GitHubExportResult.self,
                    try global.connect().call(MethodName.projectsExportGitHub, parameters, timeout: global.timeout ?? 300))
                Output.render(result, as: global.format)
            }
        }
    }
}

extension GitHubExportResult: CommandResult {
    var text: String {
        let what = committed ? "committed \(commitSHA.prefix(12)) with \(files) files" : "already there at \(commitSHA.prefix(12)): no commit"
        return Output.lines(
            htmlURL, "  \(repo) \(branch): \(what)\(createdRepository ? " (repository created)" : "")")
    }
}
