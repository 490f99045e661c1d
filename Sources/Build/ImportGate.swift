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

    /// The module specifiers (or CSS `@import` and `url()` targets) of a file, with their lines:
    /// the quoted string after `from`, `import`, `import(` or `require(` in a module, after
    /// `@import` or `url(` in a stylesheet. Conservative: a match inside a comment or a string
    /// is checked too, which can only refuse more.
    static func specifiers(in text: String, css: Bool) -> [(String, Int)] {
        let bytes = Array(text.utf8)
        let keywords: [[UInt8]] = (css ? ["@import", "url("] : ["from", "import", "require"]).map { Array($0.utf8) }
        var found: [(String, Int)] = []
        var line = 1
        var i = 0
        while i < bytes.count {
            let byte = bytes[i]
            if byte == 0x0A { line += 1 }
            guard let keyword = keywords.first(where: { starts(bytes, at: i, with: $0) }),
                i == 0 || !isIdentifier(bytes[i - 1]) || keyword[0] == UInt8(ascii: "@")
            else {
                i += 1
                continue
            }
            var j = i + keyword.count
            while j < bytes.count, bytes[j] == 0x20 || bytes[j] == 0x09 || bytes[j] == 0x0A || bytes[j] == 0x0D
                || bytes[j] == UInt8(ascii: "(")
            {
                j += 1
            }
            if css, starts(bytes, at: j, with: Array("url(".utf8)) { j += 4 }
            guard j < bytes.count else { break }
            let quote = bytes[j]
            let quoted = quote == UInt8(ascii: "\"") || quote == UInt8(ascii: "'") || quote == UInt8(ascii: "`")
            guard quoted || css else {
                i += keyword.count
                continue
            }
            let start = quoted ? j + 1 : j
            var end = start
            while end < bytes.count, bytes[end] != 0x0A,
                quoted ? bytes[end] != quote : !(bytes[end] == UInt8(ascii: ")") || bytes[end] == 0x20 || bytes[end] == UInt8(ascii: ";"))
            {
                end += 1
            }
            if end > start { found.append((String(decoding: bytes[start..<end], as: UTF8.self), line)) }
            i = max(end, i + 1)
        }
        return found
    }

    private static func starts(_ bytes: [UInt8], at index: Int, with prefix: [UInt8]) -> Bool {
        index + prefix.count <= bytes.count && bytes[index..<index + prefix.count].elementsEqual(prefix)
    }

    private static func isIdentifier(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || byte == 0x5F
            || byte == 0x24 || byte == 0x2E
    }
}
