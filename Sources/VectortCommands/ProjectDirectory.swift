import Foundation
import Protocol

/// The files of a directory tree as a project version holds them.
enum ProjectDirectory {
    /// Regular files under `root`, by relative path, skipping dot-directories and symbolic links.
    static func files(under root: String) throws -> [ProjectFile] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw CommandFailure("\(root) is not a directory")
        }
        var files: [ProjectFile] = []
        try collect(root: root, relative: "", into: &files)
        guard !files.isEmpty else { throw CommandFailure("no files under \(root)") }
        return files
    }

    private static func collect(root: String, relative: String, into files: inout [ProjectFile]) throws {
        let directory = relative.isEmpty ? root : root + "/" + relative
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        } catch {
            throw CommandFailure("cannot read the directory \(directory)")
        }
        for name in names {
            let path = relative.isEmpty ? name : relative + "/" + name
            let full = root + "/" + path
            // attributesOfItem does not follow symbolic links, so a link is neither a file nor a directory.
            let type = (try? FileManager.default.attributesOfItem(atPath: full))?[.type] as? FileAttributeType
            if type == .typeDirectory {
                if !name.hasPrefix(".") { try collect(root: root, relative: path, into: &files) }
            } else if type == .typeRegular {
                guard let data = FileManager.default.contents(atPath: full) else {
                    throw CommandFailure("cannot read \(full)")
                }
                files.append(ProjectFile(path: path, bytes: data))
            }
        }
    }
}
