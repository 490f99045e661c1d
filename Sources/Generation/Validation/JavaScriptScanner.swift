/// A lexical check of JavaScript and TypeScript (with or without JSX), and the module specifiers
/// they import.
///
/// What it checks: brackets `()[]{}` balance (a mismatch names the line of the unclosed opener);
/// strings `'…'`/`"…"` close on their line; template literals close, with `${…}` holding any code,
/// nested templates included; `/* */` comments close; JSX elements close with a matching tag.
///
/// How it reads ambiguous characters:
/// - `/` starts a regular expression where an expression may start (after an operator, `(`, `,`,
///   `{`, `}`, `;`, a keyword such as `return`, or at the start), and is division after a value (a
///   name, number, string, `)` or `]`). A would-be regex that does not close on its line is read as
///   division instead, so an unterminated regex is not reported.
/// - In `.js`, `.jsx` and `.tsx`, `<` followed by a letter or `>` where an expression may start
///   opens a JSX element; inside it, text up to the next `<` or `{` is JSX text, so `<p>Don't</p>`
///   is fine. In `.tsx`, `<T,>` and `<T extends …>` are type parameters.
///
/// Known limits: no grammar beyond tokens (a missing comma or operator passes); `<` after `)` is
/// never JSX; `/` after `)` is always division (`if (x) /re/.test(s)` misreads); TypeScript type
/// assertions `<T>x` are not JSX only because JSX is off in `.ts`.
struct JavaScriptScanner {
    struct Dialect: Sendable, Equatable {
        var jsx: Bool
        var typescript: Bool

        init(jsx: Bool, typescript: Bool) {
            self.jsx = jsx
            self.typescript = typescript
        }

        init(fileExtension: String) {
            switch fileExtension {
            case "js", "jsx": self.init(jsx: true, typescript: false)
            case "tsx": self.init(jsx: true, typescript: true)
            case "ts", "mts", "cts": self.init(jsx: false, typescript: true)
            default: self.init(jsx: false, typescript: false)
            }
        }
    }

    struct Result: Sendable, Equatable {
        var problems: [SourceProblem]
        var imports: [ImportResolver.Reference]
    }

    static func scan(_ text: String, dialect: Dialect) -> Result {
        var scanner = JavaScriptScanner(bytes: Array(text.utf8), dialect: dialect)
        scanner.run()
        return Result(problems: scanner.problems, imports: scanner.imports)
    }

    /// Nesting beyond this is reported and scanning stops: the scanner recurses once per level.
    static let maximumDepth = 160

    private enum Token: Equatable {
        case from, `import`, require, `for`, openParen, dot, other
    }

    private let bytes: [UInt8]
    private let dialect: Dialect
    private var i = 0
    private var line = 1
    private var problems: [SourceProblem] = []
    private var imports: [ImportResolver.Reference] = []
    /// Whether a `/` or `<` here starts an expression (a regex, a JSX element).
    private var expressionAllowed = true
    private var previous = Token.other
    private var beforePrevious = Token.other
    /// The closing characters of the frames open around the scanner, outermost first.
    private var closers: [UInt8] = []

    private init(bytes: [UInt8], dialect: Dialect) {
        self.bytes = bytes
        self.dialect = dialect
    }

    private mutating func run() {
        if bytes.starts(with: Array("#!".utf8)) {
            while i < bytes.count, bytes[i] != ASCII.newline { i += 1 }
        }
        code(opener: nil, openLine: 0)
    }

    private mutating func problem(_ message: String, line: Int) {
        problems.append(SourceProblem(message, line: line))
    }

    private func byte(at index: Int) -> UInt8? { bytes.indices.contains(index) ? bytes[index] : nil }

    private mutating func note(_ token: Token) {
        beforePrevious = previous
        previous = token
    }

