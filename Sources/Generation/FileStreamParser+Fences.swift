import Protocol

/// Markdown fences (```lang path) and the path headers and comments that name a fenced file.
extension FileStreamParser {
    /// A Markdown fence line: up to three spaces, three or more backticks or tildes, an info string.
    struct Fence: Sendable, Equatable {
        var character: UInt8
        var length: Int
        var info: ArraySlice<UInt8>

        init?(_ line: ArraySlice<UInt8>) {
            var i = line.startIndex
            while i < line.endIndex, line[i] == ASCII.space, i - line.startIndex < 3 { i += 1 }
            guard i < line.endIndex, line[i] == ASCII.backtick || line[i] == ASCII.tilde else { return nil }
            let character = line[i]
            let runStart = i
            while i < line.endIndex, line[i] == character { i += 1 }
            guard i - runStart >= 3 else { return nil }
            let info = FileStreamParser.trimmed(line[i...])
            if character == ASCII.backtick && info.contains(ASCII.backtick) { return nil }
            self.character = character
            self.length = i - runStart
            self.info = info
        }

        func isClosed(by other: Fence) -> Bool {
            other.character == character && other.length >= length && other.info.isEmpty
        }
    }

    /// The path in a fence's info string: ```` ```jsx src/App.jsx ````, ```` ```jsx:src/App.jsx ````,
    /// ```` ```src/App.jsx ````, ```` ```jsx title="src/App.jsx" ````.
    static func infoPath(_ info: ArraySlice<UInt8>) -> String? {
        let words = String(decoding: info, as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\t" })
        for word in words {
            guard let equals = word.firstIndex(of: "=") else { continue }
            let key = word[..<equals].lowercased()
            let value = unquoted(word[word.index(after: equals)...])
            if ["title", "file", "filename", "path"].contains(key), looksLikePath(value) { return String(value) }
        }
        guard let first = words.first else { return nil }
        if let colon = first.firstIndex(of: ":") {
            let value = first[first.index(after: colon)...]
            if looksLikePath(value) { return String(value) }
        }
        for word in words {
            let value = unquoted(word)
            if looksLikePath(value) { return String(value) }
        }
        return nil
    }

    static func unquoted(_ word: Substring) -> Substring {
        trim(word, where: { $0 == "\"" || $0 == "'" || $0 == "`" })
    }

    /// The path named by a header line: `src/App.jsx`, `**src/App.jsx**`, `### src/App.jsx`,
    /// `// file: src/App.jsx`, `File: src/App.jsx`, `- \`src/App.jsx\`:`.
    static func headerPath(_ line: ArraySlice<UInt8>) -> String? {
        guard line.count <= 600 else { return nil }
        var text = String(decoding: trimmed(line), as: UTF8.self)[...]
        if text.hasPrefix("#") {
            let rest = text.drop(while: { $0 == "#" })
            if rest.isEmpty || rest.first == " " { text = trim(rest) }
        }
        for marker in ["- ", "* ", "+ "] where text.hasPrefix(marker) { text = trim(text.dropFirst(2)) }
        if let dot = text.prefix(4).firstIndex(where: { $0 == "." || $0 == ")" }), dot > text.startIndex,
            text[..<dot].allSatisfy(\.isNumber), text[text.index(after: dot)...].first == " "
        {
            text = trim(text[text.index(after: dot)...])
        }
        for (open, close) in [("<!--", "-->"), ("/*", "*/"), ("//", ""), ("--", ""), ("#", "")] where text.hasPrefix(open) {
            text = text.dropFirst(open.count)
            if !close.isEmpty, text.hasSuffix(close) { text = text.dropLast(close.count) }
            text = trim(text)
            break
        }
        text = trim(text.filter { $0 != "*" && $0 != "`" }[...])
        let lowered = text.lowercased()
        for keyword in ["file:", "filename:", "file name:", "filepath:", "path:"] where lowered.hasPrefix(keyword) {
            text = trim(text.dropFirst(keyword.count))
            break
        }
        if text.hasSuffix(":") { text = trim(text.dropLast()) }
        return looksLikePath(text) ? String(text) : nil
    }

    /// The path named by the first line of an unlabelled fence, when that line is a comment:
    /// `// src/App.jsx`, `/* src/index.css */`, `<!-- index.html -->`, `# file: main.py`.
    static func commentPath(_ line: ArraySlice<UInt8>) -> String? {
        let text = String(decoding: trimmed(line), as: UTF8.self)
        if text.hasPrefix("#") {
            let rest = text.drop(while: { $0 == "#" || $0 == " " }).lowercased()
            guard rest.hasPrefix("file") || rest.hasPrefix("path") else { return nil }
        } else if !(text.hasPrefix("//") || text.hasPrefix("/*") || text.hasPrefix("<!--")) {
            return nil
        }
        return headerPath(line)
    }

    static let knownNames: Set<Substring> = ["Dockerfile", "Makefile", "Procfile", "LICENSE", "README", "Gemfile"]

    /// A single word that names a file: it has an extension with a letter in it, is a dotfile, or is
    /// a well-known extensionless name.
    static func looksLikePath(_ text: Substring) -> Bool {
        guard !text.isEmpty, text.utf8.count <= 1024 else { return false }
        let forbidden: Set<Character> = ["*", "`", "\"", "'", "<", ">", "|", "?", ":", ",", ";", "{", "}", "=", "!"]
        guard !text.contains(where: { $0.isWhitespace || forbidden.contains($0) }) else { return false }
        guard let name = text.split(separator: "/", omittingEmptySubsequences: false).last, !name.isEmpty else {
            return false
        }
        if knownNames.contains(name) { return true }
        guard let dot = name.lastIndex(of: ".") else { return false }
        if dot == name.startIndex { return name.count > 1 }
        let ext = name[name.index(after: dot)...]
        return !ext.isEmpty && ext.count <= 10 && ext.allSatisfy { $0.isLetter || $0.isNumber } && ext.contains(where: \.isLetter)
    }
}
