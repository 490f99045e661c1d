import ArgumentParser
import Foundation
import Protocol

/// `vectortctl code`: `projects code`, plus writing a version out as a directory tree.
struct CodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "code",
        abstract: "List the files of a project version, print one, or write them all to a directory.",
        discussion: """
            Without -o, lists the files of the version (default: the current one) with their sizes, like \
            `projects code`; --path prints one file's contents as they are. With -o DIR, writes every file \
            under DIR, creating DIR and its subdirectories. DIR must be absent or empty unless --force is \
            given, and a path that would land outside DIR is refused before anything is written (exit 1). \
            With --json and -o, prints what was written (directory, project, version, files with their bytes).

            With --built, the same for the version's built site: what a browser or a static host serves.

            Example: vectortctl code p_3f2a --version 2 -o ./todo-app
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var target: ProjectTarget

    @Option(name: .long, help: "Version id (v_…) or number (default: the current version).")
    var version: String?

    @Option(name: .long, help: "Only this file; without -o its contents are printed raw.")
    var path: String?

    @Option(name: [.short, .customLong("output")], help: ArgumentHelp("Write the files under this directory.", valueName: "dir"))
    var output: String?

    @Flag(name: .long, help: "Write into DIR even if it is not empty, replacing files of the same paths.")
    var force = false

    @Flag(name: .long, help: "The version's built site (index.html and its hashed bundles) instead of its sources.")
    var built = false

    /// What `--json` prints with `-o`.
    struct Written: CommandResult {
        struct File: Codable {
            var path: String
            var bytes: Int
        }

        var directory: String
        var project: String
        var version: String
        var files: [File]

        var text: String {
            let bytes = files.reduce(0) { $0 + $1.bytes }
            return Output.lines(
                "wrote \(files.count) files (\(bytes) bytes) of \(project) version \(version) to \(directory)")
        }
    }

    func validate() throws {
        if force, output == nil { throw ValidationError("--force is for -o DIR only") }
    }

    func run() throws {
        var parameters = target.parameters
        if let version { parameters["version"] = .string(version) }
        if let path { parameters["path"] = .string(path) }
        if built { parameters["built"] = true }
        try global.run {
            if let output { try ProjectDirectory.checkWritable(output, force: force) }
            let code = try decode(ProjectCode.self, try global.connect().call(MethodName.projectsGetCode, parameters))
            if let output {
                try ProjectDirectory.write(code.files, to: output)
                let files = code.files.map { Written.File(path: $0.path, bytes: $0.byteCount) }
                let written = Written(directory: output, project: code.project, version: code.version, files: files)
                Output.render(written, as: global.format)
            } else {
                let result: any CommandResult = path == nil ? code : FileContents(code: code)
                Output.render(result, as: global.format)
            }
        }
    }
}

extension ProjectCode: CommandResult {
    /// `p_1 version v_2`, then each file's path and size in bytes.
    var text: String {
        let rows = files.map { [$0.path, String($0.byteCount)] }
        return Output.lines("\(project) version \(version)", Output.table([["PATH", "BYTES"]] + rows, indent: "  "))
    }
}

/// The files of a version asked for by `--path`: their contents exactly as they are for people.
struct FileContents: CommandResult {
    var code: ProjectCode

    func encode(to encoder: any Encoder) throws { try code.encode(to: encoder) }

    var text: String {
        code.files.map { file in
            file.isBinary ? "\(file.path): a binary file of \(file.byteCount) bytes; write it with -o DIR\n" : file.contents
        }.joined()
    }
}
