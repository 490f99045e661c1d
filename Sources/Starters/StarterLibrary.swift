import Mustache
import Protocol

/// The starter app templates: the files under `Sources/Starters/Apps`, compiled in by the
/// `EmbedStarters` build plugin and parsed once. A folder per starter holds the files it
/// emits; `shared/` holds partials (`{{> shared/base.css}}`) and is never emitted itself.
enum StarterLibrary {
    /// The order a starter's files are streamed in; any other file of the folder follows,
    /// sorted by path.
    static let leadingFiles = ["index.html", "styles.css", "app.js", "README.md", "package.json"]

    /// The files of the starter, filled with the values.
    static func files(_ kind: StarterKind, values: StarterValues) -> [ProjectFile] {
        let folder = kind.rawValue + "/"
        return paths[kind, default: []].map { path in
            guard let contents = library.render(values, withTemplate: folder + path) else {
                preconditionFailure("no starter template \(folder + path)")
            }
            return ProjectFile(path: path, contents: contents)
        }
    }

    private static let paths: [StarterKind: [String]] = {
        var paths: [StarterKind: [String]] = [:]
        for kind in StarterKind.allCases {
            let folder = kind.rawValue + "/"
            let files = EmbeddedStarters.files.keys.filter { $0.hasPrefix(folder) }.map { String($0.dropFirst(folder.count)) }
            paths[kind] = leadingFiles.filter(files.contains) + files.filter { !leadingFiles.contains($0) }.sorted()
        }
        return paths
    }()

    /// Every template, its content type set by a pragma line that Mustache drops from the output.
    /// The templates are part of the build and tests render every one, so a template that does
    /// not parse is a programming error.
    private static let library: MustacheLibrary = {
        StarterContentType.registerAll()
        var library = MustacheLibrary()
        for (path, text) in EmbeddedStarters.files {
            guard let type = StarterContentType.forFile(path) else {
                preconditionFailure("starter template \(path) has no content type for its extension")
            }
            do {
                try library.register("{{% CONTENT_TYPE: \(type.name) }}\n" + text, named: path)
            } catch {
                preconditionFailure("starter template \(path) does not parse: \(error)")
            }
        }
        return library
    }()
}
