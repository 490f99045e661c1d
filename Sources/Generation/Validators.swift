import Foundation
public import Protocol
import VectortCore

/// One problem found in generated files, as the `validation` event carries it: `rule` is a
/// stable snake_case name; `path` is nil for a problem of the whole project; `line` is 1-based.
public typealias ValidationIssue = GenerationIssue

/// Checks that a set of generated files can plausibly build and render, without running anything.
///
/// Rules (names are stable):
/// - `json_syntax`: every `.json` file parses (`tsconfig*.json`, `jsconfig*.json` and `.vscode/`
///   files may hold comments and trailing commas, as their tools allow); JSON in
///   `<script type="application/json|importmap|application/ld+json">` too.
/// - `package_json`: the root `package.json` has a string `name` and an object `scripts` (nested
///   ones may be mere `{"type": "module"}` markers).
/// - `html_structure`: `.html`/`.htm` files are well-formed enough to render (see `HTMLChecker`).
/// - `import_resolution`: the page's relative references (`<script src>`, stylesheets) point at
///   generated files (see `ImportResolver`).
///
/// Scripts and stylesheets themselves are read by the build (esbuild), whose errors come back
/// as issues with `rule: "build"`.
/// - `entry_point`: the project can start: `index.html` at the root, or `package.json` with
///   `src/main.*`/`src/index.*` (a Vite app needs `index.html` at the root, loading a module script;
///   a Next.js app needs `app/page.*` or `pages/index.*`).
public enum Validators {
    public enum Rule {
        public static let jsonSyntax = "json_syntax"
        public static let packageJSON = "package_json"
        public static let htmlStructure = "html_structure"
        public static let importResolution = "import_resolution"
        public static let entryPoint = "entry_point"
        public static let pathConflict = "path_conflict"
    }

    /// Whether an issue comes from what was asked rather than from a broken answer: an app this
    /// platform does not build (a server framework, no page to start from: `entry_point`), a
    /// package outside the allowed set (esbuild's `Could not resolve "name"` for a bare name), or
    /// the version limits. Such issues never count for a provider's breaker.
    public static func isRequestsFault(_ issue: ValidationIssue) -> Bool {
        switch issue.rule {
        case Rule.entryPoint, "limits":
            return true
        case "build":
            guard let start = issue.message.range(of: "Could not resolve \"") else { return false }
            let name = issue.message[start.upperBound...]
            return !(name.hasPrefix(".") || name.hasPrefix("/"))
        default:
            return false
        }
    }

    /// All issues of `files`, sorted by path (project-wide issues first) then line. When two files
    /// share a path, the later one counts.
    public static func validate(_ files: [ProjectFile]) -> [ValidationIssue] {
        var byPath: [String: ProjectFile] = [:]
        for file in files { byPath[file.path] = file }
        let resolver = ImportResolver(paths: Set(byPath.keys))
        var issues = pathConflicts(files)
        var htmlScripts: [String: [HTMLChecker.Script]] = [:]

        // Binary files (images, fonts) have no syntax to check.
        for file in byPath.values where !file.isBinary {
            let path = file.path
            switch fileExtension(path) {
            case "json":
                let syntax = JSONChecker.check(file.contents, lenient: JSONChecker.allowsComments(path: path))
                if let problem = syntax {
                    issues.append(ValidationIssue(path: path, rule: Rule.jsonSyntax, message: problem.message, line: problem.line))
                } else if path == "package.json" {
                    issues += packageJSON(file)
                }
            case "html", "htm":
                let result = HTMLChecker.check(file.contents)
                issues += result.problems.map { ValidationIssue(path: path, rule: $0.rule, message: $0.message, line: $0.line) }
                htmlScripts[path] = result.scripts
                for reference in result.references {
                    issues += resolver.check(reference, from: path)
                }
            default:
                break
            }
        }
        issues += entryPoint(byPath, htmlScripts: htmlScripts)
        return issues.enumerated().sorted { a, b in
            let left = (a.element.path ?? "", a.element.line ?? 0, a.offset)
            let right = (b.element.path ?? "", b.element.line ?? 0, b.offset)
            return left < right
        }.map(\.element)
    }

    /// The issues as short lines for a repair prompt: at most `limit` lines, then a count of the rest.
    public static func summary(_ issues: [ValidationIssue], limit: Int = 40) -> String {
        guard !issues.isEmpty else { return "No problems found." }
        var lines = issues.prefix(limit).map { issue in
            var location = issue.path ?? "(project)"
            if let line = issue.line { location += ":\(line)" }
            return "- \(location): \(issue.message) [\(issue.rule)]"
        }
        if issues.count > limit { lines.append("- … and \(issues.count - limit) more problems") }
        return lines.joined(separator: "\n")
    }

    // MARK: package.json and entry point

