import Foundation
import Protocol

/// One build in its scratch directory: write the files, run esbuild, check what it read, and
/// assemble the static site.
struct BuildJob {
    let plan: BuildPlan
    let files: [ProjectFile]
    let scratch: Scratch
    let settings: BuildSettings
    /// `import.meta.env` entries beside Vite's own (`VITE_*` names; checked by the caller).
    var env: [String: String] = [:]
    let runner: BoundedProcess

    /// Loaders for files a bundle imports that are not code: emitted beside the page, hashed.
    static let assetExtensions = ["svg", "png", "jpg", "jpeg", "gif", "webp", "ico", "woff", "woff2", "ttf"]
    /// Files esbuild must not see: they could redirect its resolution (`browser` maps, `paths`).
    static let hiddenFiles: Set<String> = ["package.json", "tsconfig.json", "jsconfig.json"]

    func run() async throws -> SiteBuild {
        try write()
        switch plan.kind {
        case .bundle(let entry):
            try linkModules()
            try writeTSConfig()
            return try await bundle(entry: entry)
        case .staticSite:
            // Nothing is resolved in a static site: no packages, no tsconfig.
            return try await checkStaticSite()
        }
    }

    private func write() throws {
        for file in files where !Self.hiddenFiles.contains(file.path) {
            let target = scratch.project + "/" + file.path
            try FileManager.default.createDirectory(
                atPath: BuildPlan.parent(target), withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            try file.data.write(to: URL(fileURLWithPath: target))
        }
    }

    /// `modules/NAME` → the package in the first node path that has it, for the allowed names.
    private func linkModules() throws {
        for name in BuildSettings.allowedPackages {
            guard let source = settings.nodePaths.map({ $0 + "/" + name }).first(where: { FileManager.default.fileExists(atPath: $0) })
            else { continue }
            try FileManager.default.createSymbolicLink(atPath: scratch.modules + "/" + name, withDestinationPath: source)
        }
    }

    /// The daemon's tsconfig, whatever the version holds: JSX on, `@/…` for `src/…`.
    private func writeTSConfig() throws {
        let config = #"{"compilerOptions":{"jsx":"react-jsx","baseUrl":"project","paths":{"@/*":["src/*"]}}}"#
        try Data(config.utf8).write(to: URL(fileURLWithPath: scratch.tsconfig))
    }

    private var environment: [String: String] {
        ["PATH": "/usr/bin:/bin", "NODE_PATH": scratch.modules, "GOMAXPROCS": "1", "LANG": "C.UTF-8"]
    }

    private var commonArguments: [String] {
        [
            "--log-limit=0", "--color=false", "--log-override:css-syntax-error=error", "--tsconfig=\(scratch.tsconfig)",
            "--loader:.js=jsx",
        ]
    }

    /// The object `import.meta.env` becomes: Vite's keys and the deployment's `VITE_*` entries.
    var importMetaEnv: String {
        var object: [String: JSONValue] = ["MODE": "production", "PROD": true, "DEV": false, "BASE_URL": "./"]
        for (name, value) in env { object[name] = .string(value) }
        return String(decoding: (try? WireCoding.encoder.encode(JSONValue.object(object))) ?? Data("{}".utf8), as: UTF8.self)
    }

    // MARK: Bundled apps

    private func bundle(entry: String) async throws -> SiteBuild {
        var arguments = [entry] + plan.stylesheets.filter { $0 != entry }
        arguments += [
            "--bundle", "--format=esm", "--jsx=automatic", "--minify", "--sourcemap", "--sources-content=false",
            #"--define:process.env.NODE_ENV="production""#,
            "--define:import.meta.env=\(importMetaEnv)",
            "--entry-names=[name]-[hash]", "--asset-names=[name]-[hash]", "--outdir=\(scratch.out)",
            "--metafile=\(scratch.metafile)",
        ]
        // Root-relative URLs of public/ files (`url(/logo.png)` in CSS) are the site's root:
        // left as they are. A wildcard would match every resolved path.
        arguments += files.filter { $0.path.hasPrefix("public/") }.map { "--external:/" + $0.path.dropFirst("public/".count) }
        arguments += Self.assetExtensions.map { "--loader:.\($0)=file" }
        arguments += commonArguments
        var external: [String] = []
        if settings.externalPackages == .cdn {
            // React comes from the CDN too: a package from there bundles its own React otherwise.
            external = ["react", "react-dom"]
        }
        var outcome = try await runner.run(
            arguments + Self.externalArguments(external), workingDirectory: scratch.project, environment: environment)
        if settings.externalPackages == .cdn, outcome.status != 0, !outcome.timedOut, !outcome.outputOverLimit {
            // Packages the machine does not have are found by a first run and left to the CDN.
            let missing = Self.unresolvedPackages(EsbuildMessages.errors(outcome.output))
            if !missing.isEmpty {
                external += missing
                try? FileManager.default.removeItem(atPath: scratch.out)
                try FileManager.default.createDirectory(atPath: scratch.out, withIntermediateDirectories: false)
                outcome = try await runner.run(
                    arguments + Self.externalArguments(external), workingDirectory: scratch.project, environment: environment)
            }
        }
        if let failure = failure(outcome) { return failure }
        let meta = try Metafile.read(scratch.metafile)
        let packages = allowedPackageRoots
        if let outside = meta.inputs.first(where: { !allowedInput($0, packages: packages) }) {
            return failed("the build read \(outside), outside the project and the allowed packages")
        }
        var site: [ProjectFile] = []
        var total = 0
        for name in try FileManager.default.contentsOfDirectory(atPath: scratch.out).sorted() {
            let data = try Data(contentsOf: URL(fileURLWithPath: scratch.out + "/" + name))
            total += data.count
            site.append(ProjectFile(path: name, bytes: data))
        }
        // public/** is the site's root as it is (Vite's static directory); the CRA page is not.
        for file in files where file.path.hasPrefix("public/") && file.path != plan.page {
            site.append(ProjectFile(path: String(file.path.dropFirst("public/".count)), bytes: file.bytes))
            total += file.byteCount
        }
        guard total <= settings.maxOutputBytes else {
            return failed("the built site is \(total) bytes, above build.max_output_bytes (\(settings.maxOutputBytes))")
        }
        site.append(ProjectFile(path: "index.html", contents: page(entry: entry, meta: meta, importMap: importMap(external))))
        return SiteBuild(status: .ok, duration: .zero, files: site.sorted { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) })
    }

