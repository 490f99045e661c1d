public import Protocol
import VectortCore

/// The base version's files as an edit request shows them: every text file when they fit in the
/// budget; above it, the most relevant ones (entry points and files the prompt names, then files
/// changed in the last versions, then the rest, smaller first) and the names of the others.
public struct EditContext: Sendable, Equatable {
    /// Text files shown in full, in the base's order.
    public var shown: [ProjectFile]
    /// Text files left out for size, sorted.
    public var omitted: [String]
    /// Binary files: named, never shown, carried over untouched.
    public var binary: [String]

    public init(shown: [ProjectFile], omitted: [String], binary: [String]) {
        self.shown = shown
        self.omitted = omitted
        self.binary = binary
    }

    /// Files every app is read from first.
    static let entryPoints: Set<String> = [
        "index.html", "package.json", "app.js", "main.js", "styles.css", "style.css", "src/main.jsx", "src/main.tsx",
        "src/main.js", "src/index.jsx", "src/index.js", "src/index.tsx", "src/App.jsx", "src/App.tsx", "src/App.js",
        "src/index.css", "src/App.css",
    ]

    public static func select(
        _ files: [ProjectFile], prompt: String, recentlyChanged: [String] = [], maxBytes: Int
    ) -> EditContext {
        let text = files.filter { !$0.isBinary }
        let binary = files.filter(\.isBinary).map(\.path).sorted()
        let total = text.reduce(0) { $0 + $1.byteCount }
        guard total > maxBytes else { return EditContext(shown: text, omitted: [], binary: binary) }
        let words = Set(Self.words(prompt))
        let lowered = prompt.lowercased()
        let recent = Set(recentlyChanged)
        func tier(_ file: ProjectFile) -> Int {
            if entryPoints.contains(file.path) || Self.named(file.path, in: lowered, words: words) { return 0 }
            return recent.contains(file.path) ? 1 : 2
        }
        let ranked = text.sorted { (tier($0), $0.byteCount, $0.path) < (tier($1), $1.byteCount, $1.path) }
        var budget = maxBytes
        var chosen = Set<String>()
        for file in ranked where file.byteCount <= budget {
            chosen.insert(file.path)
            budget -= file.byteCount
        }
        return EditContext(
            shown: text.filter { chosen.contains($0.path) },
            omitted: text.map(\.path).filter { !chosen.contains($0) }.sorted(), binary: binary)
    }

    /// Whether the prompt names the file: its path, its file name, or its stem as a word
    /// ("the Header component" names src/components/Header.jsx).
    static func named(_ path: String, in prompt: String, words: Set<String>) -> Bool {
        let lowered = path.lowercased()
        if prompt.contains(lowered) { return true }
        let name = lowered.split(separator: "/").last.map(String.init) ?? lowered
        if prompt.contains(name), name.contains(".") { return true }
        let stem = name.split(separator: ".").first.map(String.init) ?? name
        return stem.count >= 4 && words.contains(stem)
    }

    static func words(_ text: String) -> [String] {
        text.lowercased().split { !$0.isLetter && !$0.isNumber && $0 != "-" && $0 != "_" }.map(String.init)
    }
}

/// Applies an answer's writes and deletes to a tree of files, in order, last wins.
///
/// With `rules` (an edit), what an edit must not do becomes an issue with rule `edit` and
/// changes nothing: rewriting a binary file or one the request did not show, a file that
/// elides part of itself and shrinks by more than 30 %, deleting a path the tree does not have,
/// a `<file …/>` with no contents, a diff or patch fence, a refused path. A written file whose
/// normalized contents equal the base file's keeps the base's bytes.
public struct TreeEdit: Sendable {
    public struct Rules: Sendable {
        /// The base version, by path.
        public var base: [String: ProjectFile]
        /// Base paths the request left out.
        public var omitted: Set<String>

        public init(base: [ProjectFile], omitted: [String]) {
            self.base = Dictionary(base.map { ($0.path, $0) }, uniquingKeysWith: { $1 })
            self.omitted = Set(omitted)
        }
    }

    public static let rule = "edit"

    public private(set) var files: [ProjectFile]
    public private(set) var issues: [ValidationIssue] = []
    private var positions: [String: Int] = [:]

    public init(_ tree: [ProjectFile]) {
        files = tree
        for (index, file) in tree.enumerated() { positions[file.path] = index }
    }

    /// Applies what `parser` read (its operations, and with `rules` what an edit must not contain).
    public mutating func apply(_ parser: FileStreamParser, rules: Rules?) {
        if rules != nil {
            for path in parser.selfClosing {
                issue(path, "<file path=\"\(path)\"/> names no contents: write the whole file in a <file> block, or delete it with <delete path=\"\(path)\"/>")
            }
            for path in parser.patches {
                issue(path, "\(path) was sent as a diff or patch: write the whole file in a <file> block instead")
            }
            for (path, reason) in parser.refused { issue(path, "\(path) cannot be written: \(reason)") }
        }
        apply(parser.operations, rules: rules)
    }

