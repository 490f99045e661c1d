import ArgumentParser
import Foundation
import Protocol

extension Projects {
    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Store the files of a directory as a new version of a project (admin).",
            discussion: """
                Every regular file under DIR, recursively, becomes a file of the version at its path relative \
                to DIR. Directories whose names begin with a dot (.git, .build) are skipped and symbolic links \
                are not followed. Files that are not UTF-8 text (images, fonts) are sent as binary files and \
                stored byte for byte.
                """)

        @OptionGroup var global: GlobalOptions

        @Argument(help: "Project id (p_…).")
        var project: String

        @Argument(help: "The directory to import.")
        var directory: String

        func run() throws {
            try global.run {
                let files = try ProjectDirectory.files(under: directory)
                let parameters: [String: JSONValue] = [
                    "project": .string(project),
                    "files": .object(Dictionary(uniqueKeysWithValues: files.map { file in
                        (file.path, file.binary.map { .object(["base64": .string(Data($0).base64EncodedString())]) } ?? .string(file.contents))
                    })),
                ]
                let version = try decode(
                    VersionSummary.self, try global.connect().call(MethodName.projectsImportFiles, parameters))
                Output.render(Result(version: version), as: global.format)
            }
        }

        /// The version stored.
        struct Result: CommandResult {
            var version: VersionSummary

            func encode(to encoder: any Encoder) throws { try version.encode(to: encoder) }

            var text: String {
                Output.lines(
                    "imported \(version.files) files (\(version.bytes) bytes) into \(version.project) "
                        + "as version \(version.number) (\(version.id))")
            }
        }
    }
}
