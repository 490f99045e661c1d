public import Foundation

/// How versions are built (`build.*` in the configuration).
public struct BuildSettings: Sendable, Equatable {
    /// What a bare import of a package that is not installed becomes.
    public enum ExternalPackages: String, Sendable, Equatable, CaseIterable {
        /// A build error naming the package.
        case error
        /// Left external and mapped through an import map to `cdnBase`.
        case cdn
    }

    public var enabled = true
    /// `esbuild`, looked up on PATH, or a path.
    public var esbuildPath = "esbuild"
    /// Where Debian's node packages live (react, react-dom and what they need).
    public var nodePaths = ["/usr/share/nodejs"]
    public var timeout: Duration = .seconds(20)
    /// Captured output plus the bytes of the built files, at most.
    public var maxOutputBytes = 20 * 1024 * 1024
    public var externalPackages = ExternalPackages.error
    public var cdnBase = "https://esm.sh"
    /// Builds running at once; more wait.
    public var maxConcurrent = 2
    /// Load each built site in headless Chromium and count console errors as build errors.
    public var renderCheck = false
    /// Virtual time the page gets to run in the render check.
    public var renderSeconds = 3.0
    /// The Chromium of the render check: a name on `PATH`, or a path.
    public var chromiumPath = "chromium"
    /// Where each build gets its private directory (swept at start).
    public var scratchDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("vectortd-build").path

    /// The packages a build may resolve from `nodePaths`: React and what it loads.
    public static let allowedPackages = ["react", "react-dom", "scheduler", "loose-envify", "js-tokens"]

    public init() {}

    /// The esbuild executable, when it can be found: the path itself, or the first match on `PATH`.
    public func resolvedEsbuild(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        Self.resolve(esbuildPath, environment: environment)
    }

    /// The Chromium of the render check, when it can be found.
    public func resolvedChromium(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        Self.resolve(chromiumPath, environment: environment)
    }

    static func resolve(_ name: String, environment: [String: String]) -> String? {
        if name.contains("/") {
            return FileManager.default.isExecutableFile(atPath: name) ? name : nil
        }
        let path = environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}