    public mutating func apply(_ operations: [FileStreamParser.Operation], rules: Rules?) {
        for operation in operations {
            switch operation {
            case .write(let file): write(file, rules: rules)
            case .delete(let path): delete(path, rules: rules)
            }
        }
    }

    private mutating func write(_ file: ProjectFile, rules: Rules?) {
        var file = file
        if let rules, let original = rules.base[file.path] {
            if original.isBinary {
                return issue(file.path, "\(file.path) is a binary file: it is kept as it is and cannot be rewritten")
            }
            if rules.omitted.contains(file.path) {
                return issue(file.path, "\(file.path) was left out of the request, so it cannot be rewritten in this edit")
            }
            if let line = Self.elision(in: file.contents), file.byteCount * 10 < original.byteCount * 7 {
                return issue(
                    file.path,
                    "\(file.path) leaves code out (line \(line) stands for code that is not written) and is "
                        + "\(100 - file.byteCount * 100 / max(1, original.byteCount)) % shorter than before: write the whole file",
                    line: line)
            }
            if Self.normalized(original) == file.contents { file = original }
        }
        if let index = positions[file.path] {
            files[index] = file
        } else {
            positions[file.path] = files.count
            files.append(file)
        }
    }

    private mutating func delete(_ path: String, rules: Rules?) {
        guard let index = positions[path] else {
            if rules != nil { issue(path, "<delete path=\"\(path)\"/> names no file of the app") }
            return
        }
        files.remove(at: index)
        positions[path] = nil
        for (other, position) in positions where position > index { positions[other] = position - 1 }
    }

    private mutating func issue(_ path: String, _ message: String, line: Int? = nil) {
        issues.append(ValidationIssue(path: path, rule: Self.rule, message: message, line: line))
    }

    /// A base file's contents as the parser would have given them.
    static func normalized(_ file: ProjectFile) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(file.byteCount)
        for byte in file.contents.utf8 {
            if byte == ASCII.newline, bytes.last == 0x0D { bytes.removeLast() }
            bytes.append(byte)
        }
        return FileStreamParser.finalContents(bytes[...], stripWrapper: false, path: file.path)
    }

    /// The 1-based line of the first marker standing for code left out: a line of only `...`
    /// or `…`, or a comment saying the rest is unchanged (`// ...`, `{/* existing code */}`,
    /// `<!-- rest unchanged -->`, `# same as before`).
    static func elision(in contents: String) -> Int? {
        var number = 0
        for line in contents.split(separator: "\n", omittingEmptySubsequences: false) {
            number += 1
            var text = line.trimmingSpaces()
            if text == "..." || text == "…" { return number }
            var comment = false
            for (open, close) in [("{/*", "*/}"), ("/*", "*/"), ("<!--", "-->"), ("//", ""), ("#", ""), ("*", "")]
            where text.hasPrefix(open) {
                text = String(text.dropFirst(open.count))
                if !close.isEmpty, text.hasSuffix(close) { text = String(text.dropLast(close.count)) }
                comment = true
                break
            }
            guard comment else { continue }
            let said = text.trimmingSpaces().lowercased()
            if said.contains("...") || said.contains("…") { return number }
            if Self.elisionPhrases.contains(where: said.contains) { return number }
        }
        return nil
    }

    static let elisionPhrases = [
        "rest unchanged", "rest of the file", "rest of the code", "remains unchanged", "remain unchanged",
        "existing code", "unchanged code", "same as before", "as before", "keep existing", "previous code",
        "other code", "code unchanged",
    ]

    /// How `tree` differs from `base`, by path and bytes.
    public static func changes(from base: [ProjectFile], to tree: [ProjectFile]) -> FileChanges {
        let before = Dictionary(base.map { ($0.path, $0) }, uniquingKeysWith: { $1 })
        let after = Set(tree.map(\.path))
        var changes = FileChanges()
        for file in tree {
            if let old = before[file.path] {
                if old.binary != file.binary || old.contents != file.contents { changes.changed.append(file.path) }
            } else {
                changes.added.append(file.path)
            }
        }
        changes.deleted = base.map(\.path).filter { !after.contains($0) }
        let byteOrder: (String, String) -> Bool = { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        changes.changed.sort(by: byteOrder)
        changes.added.sort(by: byteOrder)
        changes.deleted.sort(by: byteOrder)
        return changes
    }
}

extension Substring {
    fileprivate func trimmingSpaces() -> String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}

extension String {
    fileprivate func trimmingSpaces() -> String { self[...].trimmingSpaces() }
}
