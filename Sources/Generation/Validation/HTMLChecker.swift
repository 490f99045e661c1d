/// Checks that an HTML document is well-formed enough to render, and collects what it loads.
///
/// Lenient the way browsers are, strict about what signals truncation or a broken edit:
/// - reported: a tag, comment, `<!…>` declaration or attribute value that never ends; a
///   `<script>`, `<style>`, `<textarea>` or `<title>` without its end tag; an element without an end
///   tag that must have one (`<div>`, `<span>`, `<section>`…), whether the document ends first or an
///   ancestor's end tag closes it; an end tag that closes nothing (except `</p>`, `</br>` and the
///   optional ones); a document with `<html>` or `<body>` that ends before `</body>` and `</html>`;
///   an empty document;
/// - accepted: void elements (`<br>`, `<img>`, `<meta>`…) with or without `/>`; `/>` on any element
///   (as in SVG); elements whose end tag is optional (`<p>`, `<li>`, `<td>`, `<tr>`, `<option>`,
///   `<html>`, `<body>`…) left open; fragments without `<html>`/`<body>`; text containing `<` not
///   followed by a letter.
/// - Inline JSON (`application/json`, `importmap`, `application/ld+json`) goes through
///   `JSONChecker`, with the document's line numbers. Inline code and styles are left to the
///   build (esbuild).
///
/// Known limits: no implied-end-tag rules beyond "optional end tags may stay open" (`<p><div></p>`
/// passes; a browser would move things around); attribute syntax is not checked; misnested inline
/// tags closed in the wrong order are reported as unclosed, not reordered.
struct HTMLChecker {
    struct Script: Sendable, Equatable {
        var src: String?
        var type: String?
        var line: Int

        var isModule: Bool { type?.lowercased() == "module" }
    }

    struct Result: Sendable, Equatable {
        var problems: [SourceProblem]
        var references: [ImportResolver.Reference]
        var scripts: [Script]
    }

    static func check(_ text: String) -> Result {
        var checker = HTMLChecker(bytes: Array(text.utf8))
        checker.run()
        return Result(problems: checker.problems, references: checker.references, scripts: checker.scripts)
    }

    static let voidElements: Set<String> = [
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr",
        "keygen", "command",
    ]
    static let optionalEndTag: Set<String> = [
        "html", "head", "body", "p", "li", "dt", "dd", "option", "optgroup", "tr", "td", "th", "thead", "tbody",
        "tfoot", "colgroup", "caption", "rt", "rp", "rb", "rtc",
    ]
    static let rawText: Set<String> = ["script", "style", "textarea", "title"]

    private let bytes: [UInt8]
    private var i = 0
    private var line = 1
    private var problems: [SourceProblem] = []
    private var references: [ImportResolver.Reference] = []
    private var scripts: [Script] = []
    private var open: [(name: String, line: Int)] = []
    private var opened: Set<String> = []
    private var closed: Set<String> = []

    private init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    private func byte(at index: Int) -> UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func problem(_ message: String, line: Int) {
        problems.append(SourceProblem(message, line: line, rule: Validators.Rule.htmlStructure))
    }

    private mutating func run() {
        guard !FileStreamParser.isBlank(bytes[...]) else {
            problem("the document is empty", line: 1)
            return
        }
        while i < bytes.count {
            switch bytes[i] {
            case ASCII.newline:
                line += 1
                i += 1
            case ASCII.less:
                guard markup() else { return }
            default:
                i += 1
            }
        }
        for element in open where !Self.optionalEndTag.contains(element.name) {
            problem("<\(element.name)> opened at line \(element.line) is never closed (truncated?)", line: element.line)
        }
        if (opened.contains("html") || opened.contains("body")) && !closed.contains("html") && !closed.contains("body") {
            problem("the document ends before </body> and </html> (truncated?)", line: line)
        }
    }