    /// Scans code until the closer of `opener` (consumed), a closer that belongs to an enclosing
    /// frame (left for it), or the end.
    ///
    /// A `;` directly inside `(` or `[` (other than a `for (;;)` header) ends the statement: the
    /// bracket is reported unclosed and scanning resynchronises on the enclosing frame.
    private mutating func code(opener: UInt8?, openLine: Int, isForHeader: Bool = false) {
        let closer = opener.map(Self.closer)
        let endsAtSemicolon = opener == ASCII.openBracket || (opener == ASCII.openParen && !isForHeader)
        while i < bytes.count {
            let c = bytes[i]
            switch c {
            case ASCII.newline:
                line += 1
                i += 1
            case ASCII.space, ASCII.tab, ASCII.carriageReturn, 0x0B, 0x0C:
                i += 1
            case ASCII.slash:
                let next = byte(at: i + 1)
                if next == ASCII.slash {
                    while i < bytes.count, bytes[i] != ASCII.newline { i += 1 }
                } else if next == ASCII.star {
                    blockComment()
                } else if expressionAllowed, regex() {
                    expressionAllowed = false
                    note(.other)
                } else {
                    i += 1
                    expressionAllowed = true
                    note(.other)
                }
            case ASCII.singleQuote, ASCII.doubleQuote:
                let range = string(quote: c)
                if let range { importCandidate(range) }
                expressionAllowed = false
                note(.other)
            case ASCII.backtick:
                template()
                expressionAllowed = false
                note(.other)
            case ASCII.semicolon where endsAtSemicolon:
                if let opener {
                    problem(
                        "'\(Self.character(opener))' opened at line \(openLine) is not closed before ';' at line \(line)",
                        line: openLine)
                }
                return
            case ASCII.openParen, ASCII.openBracket, ASCII.openBrace:
                let isForHeader = c == ASCII.openParen && previous == .for
                note(c == ASCII.openParen ? .openParen : .other)
                nested(c, isForHeader: isForHeader)
                expressionAllowed = c == ASCII.openBrace
                note(.other)
            case ASCII.closeParen, ASCII.closeBracket, ASCII.closeBrace:
                if c == closer {
                    i += 1
                    return
                }
                if closers.dropLast().contains(c), let opener {
                    problem(
                        "'\(Self.character(opener))' opened at line \(openLine) is not closed before '\(Self.character(c))' at line \(line)",
                        line: openLine)
                    return
                }
                problem("unexpected '\(Self.character(c))'", line: line)
                i += 1
                expressionAllowed = false
                note(.other)
            case ASCII.less where dialect.jsx && expressionAllowed && startsJSX(at: i + 1) && byte(at: i - 1) != ASCII.less:
                jsxElement()
                expressionAllowed = false
                note(.other)
            case _ where Self.isWordByte(c):
                let start = i
                while i < bytes.count, Self.isWordByte(bytes[i]) { i += 1 }
                word(bytes[start..<i])
            case ASCII.dot:
                i += 1
                expressionAllowed = true
                note(.dot)
            default:
                i += 1
                expressionAllowed = true
                note(.other)
            }
        }
        if let opener {
            problem("'\(Self.character(opener))' opened at line \(openLine) is never closed (truncated?)", line: openLine)
        }
    }

    /// Scans a bracketed frame (`(`, `[`, `{`, or the `{` of `${` and JSX expressions) at `i`.
    private mutating func nested(_ opener: UInt8, isForHeader: Bool = false) {
        guard closers.count < Self.maximumDepth else {
            problem("brackets nested more than \(Self.maximumDepth) levels deep", line: line)
            i = bytes.count
            return
        }
        let openLine = line
        i += 1
        expressionAllowed = true
        closers.append(Self.closer(opener))
        code(opener: opener, openLine: openLine, isForHeader: isForHeader)
        closers.removeLast()
    }

    private static let keywordsBeforeExpression: Set<ArraySlice<UInt8>> = Set(
        [
            "return", "typeof", "instanceof", "in", "of", "new", "delete", "void", "throw", "case", "do", "else",
            "yield", "await", "default", "extends",
        ].map { Array($0.utf8)[...] })

    private mutating func word(_ word: ArraySlice<UInt8>) {
        expressionAllowed = Self.keywordsBeforeExpression.contains(word)
        if previous == .dot {
            note(.other)
        } else if word.elementsEqual("from".utf8) {
            note(.from)
        } else if word.elementsEqual("import".utf8) {
            note(.import)
        } else if word.elementsEqual("require".utf8) {
            note(.require)
        } else if word.elementsEqual("for".utf8) || (previous == .for && word.elementsEqual("await".utf8)) {
            note(.for)
        } else {
            note(.other)
        }
    }

