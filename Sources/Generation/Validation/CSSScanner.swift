/// A lexical check of CSS, and the files it `@import`s.
///
/// Brackets `()[]{}` balance, strings close on their line, `/* */` comments close (`//` is not a
/// comment in CSS), and an unquoted `url(…)` is skipped whole, since it may hold `//` or brackets.
struct CSSScanner {
    struct Result: Sendable, Equatable {
        var problems: [SourceProblem]
        var imports: [ImportResolver.Reference]
    }

    static func scan(_ text: String) -> Result {
        var scanner = CSSScanner(bytes: Array(text.utf8))
        scanner.run()
        return Result(problems: scanner.problems, imports: scanner.imports)
    }

    private let bytes: [UInt8]
    private var i = 0
    private var line = 1
    private var problems: [SourceProblem] = []
    private var imports: [ImportResolver.Reference] = []
    private var open: [(bracket: UInt8, line: Int)] = []

    private init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    private func byte(at index: Int) -> UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func run() {
        while i < bytes.count {
            let c = bytes[i]
            switch c {
            case ASCII.newline:
                line += 1
                i += 1
            case ASCII.slash where byte(at: i + 1) == ASCII.star:
                comment()
            case ASCII.doubleQuote, ASCII.singleQuote:
                _ = string()
            case ASCII.openParen, ASCII.openBracket, ASCII.openBrace:
                open.append((c, line))
                i += 1
            case ASCII.closeParen, ASCII.closeBracket, ASCII.closeBrace:
                close(c)
                i += 1
            case ASCII.at:
                i += 1
                let word = identifier()
                if word == "import" { importRule() }
            case _ where Self.isNameByte(c):
                let word = identifier()
                if word.lowercased() == "url", byte(at: i) == ASCII.openParen { unquotedURL() }
            default:
                i += 1
            }
        }
        for (bracket, openLine) in open.reversed() {
            problems.append(
                SourceProblem("'\(Character(Unicode.Scalar(bracket)))' opened at line \(openLine) is never closed (truncated?)", line: openLine))
        }
    }

    private mutating func close(_ c: UInt8) {
        let opener = Self.opener(c)
        guard let index = open.lastIndex(where: { $0.bracket == opener }) else {
            problems.append(SourceProblem("unexpected '\(Character(Unicode.Scalar(c)))'", line: line))
            return
        }
        for (bracket, openLine) in open[(index + 1)...] {
            problems.append(
                SourceProblem(
                    "'\(Character(Unicode.Scalar(bracket)))' opened at line \(openLine) is not closed before '\(Character(Unicode.Scalar(c)))' at line \(line)",
                    line: openLine))
        }
        open.removeSubrange(index...)
    }

    private mutating func identifier() -> String {
        let start = i
        while let b = byte(at: i), Self.isNameByte(b) { i += 1 }
        return String(decoding: bytes[start..<i], as: UTF8.self)
    }

    /// `@import "x.css"`, `@import url(x.css)`, `@import url("x.css")`.
    private mutating func importRule() {
        while let b = byte(at: i), b == ASCII.space || b == ASCII.tab { i += 1 }
        let importLine = line
        var specifier: String?
        if let b = byte(at: i), b == ASCII.doubleQuote || b == ASCII.singleQuote {
            specifier = string()
        } else if bytes[i...].starts(with: Array("url(".utf8)) {
            i += 3
            var j = i + 1
            while let b = byte(at: j), b == ASCII.space || b == ASCII.tab { j += 1 }
            if let b = byte(at: j), b == ASCII.doubleQuote || b == ASCII.singleQuote {
                open.append((ASCII.openParen, line))
                i = j
                specifier = string()
            } else {
                specifier = unquotedURL()
            }
        }
        if let specifier {
            imports.append(ImportResolver.Reference(specifier: specifier, line: importLine, kind: .style))
        }
    }

    /// The body of an unquoted `url(` at `i` (on its `(`), up to and including `)`.
    @discardableResult
    private mutating func unquotedURL() -> String? {
        var j = i + 1
        while let b = byte(at: j), b == ASCII.space || b == ASCII.tab { j += 1 }
        if let b = byte(at: j), b == ASCII.doubleQuote || b == ASCII.singleQuote { return nil }
        let start = j
        while let b = byte(at: j), b != ASCII.closeParen, b != ASCII.newline { j += 1 }
        guard byte(at: j) == ASCII.closeParen else { return nil }
        let body = FileStreamParser.trimmed(bytes[start..<j])
        i = j + 1
        return String(decoding: body, as: UTF8.self)
    }

    private mutating func comment() {
        let openLine = line
        if let end = ASCII.skipBlockComment(bytes, from: i, line: &line) {
            i = end
            return
        }
        i = bytes.count
        problems.append(SourceProblem("comment opened at line \(openLine) is never closed", line: openLine))
    }

    /// A string at `i`: its contents, or nil when it does not close on its line.
    private mutating func string() -> String? {
        let quote = bytes[i]
        let openLine = line
        let start = i + 1
        i += 1
        while i < bytes.count {
            switch bytes[i] {
            case quote:
                i += 1
                return String(decoding: bytes[start..<(i - 1)], as: UTF8.self)
            case ASCII.backslash:
                i += 1
                if byte(at: i) == ASCII.newline { line += 1 }
                i += 1
            case ASCII.newline:
                problems.append(SourceProblem("string opened at line \(openLine) is not closed on its line", line: openLine))
                return nil
            default:
                i += 1
            }
        }
        problems.append(SourceProblem("string opened at line \(openLine) is never closed (truncated?)", line: openLine))
        return nil
    }

    private static func isNameByte(_ byte: UInt8) -> Bool {
        JavaScriptScanner.isWordByte(byte) || byte == ASCII.minus
    }

    private static func opener(_ closer: UInt8) -> UInt8 {
        switch closer {
        case ASCII.closeParen: ASCII.openParen
        case ASCII.closeBracket: ASCII.openBracket
        default: ASCII.openBrace
        }
    }
}
