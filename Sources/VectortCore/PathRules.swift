public import Protocol

/// Limits on one version's files.
public struct VersionLimits: Sendable, Equatable {
    public var maxFiles: Int
    public var maxBytes: Int
    public var maxPathBytes: Int

    public init(maxFiles: Int = 2000, maxBytes: Int = 20 * 1024 * 1024, maxPathBytes: Int = 512) {
        self.maxFiles = maxFiles
        self.maxBytes = maxBytes
        self.maxPathBytes = maxPathBytes
    }
}

/// What a file path in a project may be: relative, inside the project, printable.
public enum PathRules {
    public static func validate(_ files: [ProjectFile], limits: VersionLimits) throws {
        guard !files.isEmpty else { throw EngineError.invalid("files", "a version needs at least one file") }
        guard files.count <= limits.maxFiles else {
            throw EngineError.invalid("files", "\(files.count) files is more than the limit of \(limits.maxFiles)")
        }
        var seen = Set<String>()
        var total = 0
        for file in files {
            try validate(path: file.path, limits: limits)
            guard seen.insert(file.path).inserted else { throw EngineError.invalid("files", "duplicate path \(file.path)") }
            total += file.byteCount
        }
        if let (file, inside) = fileDirectoryConflicts(files.map(\.path)).first {
            throw EngineError.invalid("files", "path \"\(file)\" is a file and also the directory of \"\(inside)\"")
        }
        guard total <= limits.maxBytes else {
            throw EngineError.invalid("files", "\(total) bytes is more than the limit of \(limits.maxBytes)")
        }
    }

    /// A control character (general category Cc) or a line/paragraph separator. Cc is fixed by
    /// Unicode's stability policy, U+0000–U+001F and U+007F–U+009F, so comparing values spares a
    /// property lookup per scalar.
    package static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        return value < 0x20 || (0x7F...0x9F).contains(value) || value == 0x2028 || value == 0x2029
    }

    /// Each path that is also a directory of another path (`a` beside `a/b`), with that other path.
    public static func fileDirectoryConflicts(_ paths: [String]) -> [(file: String, inside: String)] {
        let all = Set(paths)
        var conflicts: [(String, String)] = []
        for path in paths {
            var directory = Substring(path)
            while let slash = directory.lastIndex(of: "/") {
                directory = directory[..<slash]
                if all.contains(String(directory)) { conflicts.append((String(directory), path)) }
            }
        }
        return conflicts
    }

    public static func validate(path: String, limits: VersionLimits = VersionLimits()) throws {
        func reject(_ why: String) -> EngineError { .invalid("files", "path \"\(path)\" \(why)") }
        guard !path.isEmpty else { throw reject("is empty") }
        guard path.utf8.count <= limits.maxPathBytes else { throw reject("is longer than \(limits.maxPathBytes) bytes") }
        guard !path.hasPrefix("/") else { throw reject("is absolute") }
        guard !path.contains("\\") else { throw reject("contains a backslash") }
        guard
            !path.unicodeScalars.contains(where: isControl)
        else {
            throw reject("contains a control character")
        }
        for component in path.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false) {
            if component.isEmpty { throw reject("has an empty component") }
            if component.allSatisfy({ $0 == UInt8(ascii: ".") }) && component.count <= 2 {
                throw reject("leaves or names the project directory")
            }
        }
    }
}
