import Protocol

/// Byte-level helpers the syntaxes share: trimming, blank lines, searching, path normalization.
extension FileStreamParser {
    static func normalize(_ raw: String) -> String {
        var path = trim(raw[...])
        while path.hasPrefix("./") { path = path.dropFirst(2) }
        var result = ""
        var previousSlash = false
        for character in path {
            if character == "/" && previousSlash { continue }
            previousSlash = character == "/"
            result.append(character)
        }
        return result
    }

    static func trim(_ text: Substring, where drop: (Character) -> Bool = \.isWhitespace) -> Substring {
        guard let first = text.firstIndex(where: { !drop($0) }), let last = text.lastIndex(where: { !drop($0) }) else {
            return text[text.endIndex...]
        }
        return text[first...last]
    }

    static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var start = bytes.startIndex
        var end = bytes.endIndex
        while start < end, isSpace(bytes[start]) { start += 1 }
        while end > start, isSpace(bytes[end - 1]) { end -= 1 }
        return bytes[start..<end]
    }

    /// The end of `bytes` without its trailing whitespace.
    static func trimmedEnd(_ bytes: ArraySlice<UInt8>) -> Int {
        var end = bytes.endIndex
        while end > bytes.startIndex, isSpace(bytes[end - 1]) { end -= 1 }
        return end
    }

    static func isBlank(_ bytes: ArraySlice<UInt8>) -> Bool { bytes.allSatisfy(isSpace) }

    static func isSpace(_ byte: UInt8) -> Bool {
        byte == ASCII.space || byte == ASCII.tab || byte == ASCII.newline || byte == ASCII.carriageReturn
    }

    static func droppingCarriageReturn(_ line: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        line.last == ASCII.carriageReturn ? line.dropLast() : line
    }

    static func find(_ needle: [UInt8], in haystack: ArraySlice<UInt8>, from: Int) -> Int? {
        guard let first = needle.first, needle.count <= haystack.endIndex - from else { return nil }
        var i = from
        let last = haystack.endIndex - needle.count
        while i <= last {
            guard let candidate = haystack[i...last].firstIndex(of: first) else { return nil }
            if haystack[candidate..<(candidate + needle.count)].elementsEqual(needle) { return candidate }
            i = candidate + 1
        }
        return nil
    }
}

extension FileStreamParser {
    static func finalContents(_ bytes: ArraySlice<UInt8>, stripWrapper: Bool, path: String) -> String {
        var start = bytes.startIndex
        var end = trimmedEnd(bytes)
        if stripWrapper {
            var first = start
            while first < end {
                let lineEnd = bytes[first..<end].firstIndex(of: ASCII.newline) ?? end
                guard isBlank(bytes[first..<lineEnd]) else { break }
                first = lineEnd + 1
            }
            let firstEnd = first < end ? (bytes[first..<end].firstIndex(of: ASCII.newline) ?? end) : end
            if first < end, let opening = Fence(bytes[first..<firstEnd]), wrapperAllowed(opening, path: path) {
                let lastStart = (bytes[firstEnd..<end].lastIndex(of: ASCII.newline) ?? firstEnd) + 1
                if lastStart > firstEnd, lastStart <= end, let closing = Fence(bytes[lastStart..<end]),
                    opening.isClosed(by: closing)
                {
                    start = firstEnd + 1
                    end = max(start, trimmedEnd(bytes[start..<lastStart]))
                }
            }
        }
        guard start < end else { return "" }
        return String(decoding: bytes[start..<end], as: UTF8.self) + "\n"
    }

    private static func wrapperAllowed(_ fence: Fence, path: String) -> Bool {
        let ext = path.split(separator: ".").last.map { $0.lowercased() } ?? ""
        guard ["md", "markdown", "mdx"].contains(ext) else { return true }
        let info = String(decoding: fence.info, as: UTF8.self).lowercased()
        return fence.length > 3 || ["md", "markdown", "mdx"].contains(info)
    }
}
