import ArgumentParser
import Foundation
import Protocol

extension Projects {
    struct Code: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the files of a version (default: the current one), or print one file.",
            discussion: "With --path, the file's contents are written to standard output as they are (no table).")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var target: ProjectTarget

        @Option(name: .long, help: "Version id (v_…) or number (default: the current version).")
        var version: String?

        @Option(name: .long, help: "Only this file; its contents are printed raw.")
        var path: String?

        func run() throws {
            var parameters = target.parameters
            if let version { parameters["version"] = .string(version) }
            if let path { parameters["path"] = .string(path) }
            try global.run {
                let code = try decode(ProjectCode.self, try global.connect().call(MethodName.projectsGetCode, parameters))
                let result: any CommandResult = path == nil ? code : FileContents(code: code)
                Output.render(result, as: global.format)
            }
        }
    }

    struct Versions: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the versions of a project, newest first; * marks the current one.")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var target: ProjectTarget

        func run() throws {
            try global.run {
                let list = try decode(
                    VersionList.self, try global.connect().call(MethodName.projectsListVersions, target.parameters))
                Output.render(list, as: global.format)
            }
        }
    }
}

extension VersionList: CommandResult {
    var text: String {
        let numbers = Dictionary(versions.map { ($0.id, $0.number) }, uniquingKeysWith: { $1 })
        let rows = versions.map { version -> [String] in
            let source = [version.provider, version.model].compactMap { $0 }
            let base = version.baseVersion.map { numbers[$0].map(String.init) ?? $0 } ?? "-"
            let changes = version.changes.map { "~\($0.changed) +\($0.added) -\($0.deleted)" } ?? "new"
            let origin = version.generation == nil && version.baseVersion != nil ? "restored" : source.joined(separator: " ")
            return [
                (version.current ? "*" : " ") + String(version.number), version.id, String(version.files),
                String(version.bytes), version.createdAt, base, changes, origin,
                version.prompt.map { QuantityDisplay.truncated($0, to: 50) } ?? "",
            ]
        }
        return Output.lines(
            Output.table([[" #", "ID", "FILES", "BYTES", "CREATED", "BASE", "CHANGES", "SOURCE", "PROMPT"]] + rows))
    }
}
