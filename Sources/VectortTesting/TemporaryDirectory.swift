import Foundation

/// A directory under /tmp removed when the value is released. Paths stay short, since a Unix
/// socket path must fit in 108 bytes.
public final class TemporaryDirectory: Sendable {
    public let path: String

    public init(prefix: String = "vt") throws {
        var template = Array("/tmp/\(prefix)-XXXXXX".utf8CString)
        guard let created = mkdtemp(&template) else {
            throw CocoaError(.fileWriteUnknown)
        }
        path = String(cString: created)
        chmod(path, 0o755)
    }

    public func file(_ name: String) -> String { path + "/" + name }

    /// Writes a file, creating parent directories.
    @discardableResult
    public func write(_ name: String, _ contents: String, mode: Int = 0o644) throws -> String {
        let target = file(name)
        try FileManager.default.createDirectory(
            atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try contents.write(toFile: target, atomically: true, encoding: .utf8)
        chmod(target, mode_t(mode))
        return target
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }
}
