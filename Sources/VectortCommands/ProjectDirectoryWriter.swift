import Foundation
import Protocol

extension ProjectDirectory {
    /// Checks, before anything is fetched, that `root` may receive a version: absent, an empty
    /// directory, or (with `force`) any directory.
    static func checkWritable(_ root: String, force: Bool) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory) else { return }
        guard isDirectory.boolValue else { throw CommandFailure("\(root) exists and is not a directory") }
        if !force, let entries = try? FileManager.default.contentsOfDirectory(atPath: root), !entries.isEmpty {
            throw CommandFailure("\(root) is not empty; pass --force to write into it")
        }
    }

    /// Writes `files` under `root`, creating it and the directories of each path. Every path is
    /// checked before anything is written: the daemon validates paths too, but a file must never
    /// land outside `root`, whether by an absolute path, a `..` component, or a symbolic link
    /// already in `root` (possible with `--force`).
    static func write(_ files: [ProjectFile], to root: String) throws {
        let relative = try files.map { file -> [String] in
            guard let components = components(of: file.path) else {
                throw CommandFailure("refusing to write \(file.path): not a relative path inside \(root)")
            }
            return components
        }
        do {
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        } catch {
            throw CommandFailure("cannot create \(root): \(Projects.ExportZip.reason(error))")
        }
        for (file, components) in zip(files, relative) {
            var directory = root
            for name in components.dropLast() {
                directory += "/" + name
                try makeDirectory(directory, for: file.path)
            }
            let target = directory + "/" + components[components.count - 1]
            if itemType(at: target) == .typeSymbolicLink {
                throw CommandFailure("refusing to write \(file.path): \(target) is a symbolic link")
            }
            do {
                try file.data.write(to: URL(fileURLWithPath: target), options: .atomic)
            } catch {
                throw CommandFailure("cannot write \(target): \(Projects.ExportZip.reason(error))")
            }
        }
    }

    /// The components of a relative path with no empty, `.` or `..` component; `nil` for any other path.
    static func components(of path: String) -> [String]? {
        guard !path.isEmpty, !path.hasPrefix("/"), !path.contains("\0") else { return nil }
        let components = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard components.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." }) else { return nil }
        return components
    }

    /// Creates one directory level; an existing real directory is fine, a link or a file is not.
    private static func makeDirectory(_ directory: String, for path: String) throws {
        switch itemType(at: directory) {
        case .typeDirectory?:
            return
        case nil:
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
            } catch {
                throw CommandFailure("cannot create \(directory): \(Projects.ExportZip.reason(error))")
            }
        case .typeSymbolicLink?:
            throw CommandFailure("refusing to write \(path): \(directory) is a symbolic link")
        default:
            throw CommandFailure("cannot write \(path): \(directory) is not a directory")
        }
    }

    /// The type of the item at `path` itself (a link is not followed), `nil` when there is none.
    private static func itemType(at path: String) -> FileAttributeType? {
        (try? FileManager.default.attributesOfItem(atPath: path))?[.type] as? FileAttributeType
    }
}
