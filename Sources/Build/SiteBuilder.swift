import Foundation
public import Protocol
import Synchronization
public import Observability

/// What building a version's files produced.
public struct SiteBuild: Sendable, Equatable {
    public var status: ProjectBuild.Status
    public var duration: Duration
    /// Build errors (`rule: "build"` or `"entry_point"`), with 1-based lines and columns.
    public var errors: [GenerationIssue]
    /// The static site: `index.html`, hashed bundles and assets, source maps, `public/` files.
    public var files: [ProjectFile]

    public init(status: ProjectBuild.Status, duration: Duration, errors: [GenerationIssue] = [], files: [ProjectFile] = []) {
        self.status = status
        self.duration = duration
        self.errors = errors
        self.files = files
    }

    public static let skipped = SiteBuild(status: .skipped, duration: .zero)
}

/// Builds versions with esbuild into static sites, offline, each in a private scratch
/// directory that is removed afterwards, at most `maxConcurrent` at once.
public final class SiteBuilder: Sendable {
    public let settings: BuildSettings
    private let esbuild: String?
    private let chromium: String?
    /// Render checks run one at a time: each Chromium takes about a second and 220 MB.
    private let renderSlots = BuildSlots(1)

    /// The esbuild the builds run (nil while builds are off).
    public var esbuildExecutable: String? { esbuild }
    private let slots: BuildSlots
    private let metrics: Telemetry

    public struct Unavailable: Error, CustomStringConvertible {
        public var description: String
    }

    /// Fails when builds are on and esbuild cannot be found.
    public init(settings: BuildSettings, metrics: Telemetry = Telemetry(enabled: false)) throws(Unavailable) {
        self.settings = settings
        self.metrics = metrics
        slots = BuildSlots(settings.maxConcurrent)
        guard settings.enabled else {
            esbuild = nil
            chromium = nil
            return
        }
        if settings.renderCheck {
            guard let found = settings.resolvedChromium() else {
                throw Unavailable(
                    description: "chromium not found (build.render_check is on); install Debian's chromium or turn the check off")
            }
            chromium = found
        } else {
            chromium = nil
        }
        guard let found = settings.resolvedEsbuild() else {
            throw Unavailable(
                description: "esbuild not found (build.esbuild_path: \(settings.esbuildPath)); install Debian's esbuild, "
                    + "node-react and node-react-dom, or set build.enabled: false")
        }
        esbuild = found
    }

    /// Removes what builds of an earlier process left in the scratch directory.
    public func sweepScratch() {
        let root = settings.scratchDirectory
        for name in (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [] where name.hasPrefix("b-") {
            try? FileManager.default.removeItem(atPath: root + "/" + name)
        }
    }

    /// Builds `files` into a static site. `env` (`VITE_*` names) is what `import.meta.env` holds
    /// besides Vite's own keys: Vite reads env at build time, so a deployment with its own env
    /// is a build of its own.
    public func build(_ files: [ProjectFile], env: [String: String] = [:]) async throws -> SiteBuild {
        guard let esbuild else { return .skipped }
        let result = try await build(files, env: env, esbuild: esbuild)
        metrics.increment(Metric.builds, [result.status.rawValue])
        metrics.record(Metric.buildDuration, [result.status.rawValue], result.duration)
        return result
    }

    private func build(_ files: [ProjectFile], env: [String: String], esbuild: String) async throws -> SiteBuild {
        let clock = ContinuousClock()
        let started = clock.now
        let plan: BuildPlan
        switch BuildPlan.make(files) {
        case .issues(let issues):
            return SiteBuild(status: .failed, duration: clock.now - started, errors: issues)
        case .plan(let made):
            plan = made
        }
        let gate = ImportGate.issues(files)
        guard gate.isEmpty else { return SiteBuild(status: .failed, duration: clock.now - started, errors: gate) }
        try await slots.acquire()
        defer { slots.release() }
        let scratch = try Scratch(root: settings.scratchDirectory)
        defer { scratch.remove() }
        var result = try await BuildJob(
            plan: plan, files: files, scratch: scratch, settings: settings, env: env,
            runner: BoundedProcess(executable: esbuild, timeout: settings.timeout, maxOutputBytes: settings.maxOutputBytes)
        ).run()
        if result.status == .ok, let chromium {
            try await renderSlots.acquire()
            defer { renderSlots.release() }
            let issues = try await RenderCheck.issues(
                site: result.files, chromium: chromium, seconds: settings.renderSeconds, scratch: scratch.path,
                timeout: settings.timeout + .seconds(settings.renderSeconds * 2))
            if !issues.isEmpty {
                result = SiteBuild(status: .failed, duration: .zero, errors: issues)
            }
        }
        result.duration = clock.now - started
        return result
    }
}

/// A build's private directory: `project/` (the version's files, the working directory),
/// `modules/` (links to the allowed packages: `NODE_PATH`), `out/`, the metafile and the
/// daemon's own tsconfig.
struct Scratch: Sendable {
    let path: String
    var project: String { path + "/project" }
    var modules: String { path + "/modules" }
    var out: String { path + "/out" }
    var metafile: String { path + "/meta.json" }
    var tsconfig: String { path + "/tsconfig.json" }

    init(root: String) throws {
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        path = root + "/b-" + UUID().uuidString.lowercased()
        for directory in [path, path + "/project", path + "/modules", path + "/out"] {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        }
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// At most `count` builds at once; the others wait their turn (cancellable).
final class BuildSlots: Sendable {
    private struct State {
        var free: Int
        var waiting: [(UUID, CheckedContinuation<Void, any Error>)] = []
    }

    private let state: Mutex<State>

    init(_ count: Int) {
        state = Mutex(State(free: max(1, count)))
    }

    func acquire() async throws {
        let id = UUID()
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let now = state.withLock { state -> Bool in
                    if state.free > 0 {
                        state.free -= 1
                        return true
                    }
                    state.waiting.append((id, continuation))
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            let cancelled = state.withLock { state -> CheckedContinuation<Void, any Error>? in
                guard let index = state.waiting.firstIndex(where: { $0.0 == id }) else { return nil }
                return state.waiting.remove(at: index).1
            }
            cancelled?.resume(throwing: CancellationError())
        }
    }

    func release() {
        let next = state.withLock { state -> CheckedContinuation<Void, any Error>? in
            if state.waiting.isEmpty {
                state.free += 1
                return nil
            }
            return state.waiting.removeFirst().1
        }
        next?.resume()
    }
}