    /// Markup at `i` (on a `<`). Returns false when the rest of the document is unreadable.
    private mutating func markup() -> Bool {
        let next = byte(at: i + 1)
        if bytes[i...].starts(with: Array("<!--".utf8)) {
            return skip(past: "-->", what: "comment")
        }
        if next == ASCII.bang || next == ASCII.question {
            return skip(past: ">", what: "declaration")
        }
        if next == ASCII.slash, let after = byte(at: i + 2), ASCII.isLetter(after) {
            return endTag()
        }
        if let next, ASCII.isLetter(next) {
            return startTag()
        }
        i += 1
        return true
    }

    /// Skips to just past `terminator`, reporting `what` when the document ends first.
    private mutating func skip(past terminator: String, what: String) -> Bool {
        let openLine = line
        let needle = Array(terminator.utf8)
        guard let end = FileStreamParser.find(needle, in: bytes[...], from: i + 1) else {
            problem("\(what) opened at line \(openLine) is never closed", line: openLine)
            return false
        }
        countLines(to: end + needle.count)
        return true
    }

    private mutating func countLines(to end: Int) {
        while i < end {
            if bytes[i] == ASCII.newline { line += 1 }
            i += 1
        }
    }

    private mutating func name() -> String {
        let start = i
        while let b = byte(at: i), !FileStreamParser.isSpace(b), b != ASCII.greater, b != ASCII.slash { i += 1 }
        return String(decoding: bytes[start..<i], as: UTF8.self).lowercased()
    }

    private mutating func endTag() -> Bool {
        let tagLine = line
        i += 2
        let name = name()
        guard let end = bytes[i...].firstIndex(of: ASCII.greater) else {
            problem("end tag </\(name)> at line \(tagLine) is never closed with '>'", line: tagLine)
            return false
        }
        countLines(to: end + 1)
        closed.insert(name)
        if Self.voidElements.contains(name) { return true }
        if let index = open.lastIndex(where: { $0.name == name }) {
            for element in open[(index + 1)...] where !Self.optionalEndTag.contains(element.name) {
                problem("<\(element.name)> opened at line \(element.line) is not closed before </\(name)> at line \(tagLine)", line: element.line)
            }
            open.removeSubrange(index...)
        } else if !Self.optionalEndTag.contains(name) {
            problem("</\(name)> at line \(tagLine) closes no open element", line: tagLine)
        }
        return true
    }

    private mutating func startTag() -> Bool {
        let tagLine = line
        i += 1
        let name = name()
        var attributes: [String: String] = [:]
        var selfClosing = false
        attributeLoop: while true {
            while let b = byte(at: i), FileStreamParser.isSpace(b) {
                if b == ASCII.newline { line += 1 }
                i += 1
            }
            guard let b = byte(at: i) else {
                problem("<\(name)> tag at line \(tagLine) is never closed with '>' (truncated?)", line: tagLine)
                return false
            }
            switch b {
            case ASCII.greater:
                i += 1
                break attributeLoop
            case ASCII.slash:
                i += 1
                if byte(at: i) == ASCII.greater {
                    selfClosing = true
                    i += 1
                    break attributeLoop
                }
                continue
            default:
                break
            }
            let nameStart = i
            while let b = byte(at: i), !FileStreamParser.isSpace(b), b != ASCII.greater, b != ASCII.equals, b != ASCII.slash {
                i += 1
            }
            let attribute = String(decoding: bytes[nameStart..<i], as: UTF8.self).lowercased()
            while let b = byte(at: i), FileStreamParser.isSpace(b) {
                if b == ASCII.newline { line += 1 }
                i += 1
            }
            guard byte(at: i) == ASCII.equals else {
                attributes[attribute] = attributes[attribute] ?? ""
                continue
            }
            i += 1
            while let b = byte(at: i), FileStreamParser.isSpace(b) {
                if b == ASCII.newline { line += 1 }
                i += 1
            }
            if let quote = byte(at: i), quote == ASCII.doubleQuote || quote == ASCII.singleQuote {
                let valueLine = line
                guard let close = bytes[(i + 1)...].firstIndex(of: quote) else {
                    problem("attribute \(attribute) of <\(name)> at line \(valueLine) has an unclosed quote", line: valueLine)
                    return false
                }
                let value = String(decoding: bytes[(i + 1)..<close], as: UTF8.self)
                countLines(to: close + 1)
                attributes[attribute] = attributes[attribute] ?? value
            } else {
                let valueStart = i
                while let b = byte(at: i), !FileStreamParser.isSpace(b), b != ASCII.greater { i += 1 }
                attributes[attribute] = attributes[attribute] ?? String(decoding: bytes[valueStart..<i], as: UTF8.self)
            }
        }
        opened.insert(name)
        collect(name, attributes: attributes, line: tagLine)
        if Self.voidElements.contains(name) || selfClosing { return true }
        if Self.rawText.contains(name) { return rawText(name, attributes: attributes, openLine: tagLine) }
        open.append((name, tagLine))
        return true
    }