    /// Records the string at `range` when it is a module specifier: after `from`, after a bare
    /// `import`, or the whole argument of `import(…)` or `require(…)`.
    private mutating func importCandidate(_ range: Range<Int>) {
        let isSpecifier: Bool
        switch (beforePrevious, previous) {
        case (_, .from), (_, .import):
            isSpecifier = true
        case (.import, .openParen), (.require, .openParen):
            var j = i
            while let b = byte(at: j), b == ASCII.space || b == ASCII.tab || b == ASCII.newline || b == ASCII.carriageReturn { j += 1 }
            isSpecifier = byte(at: j) == ASCII.closeParen || byte(at: j) == ASCII.comma
        default:
            isSpecifier = false
        }
        if isSpecifier {
            imports.append(
                ImportResolver.Reference(
                    specifier: String(decoding: bytes[range], as: UTF8.self), line: line, kind: .module))
        }
    }

    private mutating func blockComment() {
        let openLine = line
        if let end = ASCII.skipBlockComment(bytes, from: i, line: &line) {
            i = end
            return
        }
        i = bytes.count
        problem("comment opened at line \(openLine) is never closed", line: openLine)
    }

    /// A string literal at `i`; the range of its contents, or nil when it does not close on its line.
    private mutating func string(quote: UInt8) -> Range<Int>? {
        let openLine = line
        let start = i + 1
        i += 1
        while i < bytes.count {
            switch bytes[i] {
            case quote:
                i += 1
                return start..<(i - 1)
            case ASCII.backslash:
                i += 1
                if byte(at: i) == ASCII.carriageReturn, byte(at: i + 1) == ASCII.newline { i += 1 }
                if byte(at: i) == ASCII.newline { line += 1 }
                i += 1
            case ASCII.newline:
                problem("string opened at line \(openLine) is not closed on its line", line: openLine)
                return nil
            default:
                i += 1
            }
        }
        problem("string opened at line \(openLine) is never closed (truncated?)", line: openLine)
        return nil
    }

    /// A template literal at `i`, with its `${…}` substitutions.
    private mutating func template() {
        let openLine = line
        i += 1
        while i < bytes.count {
            switch bytes[i] {
            case ASCII.backtick:
                i += 1
                return
            case ASCII.backslash:
                i += 1
                if byte(at: i) == ASCII.newline { line += 1 }
                i += 1
            case ASCII.newline:
                line += 1
                i += 1
            case ASCII.dollar where byte(at: i + 1) == ASCII.openBrace:
                i += 1
                nested(ASCII.openBrace)
            default:
                i += 1
            }
        }
        problem("template literal opened at line \(openLine) is never closed", line: openLine)
    }

    /// A regular expression literal at `i` if one closes on this line; otherwise leaves `i` alone.
    private mutating func regex() -> Bool {
        var j = i + 1
        var inClass = false
        while j < bytes.count {
            switch bytes[j] {
            case ASCII.newline, ASCII.carriageReturn:
                return false
            case ASCII.backslash:
                j += 1
                if byte(at: j) == ASCII.newline { return false }
            case ASCII.openBracket:
                inClass = true
            case ASCII.closeBracket:
                inClass = false
            case ASCII.slash where !inClass:
                j += 1
                while let b = byte(at: j), Self.isWordByte(b) { j += 1 }
                i = j
                return true
            default:
                break
            }
            j += 1
        }
        return false
    }

    // MARK: JSX

    private func startsJSX(at index: Int) -> Bool {
        guard let next = byte(at: index) else { return false }
        return next == ASCII.greater || Self.isLetter(next)
    }

    private static func isJSXNameByte(_ byte: UInt8) -> Bool {
        isWordByte(byte) || byte == ASCII.dot || byte == ASCII.colon || byte == ASCII.minus
    }

