import ArgumentParser
import Foundation
import Protocol

/// `vectortctl build`: what building a version produced, building it first when it has no build.
struct BuildCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Show a version's build, building it first if it has none (admin).",
        discussion: """
            A version stored before builds existed, or while build.enabled was false, has no build: this \
            builds it (Projects.Build) and stores the result. A version that has one shows it (Projects.GetBuild \
            with --show, which a client may use). Exit 0 when the version built, 1 when it did not, with the \
            errors as FILE:LINE:COLUMN: MESSAGE.

            Example: vectortctl build p_3f2a 2
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Project id (p_…).")
    var project: String

    @Argument(help: "Version id (v_…) or number (default: the current version).")
    var version: String?

    @Option(name: .long, help: "The owner acted for, with --show and the client role.")
    var user: String?

    @Flag(name: .long, help: "Only show the build (Projects.GetBuild); build nothing.")
    var show = false

    func run() throws {
        var parameters: [String: JSONValue] = ["project": .string(project)]
        if let version { parameters["version"] = .string(version) }
        if let user { parameters["user"] = .string(user) }
        try global.run {
            let method = show || user != nil ? MethodName.projectsGetBuild : MethodName.projectsBuild
            let build = try decode(ProjectBuild.self, try global.connect().call(method, parameters))
            Output.render(build, as: global.format)
            if build.status == .failed { throw ExitCode(ExitCodes.failure) }
        }
    }
}

extension ProjectBuild: CommandResult {
    /// `p_1 version v_2: ok in 154 ms, 4 files`, then the files or the errors.
    var text: String {
        let duration = durationMs.map { " in \($0) ms" } ?? ""
        var lines = ["\(project) version \(version): \(status.rawValue)\(duration)"]
        for error in errors {
            var location = error.path ?? "(project)"
            if let line = error.line { location += ":\(line)" }
            if let column = error.column { location += ":\(column)" }
            lines.append("  \(location): \(error.message)")
        }
        if status == .ok {
            lines.append(Output.table([["PATH", "BYTES"]] + files.map { [$0.path, String($0.bytes)] }, indent: "  "))
        }
        return Output.lines(lines)
    }
}
