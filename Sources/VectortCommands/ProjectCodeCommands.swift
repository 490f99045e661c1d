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
                if global.json {
                    Output.json(code)
                } else if path != nil {
                    for file in code.files { FileHandle.standardOutput.write(Data(file.contents.utf8)) }
                } else {
                    Output.line("\(code.project) version \(code.version)")
                    let rows = code.files.map { [$0.path, String($0.contents.utf8.count)] }
                    Output.line(Output.table([["PATH", "BYTES"]] + rows, indent: "  "))
                }
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
                if global.json {
                    Output.json(list)
                    return
                }
                let rows = list.versions.map { version -> [String] in
                    let source = [version.generation, version.provider, version.model].compactMap { $0 }
                    return [
                        (version.current ? "*" : " ") + String(version.number), version.id, String(version.files),
                        String(version.bytes), version.createdAt, source.joined(separator: " "),
                    ]
                }
                Output.line(Output.table([[" #", "ID", "FILES", "BYTES", "CREATED", "SOURCE"]] + rows))
            }
        }
    }
}