    /// The page pointing at the bundles: the entry script at the hashed module, local
    /// stylesheets at their built files, the entry's CSS linked in the head, root-relative URLs
    /// made relative (the site may be served below a path).
    private func page(entry: String, meta: Metafile, importMap: String?) -> String {
        let source = files.first { $0.path == plan.page }!.contents
        let html = HTMLPage(source)
        let directory = BuildPlan.parent(plan.page)
        var replacements: [(Range<Int>, String)] = []
        var entryTagSeen = false
        for tag in html.tags {
            if tag.isModuleScript, let src = tag.attributes["src"], BuildPlan.localPath(src, from: directory) == entry,
                let built = meta.output(for: entry)
            {
                replacements.append((tag.range, #"<script type="module" crossorigin src="./\#(built)"></script>"#))
                entryTagSeen = true
            } else if tag.isStylesheet, let href = tag.attributes["href"],
                let path = BuildPlan.localPath(href, from: directory), let built = meta.output(for: path)
            {
                replacements.append((tag.range, #"<link rel="stylesheet" href="./\#(built)">"#))
            }
        }
        var head = ""
        if let importMap { head += #"<script type="importmap">"# + importMap + "</script>\n" }
        if let css = meta.cssBundle(for: entry) { head += #"<link rel="stylesheet" href="./\#(css)">"# + "\n" }
        if !entryTagSeen, let built = meta.output(for: entry) {
            head += #"<script type="module" crossorigin src="./\#(built)"></script>"# + "\n"
        }
        var text = html.rewritten(replacements, extraHead: head)
        text = text.replacingOccurrences(of: "%PUBLIC_URL%", with: ".")
        return text.replacing(#/(src|href)="\/(?!\/)/#) { match in "\(match.output.1)=\"./" }
    }

    /// Whether esbuild may have read `path` (relative to the project): a file of the project or
    /// of an allowed package, symbolic links resolved.
    static func externalArguments(_ packages: [String]) -> [String] {
        packages.flatMap { ["--external:\($0)", "--external:\($0)/*"] }
    }

    /// The bare packages esbuild could not resolve, from its errors (`Could not resolve "x/y"`).
    static func unresolvedPackages(_ errors: [GenerationIssue]) -> [String] {
        var names: [String] = []
        for error in errors where error.message.hasPrefix("Could not resolve \"") {
            let specifier = error.message.dropFirst("Could not resolve \"".count).prefix { $0 != "\"" }
            guard let first = specifier.first, first != ".", first != "/" else { continue }
            let parts = specifier.split(separator: "/")
            let name = specifier.hasPrefix("@") && parts.count > 1 ? parts[0] + "/" + parts[1] : parts[0]
            if !names.contains(String(name)) { names.append(String(name)) }
        }
        return names
    }

    /// The page's import map for packages left to the CDN (`build.external_packages: cdn`).
    private func importMap(_ packages: [String]) -> String? {
        guard !packages.isEmpty else { return nil }
        let base = settings.cdnBase.hasSuffix("/") ? String(settings.cdnBase.dropLast()) : settings.cdnBase
        var imports: [String: String] = [:]
        for name in packages {
            let url =
                ["react", "react-dom"].contains(name) ? "\(base)/\(name)@18.2.0" : "\(base)/\(name)?external=react,react-dom"
            imports[name] = url
            imports[name + "/"] = ["react", "react-dom"].contains(name) ? "\(base)/\(name)@18.2.0/" : "\(base)/\(name)/"
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(["imports": imports])).map { String(decoding: $0, as: UTF8.self) }
    }

    private func allowedInput(_ path: String, packages: [String]) -> Bool {
        let absolute = URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: scratch.project + "/")).standardizedFileURL.path
        if absolute.hasPrefix(scratch.project + "/") { return true }
        return packages.contains { absolute.hasPrefix($0 + "/") }
    }

    /// The real directories of the allowed packages.
    private var allowedPackageRoots: [String] {
        settings.nodePaths.flatMap { root in
            BuildSettings.allowedPackages.map { URL(fileURLWithPath: root + "/" + $0).resolvingSymlinksInPath().path }
        }
    }

    // MARK: Static sites

    /// A static site is its files; esbuild reads each script and stylesheet for syntax only.
    private func checkStaticSite() async throws -> SiteBuild {
        let sources = files.filter {
            !$0.isBinary && (["js", "mjs", "css"].contains(BuildPlan.fileExtension($0.path)))
        }.map(\.path)
        if !sources.isEmpty {
            let arguments = sources + ["--outdir=\(scratch.out)", "--outbase=.", "--loader:.mjs=js"] + commonArguments.filter {
                $0 != "--loader:.js=jsx" && !$0.hasPrefix("--tsconfig=")
            }
            let outcome = try await runner.run(arguments, workingDirectory: scratch.project, environment: environment)
            if let failure = failure(outcome) { return failure }
        }
        return SiteBuild(status: .ok, duration: .zero, files: files)
    }

    // MARK: Failures

    private func failure(_ outcome: BoundedProcess.Outcome) -> SiteBuild? {
        if outcome.timedOut {
            return failed("esbuild ran past build.timeout_seconds (\(settings.timeout.components.seconds) s) and was stopped")
        }
        if outcome.outputOverLimit {
            return failed("esbuild wrote more than build.max_output_bytes (\(settings.maxOutputBytes)) and was stopped")
        }
        guard outcome.status != 0 else { return nil }
        var errors = EsbuildMessages.errors(outcome.output)
        if errors.isEmpty {
            let reason = outcome.status == 128 + 25 ? "a file it wrote passed build.max_output_bytes" : "it exited with status \(outcome.status)"
            errors = [GenerationIssue(path: nil, rule: "build", message: "esbuild failed: \(reason)")]
        }
        return SiteBuild(status: .failed, duration: .zero, errors: errors)
    }

    private func failed(_ message: String) -> SiteBuild {
        SiteBuild(status: .failed, duration: .zero, errors: [GenerationIssue(path: nil, rule: "build", message: message)])
    }
}

/// The parts of esbuild's metafile a build reads.
struct Metafile {
    struct Output: Decodable {
        var entryPoint: String?
        var cssBundle: String?
    }

    private struct File: Decodable {
        var inputs: [String: Input]
        var outputs: [String: Output]
    }

    private struct Input: Decodable {}

    var inputs: [String]
    var outputs: [String: Output]

    static func read(_ path: String) throws -> Metafile {
        let file = try JSONDecoder().decode(File.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        return Metafile(inputs: Array(file.inputs.keys), outputs: file.outputs)
    }

    /// The built file (its name in the site) of an entry point.
    func output(for entry: String) -> String? {
        outputs.first { $0.value.entryPoint == entry && !$0.key.hasSuffix(".map") }.map { Self.name($0.key) }
    }

    func cssBundle(for entry: String) -> String? {
        outputs.first { $0.value.entryPoint == entry }?.value.cssBundle.map(Self.name)
    }

    private static func name(_ path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? path
    }
}