    /// A JSX element at `i` (on its `<`), up to and including its closing tag.
    private mutating func jsxElement() {
        let openLine = line
        i += 1
        let nameStart = i
        while let b = byte(at: i), Self.isJSXNameByte(b) { i += 1 }
        let name = bytes[nameStart..<i]
        if dialect.typescript, !name.isEmpty, typeParameters() { return }
        while true {
            guard i < bytes.count else {
                problem("JSX tag <\(Self.text(name))> opened at line \(openLine) is never closed (truncated?)", line: openLine)
                return
            }
            switch bytes[i] {
            case ASCII.newline:
                line += 1
                i += 1
            case ASCII.slash where byte(at: i + 1) == ASCII.greater:
                i += 2
                return
            case ASCII.greater:
                i += 1
                jsxChildren(of: name, openLine: openLine)
                return
            case ASCII.openBrace:
                nested(ASCII.openBrace)
            case ASCII.doubleQuote, ASCII.singleQuote:
                let quote = bytes[i]
                let valueLine = line
                i += 1
                while i < bytes.count, bytes[i] != quote {
                    if bytes[i] == ASCII.newline { line += 1 }
                    i += 1
                }
                guard i < bytes.count else {
                    problem("JSX attribute value opened at line \(valueLine) is never closed", line: valueLine)
                    return
                }
                i += 1
            default:
                i += 1
            }
        }
    }

    /// In TypeScript, `<T,>` or `<T extends U>` at an expression start are type parameters of a
    /// generic arrow function, not JSX: skips them when so.
    private mutating func typeParameters() -> Bool {
        var j = i
        while let b = byte(at: j), b == ASCII.space || b == ASCII.tab { j += 1 }
        let isTypeParameters = byte(at: j) == ASCII.comma || bytes[j...].starts(with: Array("extends ".utf8))
        guard isTypeParameters else { return false }
        var depth = 1
        while j < bytes.count, depth > 0 {
            switch bytes[j] {
            case ASCII.less: depth += 1
            case ASCII.greater: depth -= 1
            case ASCII.newline: line += 1
            default: break
            }
            j += 1
        }
        i = j
        expressionAllowed = true
        return true
    }

    /// The children of an element up to its closing tag.
    private mutating func jsxChildren(of name: ArraySlice<UInt8>, openLine: Int) {
        while i < bytes.count {
            switch bytes[i] {
            case ASCII.newline:
                line += 1
                i += 1
            case ASCII.openBrace:
                nested(ASCII.openBrace)
            case ASCII.less where byte(at: i + 1) == ASCII.slash:
                let closeLine = line
                i += 2
                while let b = byte(at: i), b == ASCII.space || b == ASCII.tab { i += 1 }
                let closeStart = i
                while let b = byte(at: i), Self.isJSXNameByte(b) { i += 1 }
                let closeName = bytes[closeStart..<i]
                while i < bytes.count, bytes[i] != ASCII.greater {
                    if bytes[i] == ASCII.newline { line += 1 }
                    i += 1
                }
                i = min(i + 1, bytes.count)
                if !closeName.elementsEqual(name) {
                    problem(
                        "JSX closing tag </\(Self.text(closeName))> at line \(closeLine) does not match <\(Self.text(name))> opened at line \(openLine)",
                        line: closeLine)
                }
                return
            case ASCII.less where startsJSX(at: i + 1):
                jsxElement()
            default:
                i += 1
            }
        }
        problem("JSX element <\(Self.text(name))> opened at line \(openLine) is never closed (truncated?)", line: openLine)
    }

    // MARK: Bytes

    static func isLetter(_ byte: UInt8) -> Bool {
        (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
    }

    /// Identifier and number characters; any non-ASCII byte counts as part of a name.
    static func isWordByte(_ byte: UInt8) -> Bool {
        isLetter(byte) || (0x30...0x39).contains(byte) || byte == ASCII.underscore || byte == ASCII.dollar || byte >= 0x80
    }

    private static func closer(_ opener: UInt8) -> UInt8 {
        switch opener {
        case ASCII.openParen: ASCII.closeParen
        case ASCII.openBracket: ASCII.closeBracket
        default: ASCII.closeBrace
        }
    }

    private static func character(_ byte: UInt8) -> Character { Character(Unicode.Scalar(byte)) }

    private static func text(_ bytes: ArraySlice<UInt8>) -> String { String(decoding: bytes, as: UTF8.self) }
}