    private mutating func collect(_ name: String, attributes: [String: String], line: Int) {
        switch name {
        case "script":
            scripts.append(Script(src: attributes["src"], type: attributes["type"], line: line))
            if let src = attributes["src"] {
                references.append(ImportResolver.Reference(specifier: src, line: line, kind: .scriptSource))
            }
        case "link":
            let rel = (attributes["rel"] ?? "").lowercased().split(separator: " ")
            if let href = attributes["href"], rel.contains(where: { ["stylesheet", "modulepreload", "preload"].contains($0) }) {
                references.append(ImportResolver.Reference(specifier: href, line: line, kind: .linkHref))
            }
        default:
            break
        }
    }

    /// The contents of a raw-text element up to its end tag, checked when it is code.
    private mutating func rawText(_ name: String, attributes: [String: String], openLine: Int) -> Bool {
        let contentStart = i
        let contentLine = line
        var search = i
        var endTag: Int?
        while let found = FileStreamParser.find(Array("</".utf8), in: bytes[...], from: search) {
            let nameEnd = found + 2 + name.utf8.count
            if nameEnd <= bytes.count,
                String(decoding: bytes[(found + 2)..<nameEnd], as: UTF8.self).lowercased() == name,
                nameEnd == bytes.count || FileStreamParser.isSpace(bytes[nameEnd]) || bytes[nameEnd] == ASCII.greater
                    || bytes[nameEnd] == ASCII.slash
            {
                endTag = found
                break
            }
            search = found + 1
        }
        guard let endTag, let close = bytes[endTag...].firstIndex(of: ASCII.greater) else {
            problem("<\(name)> opened at line \(openLine) has no </\(name)> (truncated?)", line: openLine)
            return false
        }
        let contents = String(decoding: bytes[contentStart..<endTag], as: UTF8.self)
        countLines(to: close + 1)
        closed.insert(name)
        checkInline(name, contents: contents, attributes: attributes, firstLine: contentLine)
        return true
    }

    /// Inline JSON is checked here; inline code is esbuild's to read when the version builds.
    private mutating func checkInline(_ name: String, contents: String, attributes: [String: String], firstLine: Int) {
        guard name == "script", attributes["src"] == nil else { return }
        switch (attributes["type"] ?? "").lowercased().trimmingSpaces {
        case "application/json", "importmap", "application/ld+json", "speculationrules":
            if let problem = JSONChecker.check(contents) {
                problems.append(SourceProblem(problem.message, line: problem.line + firstLine - 1, rule: Validators.Rule.jsonSyntax))
            }
        default:
            break
        }
    }
}

extension String {
    fileprivate var trimmingSpaces: String {
        String(decoding: FileStreamParser.trimmed(Array(utf8)[...]), as: UTF8.self)
    }
}
