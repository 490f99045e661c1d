public import Protocol

/// Refuses, before esbuild runs, the module specifiers and stylesheet URLs that would make it
/// read outside the build's directory: absolute paths in modules and `../` that climbs above the
/// project root. esbuild resolves whatever it is given; this gate and the metafile check after
/// the build (every input inside the scratch directory or the allowed packages) keep a version
/// from bundling a file of the machine.
enum ImportGate {
    static let moduleExtensions: Set<String> = ["js", "jsx", "mjs", "cjs", "ts", "tsx", "mts", "cts"]

    static func issues(_ files: [ProjectFile]) -> [GenerationIssue] {
        var issues: [GenerationIssue] = []
        for file in files where !file.isBinary {
            let ext = BuildPlan.fileExtension(file.path)
            let isModule = moduleExtensions.contains(ext)
            guard isModule || ext == "css" else { continue }
            for (specifier, line) in specifiers(in: file.contents, css: !isModule) {
                if let problem = problem(specifier, from: file.path, module: isModule) {
                    issues.append(GenerationIssue(path: file.path, rule: "build", message: problem, line: line))
                }
            }
        }
        return issues
    }

    /// Why `specifier` may not be built, or nil.
    static func problem(_ specifier: String, from importer: String, module: Bool) -> String? {
        if specifier.contains("\0") { return "import \"\(specifier)\" holds a NUL character" }
        if specifier.hasPrefix("file:") { return "import \"\(specifier)\" names a file of the machine" }
        if module, specifier.hasPrefix("/") {
            return "import \"\(specifier)\" is an absolute path; import project files relatively (\"./…\")"
        }
        guard specifier.hasPrefix(".") else { return nil }
        var depth = importer.split(separator: "/").count - 1
        for component in specifier.split(separator: "/", omittingEmptySubsequences: true) {
            if component == ".." {
                depth -= 1
                if depth < 0 { return "import \"\(specifier)\" reaches outside the project" }
            } else if component != "." {
                depth += 1
            }
        }
        return nil
    }

    /// The module specifiers (or CSS `@import` and `url()` targets) of a file, with their lines.
    static func specifiers(in text: String, css: Bool) -> [(String, Int)] {
        let patterns: [Regex<(Substring, Substring)>] =
            css
            ? [
                #/@import\s+(?:url\(\s*)?["']?([^"')\s;]+)/#,
                #/url\(\s*["']?([^"')]+)/#,
            ]
            : [
                #/\bfrom\s*["'`]([^"'`]+)["'`]/#,
                #/\bimport\s*["'`]([^"'`]+)["'`]/#,
                #/\bimport\s*\(\s*["'`]([^"'`]+)["'`]/#,
                #/\brequire\s*\(\s*["'`]([^"'`]+)["'`]/#,
            ]
        var found: [(String, Int)] = []
        for pattern in patterns {
            for match in text.matches(of: pattern) {
                let line = text[..<match.range.lowerBound].reduce(1) { $1 == "\n" ? $0 + 1 : $0 }
                found.append((String(match.output.1), line))
            }
        }
        return found
    }
}
