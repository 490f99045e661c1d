import Protocol

/// The `<file path="…">…</file>` syntax: finding tags in a line, their attributes, entities.
extension FileStreamParser {
    static let openTag = Array("<file".utf8)
    static let closeTag = Array("</file>".utf8)
    static let deleteTag = Array("<delete".utf8)
    static let deleteClose = Array("</delete>".utf8)

    /// A fence whose info string starts with `diff` or `patch`.
    static func isPatch(_ info: ArraySlice<UInt8>) -> Bool {
        let word = String(decoding: info.prefix { !isSpace($0) && $0 != ASCII.colon }, as: UTF8.self).lowercased()
        return word == "diff" || word == "patch"
    }

    /// Where contents end and what follows the closing tag, if `line` closes a `<file>` block.
    static func tagClose(in line: ArraySlice<UInt8>, terminated: Bool, atEnd: Bool) -> (end: Int, resume: Int)? {
        var from = line.startIndex
        while let start = find(closeTag, in: line, from: from) {
            var after = start + closeTag.count
            while after < line.endIndex, line[after] == ASCII.space || line[after] == ASCII.tab { after += 1 }
            if after == line.endIndex {
                if terminated || atEnd { return (start, after) }
            } else if isFileTag(line, at: after) {
                return (start, after)
            }
            from = start + 1
        }
        return nil
    }

    /// `<file` followed by the end of the line, a space, `>` or `/`.
    static func isFileTag(_ line: ArraySlice<UInt8>, at index: Int) -> Bool {
        guard line[index...].starts(with: openTag) else { return false }
        let next = index + openTag.count
        guard next < line.endIndex else { return true }
        return [ASCII.space, ASCII.tab, ASCII.greater, ASCII.slash].contains(line[next])
    }

    enum OpeningTag: Equatable {
        case incomplete
        case notFileTag
        case selfClosing(path: String?, end: Int)
        case opened(path: String?, end: Int)
    }

    /// Reads `<file attr="…" …>` (or another tag of `nameLength` bytes with `<`) starting at
    /// `index`; `end` is just past the `>`.
    static func parseOpeningTag(_ bytes: ArraySlice<UInt8>, at index: Int, nameLength: Int = openTag.count) -> OpeningTag {
        var i = index + nameLength
        var path: String?
        func skipSpace() {
            while i < bytes.endIndex, isSpace(bytes[i]) { i += 1 }
        }
        while true {
            skipSpace()
            guard i < bytes.endIndex else { return .incomplete }
            switch bytes[i] {
            case ASCII.greater:
                return .opened(path: path, end: i + 1)
            case ASCII.slash:
                guard i + 1 < bytes.endIndex else { return .incomplete }
                guard bytes[i + 1] == ASCII.greater else { return .notFileTag }
                return .selfClosing(path: path, end: i + 2)
            default:
                break
            }
            let nameStart = i
            while i < bytes.endIndex, !isSpace(bytes[i]), ![ASCII.equals, ASCII.greater, ASCII.slash].contains(bytes[i]) {
                i += 1
            }
            guard i > nameStart else { return .notFileTag }
            let name = String(decoding: bytes[nameStart..<i], as: UTF8.self).lowercased()
            skipSpace()
            guard i < bytes.endIndex else { return .incomplete }
            guard bytes[i] == ASCII.equals else { continue }
            i += 1
            skipSpace()
            guard i < bytes.endIndex else { return .incomplete }
            let value: ArraySlice<UInt8>
            if bytes[i] == ASCII.doubleQuote || bytes[i] == ASCII.singleQuote {
                let quote = bytes[i]
                guard let close = bytes[(i + 1)...].firstIndex(of: quote) else { return .incomplete }
                value = bytes[(i + 1)..<close]
                i = close + 1
            } else {
                let valueStart = i
                while i < bytes.endIndex, !isSpace(bytes[i]), bytes[i] != ASCII.greater { i += 1 }
                value = bytes[valueStart..<i]
            }
            if ["path", "filepath", "filename"].contains(name), path == nil {
                path = decodeEntities(String(decoding: value, as: UTF8.self))
            }
        }
    }

    static func decodeEntities(_ text: String) -> String {
        guard text.contains("&") else { return text }
        var result = ""
        var rest = text[...]
        while let amp = rest.firstIndex(of: "&") {
            result += rest[..<amp]
            let tail = rest[amp...]
            if let semicolon = tail.prefix(12).firstIndex(of: ";") {
                let name = tail[tail.index(after: amp)..<semicolon]
                if let decoded = decodeEntity(name) {
                    result.append(decoded)
                    rest = tail[tail.index(after: semicolon)...]
                    continue
                }
            }
            result.append("&")
            rest = tail.dropFirst()
        }
        return result + rest
    }

    static func decodeEntity(_ name: Substring) -> Character? {
        switch name {
        case "quot": return "\""
        case "apos": return "'"
        case "amp": return "&"
        case "lt": return "<"
        case "gt": return ">"
        default:
            guard name.hasPrefix("#") else { return nil }
            let digits = name.dropFirst()
            let value: UInt32? =
                digits.first == "x" || digits.first == "X" ? UInt32(digits.dropFirst(), radix: 16) : UInt32(digits, radix: 10)
            return value.flatMap(Unicode.Scalar.init).map(Character.init)
        }
    }
}
