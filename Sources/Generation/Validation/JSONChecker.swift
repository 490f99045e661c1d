/// A JSON syntax check that says on which line a document goes wrong.
///
/// Strict RFC 8259, or — for files whose tools read JSON with comments (tsconfig, jsconfig,
/// VS Code settings) — with `//` and `/* */` comments and trailing commas allowed.
struct JSONChecker {
    struct Failure: Error, Equatable {
        var message: String
        var line: Int
    }

    /// The first syntax error of `text`, or nil when it is one valid JSON value.
    static func check(_ text: String, lenient: Bool = false) -> Failure? {
        var checker = JSONChecker(bytes: Array(text.utf8), lenient: lenient)
        do {
            try checker.document()
            return nil
        } catch {
            return error
        }
    }

    /// Whether the file's tools accept comments and trailing commas.
    /// Compared as bytes, ASCII letters folded: every name it looks for is ASCII.
    static func allowsComments(path: String) -> Bool {
        let name = Validators.fileName(path).utf8.map { (0x41...0x5A).contains($0) ? $0 | 0x20 : $0 }
        let bytes = Array(path.utf8)
        return name.starts(with: "tsconfig".utf8) || name.starts(with: "jsconfig".utf8)
            || name.elementsEqual(".eslintrc.json".utf8) || name.elementsEqual("devcontainer.json".utf8)
            || bytes.starts(with: ".vscode/".utf8) || bytes.contains(subsequence: Array("/.vscode/".utf8))
    }

    private let bytes: [UInt8]
    private let lenient: Bool
    private var i = 0
    private var line = 1

    private init(bytes: [UInt8], lenient: Bool) {
        self.bytes = bytes
        self.lenient = lenient
    }

    private static let maximumDepth = 512

    private mutating func document() throws(Failure) {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { i = 3 }
        try skipSpace()
        guard i < bytes.count else { throw Failure(message: "the file is empty: expected a JSON value", line: line) }
        try value(depth: 0)
        try skipSpace()
        if i < bytes.count { throw fail("unexpected \(describe(bytes[i])) after the JSON value") }
    }

    private mutating func value(depth: Int) throws(Failure) {
        guard depth < Self.maximumDepth else { throw fail("nested more than \(Self.maximumDepth) levels deep") }
        guard i < bytes.count else { throw fail("the file ends in the middle of a value (truncated?)") }
        switch bytes[i] {
        case ASCII.openBrace: try object(depth: depth)
        case ASCII.openBracket: try array(depth: depth)
        case ASCII.doubleQuote: try string()
        case ASCII.minus, UInt8(ascii: "0")...UInt8(ascii: "9"): try number()
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        case ASCII.singleQuote: throw fail("strings must use double quotes")
        default: throw fail("unexpected \(describe(bytes[i])), expected a value")
        }
    }

    private mutating func object(depth: Int) throws(Failure) {
        let openLine = line
        i += 1
        try skipSpace()
        if i < bytes.count, bytes[i] == ASCII.closeBrace {
            i += 1
            return
        }
        while true {
            guard i < bytes.count else { throw unclosed("{", openLine) }
            guard bytes[i] == ASCII.doubleQuote else {
                throw fail("expected a double-quoted property name, found \(describe(bytes[i]))")
            }
            try string()
            try skipSpace()
            guard i < bytes.count else { throw unclosed("{", openLine) }
            guard bytes[i] == ASCII.colon else { throw fail("expected ':' after the property name, found \(describe(bytes[i]))") }
            i += 1
            try skipSpace()
            try value(depth: depth + 1)
            if try closesAfterMember("{", ASCII.closeBrace, "object", openLine: openLine) { return }
        }
    }

    /// After a member of an object or array: `,` and another member, or the closing bracket
    /// (a trailing comma before it only when lenient). True when the container closed.
    private mutating func closesAfterMember(
        _ open: String, _ close: UInt8, _ container: String, openLine: Int
    ) throws(Failure) -> Bool {
        try skipSpace()
        guard i < bytes.count else { throw unclosed(open, openLine) }
        switch bytes[i] {
        case ASCII.comma:
            i += 1
            try skipSpace()
            if i < bytes.count, bytes[i] == close {
                guard lenient else { throw fail("trailing comma before '\(Character(Unicode.Scalar(close)))'") }
                i += 1
                return true
            }
            return false
        case close:
            i += 1
            return true
        default:
            throw fail(
                "expected ',' or '\(Character(Unicode.Scalar(close)))' in the \(container) opened at line \(openLine), found \(describe(bytes[i]))")
        }
    }

    private mutating func array(depth: Int) throws(Failure) {
        let openLine = line
        i += 1
        try skipSpace()
        if i < bytes.count, bytes[i] == ASCII.closeBracket {
            i += 1
            return
        }
        while true {
            guard i < bytes.count else { throw unclosed("[", openLine) }
            try value(depth: depth + 1)
            if try closesAfterMember("[", ASCII.closeBracket, "array", openLine: openLine) { return }
        }
    }

