import Foundation
import PackagePlugin

/// Compiles the files under a target's `Apps/` folder into the target as one generated
/// Swift source (`embed-starters` writes it), so the binary carries the starter apps without a
/// resource bundle. Every file is an input: editing one re-runs the tool.
@main
struct EmbedStarters: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) throws -> [Command] {
        let folder = target.directoryURL.appending(path: "Apps", directoryHint: .isDirectory)
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedStarters.swift")
        let inputs = try Self.files(under: folder)
        return [
            .buildCommand(
                displayName: "Embedding \(inputs.count) starter files in \(target.name)",
                executable: try context.tool(named: "embed-starters").url,
                arguments: [folder.path(percentEncoded: false), output.path(percentEncoded: false)],
                inputFiles: inputs,
                outputFiles: [output])
        ]
    }

    private static func files(under folder: URL) throws -> [URL] {
        let keys: [URLResourceKey] = [.isRegularFileKey]
        guard
            let walk = FileManager.default.enumerator(
                at: folder, includingPropertiesForKeys: keys, options: [.skipsHiddenFiles])
        else { return [] }
        var files: [URL] = []
        for case let url as URL in walk where try url.resourceValues(forKeys: Set(keys)).isRegularFile == true {
            files.append(url)
        }
        return files.sorted { $0.path < $1.path }
    }
}
