import ArgumentParser
import Foundation
import Protocol

extension Projects {
    struct ExportZip: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "export-zip",
            abstract: "Write a version of a project (default: the current one) to a ZIP file.",
            discussion: """
                An existing FILE is left alone (exit 1) unless --force is given; a file that cannot be written \
                exits 1. With --json, prints what was written (file, project, version, filename, bytes).
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var target: ProjectTarget

        @Option(name: .long, help: "Version id (v_…) or number (default: the current version).")
        var version: String?

        @Option(name: [.short, .customLong("output")], help: "The ZIP file to write.")
        var output: String

        @Flag(name: .long, help: "Replace FILE if it exists.")
        var force = false

        @Flag(name: .long, help: "The version's built site instead of its sources.")
        var built = false

        /// What `--json` prints: the reply without the archive itself.
        struct Written: CommandResult {
            var file: String
            var project: String
            var version: String
            var filename: String
            var bytes: Int

            var text: String { Output.lines("wrote \(file) (\(bytes) bytes, version \(version))") }
        }

        func run() throws {
            var parameters = target.parameters
            if let version { parameters["version"] = .string(version) }
            if built { parameters["built"] = true }
            try global.run {
                if !force, FileManager.default.fileExists(atPath: output) {
                    throw CommandFailure("\(output) exists; pass --force to replace it")
                }
                let export = try decode(ZipExport.self, try global.connect().call(MethodName.projectsExportZip, parameters))
                guard let archive = Data(base64Encoded: export.zipBase64) else {
                    throw VectortClientError.invalidReply("zip_base64 is not base64")
                }
                do {
                    try archive.write(to: URL(fileURLWithPath: output), options: force ? .atomic : .withoutOverwriting)
                } catch CocoaError.fileWriteFileExists {
                    throw CommandFailure("\(output) exists; pass --force to replace it")
                } catch {
                    throw CommandFailure("cannot write \(output): \(Self.reason(error))")
                }
                let written = Written(
                    file: output, project: export.project, version: export.version, filename: export.filename,
                    bytes: archive.count)
                Output.render(written, as: global.format)
            }
        }

        /// The system's reason (`No such file or directory`), which Foundation's description words vaguely.
        static func reason(_ error: any Error) -> String {
            if let underlying = (error as? CocoaError)?.underlying.map({ $0 as NSError }),
                underlying.domain == NSPOSIXErrorDomain, let message = strerror(Int32(underlying.code))
            {
                return String(cString: message)
            }
            return error.localizedDescription
        }
    }
}