    private mutating func string() throws(Failure) {
        let openLine = line
        i += 1
        while i < bytes.count {
            let byte = bytes[i]
            switch byte {
            case ASCII.doubleQuote:
                i += 1
                return
            case ASCII.backslash:
                guard i + 1 < bytes.count else { break }
                let escaped = bytes[i + 1]
                if escaped == UInt8(ascii: "u") {
                    let hex = bytes[(i + 2)..<min(i + 6, bytes.count)]
                    guard hex.count == 4, hex.allSatisfy({ UInt8(ascii: "0") ... UInt8(ascii: "9") ~= $0 || (0x41...0x46) ~= ($0 & 0xDF) })
                    else { throw fail("invalid \\u escape in a string") }
                    i += 6
                } else {
                    guard Array(#""\/bfnrt"#.utf8).contains(escaped) else {
                        throw fail("invalid escape \\\(Character(Unicode.Scalar(escaped))) in a string")
                    }
                    i += 2
                }
                continue
            case ASCII.newline:
                throw Failure(message: "string opened at line \(openLine) is not closed on its line", line: openLine)
            case 0..<0x20:
                throw fail("control character in a string (must be escaped)")
            default:
                break
            }
            i += 1
        }
        throw Failure(message: "string opened at line \(openLine) is never closed (truncated?)", line: openLine)
    }

    private mutating func number() throws(Failure) {
        func digits() -> Int {
            let start = i
            while i < bytes.count, UInt8(ascii: "0")...UInt8(ascii: "9") ~= bytes[i] { i += 1 }
            return i - start
        }
        if bytes[i] == ASCII.minus { i += 1 }
        guard i < bytes.count, UInt8(ascii: "0")...UInt8(ascii: "9") ~= bytes[i] else { throw fail("invalid number") }
        if bytes[i] == UInt8(ascii: "0") {
            i += 1
            if i < bytes.count, UInt8(ascii: "0")...UInt8(ascii: "9") ~= bytes[i] { throw fail("numbers may not have leading zeros") }
        } else {
            _ = digits()
        }
        if i < bytes.count, bytes[i] == ASCII.dot {
            i += 1
            guard digits() > 0 else { throw fail("invalid number: digits expected after '.'") }
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            i += 1
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == ASCII.minus { i += 1 }
            guard digits() > 0 else { throw fail("invalid number: digits expected in the exponent") }
        }
    }

    private mutating func literal(_ word: String) throws(Failure) {
        let expected = Array(word.utf8)
        guard bytes[i...].starts(with: expected) else { throw fail("unexpected \(describe(bytes[i])), expected a value") }
        i += expected.count
    }

    private mutating func skipSpace() throws(Failure) {
        while i < bytes.count {
            switch bytes[i] {
            case ASCII.newline:
                line += 1
                i += 1
            case ASCII.space, ASCII.tab, ASCII.carriageReturn:
                i += 1
            case ASCII.slash where i + 1 < bytes.count && (bytes[i + 1] == ASCII.slash || bytes[i + 1] == ASCII.star):
                guard lenient else { throw fail("comments are not allowed in JSON") }
                if bytes[i + 1] == ASCII.slash {
                    while i < bytes.count, bytes[i] != ASCII.newline { i += 1 }
                } else {
                    let openLine = line
                    i += 2
                    while i < bytes.count, !(bytes[i] == ASCII.star && i + 1 < bytes.count && bytes[i + 1] == ASCII.slash) {
                        if bytes[i] == ASCII.newline { line += 1 }
                        i += 1
                    }
                    guard i < bytes.count else {
                        throw Failure(message: "comment opened at line \(openLine) is never closed", line: openLine)
                    }
                    i += 2
                }
            default:
                return
            }
        }
    }

    private func fail(_ message: String) -> Failure { Failure(message: message, line: line) }

    private func unclosed(_ bracket: String, _ openLine: Int) -> Failure {
        Failure(message: "'\(bracket)' opened at line \(openLine) is never closed (truncated?)", line: line)
    }

    private func describe(_ byte: UInt8) -> String {
        byte < 0x80 && byte >= 0x20 ? "'\(Character(Unicode.Scalar(byte)))'" : "byte 0x\(String(byte, radix: 16))"
    }
}

extension Array where Element == UInt8 {
    /// Whether `needle` occurs anywhere in the bytes.
    func contains(subsequence needle: [UInt8]) -> Bool {
        guard !needle.isEmpty else { return true }
        guard count >= needle.count else { return false }
        for start in 0...(count - needle.count) where self[start] == needle[0] {
            if self[start..<start + needle.count].elementsEqual(needle) { return true }
        }
        return false
    }
}