    static func packageJSON(_ file: ProjectFile) -> [ValidationIssue] {
        func issue(_ message: String) -> ValidationIssue {
            ValidationIssue(path: file.path, rule: Rule.packageJSON, message: message)
        }
        guard let object = jsonObject(file.contents) else { return [issue("package.json must hold a JSON object")] }
        var issues: [ValidationIssue] = []
        if let name = object["name"] as? String {
            if name.trimmingCharacters(in: .whitespaces).isEmpty { issues.append(issue("\"name\" is empty")) }
        } else {
            issues.append(issue("\"name\" must be a string"))
        }
        if !(object["scripts"] is [String: Any]) { issues.append(issue("\"scripts\" must be an object")) }
        return issues
    }

    static func entryPoint(_ files: [String: ProjectFile], htmlScripts: [String: [HTMLChecker.Script]]) -> [ValidationIssue] {
        let paths = Set(files.keys)
        let package = files["package.json"].flatMap { jsonObject($0.contents) }
        let dependencies = package.map(dependencyNames) ?? []
        func has(_ stem: String, _ extensions: [String]) -> Bool {
            extensions.contains { paths.contains("\(stem).\($0)") }
        }
        let scripts = ["js", "jsx", "ts", "tsx"]
        let isVite = package != nil && (dependencies.contains("vite") || has("vite.config", scripts + ["mjs", "mts", "cjs"]))
        let isNext = package != nil && dependencies.contains("next")

        if isVite {
            guard paths.contains("index.html") else {
                return [ValidationIssue(path: "index.html", rule: Rule.entryPoint, message: "a Vite app needs index.html at the project root")]
            }
            if !(htmlScripts["index.html"] ?? []).contains(where: \.isModule) {
                return [
                    ValidationIssue(
                        path: "index.html", rule: Rule.entryPoint,
                        message: "index.html of a Vite app loads no <script type=\"module\"> (expected src=\"/src/main.jsx\" or similar)")
                ]
            }
            return []
        }
        if paths.contains("index.html") { return [] }
        if package != nil && (has("src/main", scripts) || has("src/index", scripts)) { return [] }
        if isNext && ["app/page", "src/app/page", "pages/index", "src/pages/index"].contains(where: { has($0, scripts) }) { return [] }
        let message =
            package == nil
            ? "no entry point: expected index.html at the project root, or package.json with src/main.* or src/index.*"
            : "no entry point: package.json needs src/main.* or src/index.* (js, jsx, ts, tsx), or index.html at the root"
        return [ValidationIssue(path: nil, rule: Rule.entryPoint, message: message)]
    }

    private static func dependencyNames(_ package: [String: Any]) -> Set<String> {
        var names = Set<String>()
        for key in ["dependencies", "devDependencies", "peerDependencies"] {
            if let section = package[key] as? [String: Any] { names.formUnion(section.keys) }
        }
        return names
    }

    private static func jsonObject(_ text: String) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]
    }

    static func fileExtension(_ path: String) -> String {
        let name = fileName(path)
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return "" }
        return name[name.index(after: dot)...].lowercased()
    }

    /// The last non-empty component of `path` (`path` itself when it has none).
    static func fileName(_ path: String) -> String {
        let trimmed = path[..<(path.lastIndex { $0 != "/" }.map { path.index(after: $0) } ?? path.startIndex)]
        guard !trimmed.isEmpty else { return path }
        guard let slash = trimmed.lastIndex(of: "/") else { return String(trimmed) }
        return String(trimmed[trimmed.index(after: slash)...])
    }
}

/// A problem found by one of the checkers, before it is attached to a file.
struct SourceProblem: Sendable, Equatable {
    var rule: String
    var message: String
    var line: Int

    init(_ message: String, line: Int, rule: String) {
        self.rule = rule
        self.message = message
        self.line = line
    }
}

extension Validators {
    /// Paths that cannot all be files of one project: two that differ in bytes but are the same
    /// text under Unicode canonical equivalence (one would silently replace the other on most
    /// file systems and in every Swift dictionary), and a file that is also a directory of
    /// another file (`a` and `a/b`).
    static func pathConflicts(_ files: [ProjectFile]) -> [ValidationIssue] {
        var issues: [ValidationIssue] = []
        var firstBytes: [String: [UInt8]] = [:]
        for file in files {
            let bytes = Array(file.path.utf8)
            if let other = firstBytes[file.path], other != bytes {
                issues.append(
                    ValidationIssue(
                        path: file.path, rule: Rule.pathConflict,
                        message: "\(String(decoding: other, as: UTF8.self)) and \(file.path) differ only in Unicode normalization"))
            } else if firstBytes[file.path] == nil {
                firstBytes[file.path] = bytes
            }
        }
        for (path, directory) in PathRules.fileDirectoryConflicts(files.map(\.path)) {
            issues.append(
                ValidationIssue(path: path, rule: Rule.pathConflict, message: "\(path) is a file and also the directory of \(directory)"))
        }
        return issues
    }
}
