/// The tags of an HTML page a build reads and rewrites: `<script>` and `<link>`, with their
/// attributes and where they stand in the text. esbuild does not read HTML, so the page's entry
/// module and stylesheets come from here, and the built page is this one with those tags
/// pointed at the bundles.
struct HTMLPage {
    struct Tag: Equatable {
        /// `script` or `link`, lowercased.
        var name: String
        var attributes: [String: String]
        /// The tag's range in the page's UTF-8 bytes (for a script, up to its `</script>`).
        var range: Range<Int>
        /// For a script: whether code stands between the tags.
        var hasInlineCode: Bool
        var line: Int

        var isModuleScript: Bool { name == "script" && attributes["type"]?.lowercased() == "module" }
        var isStylesheet: Bool {
            name == "link" && (attributes["rel"] ?? "").lowercased().split(separator: " ").contains("stylesheet")
        }
    }

    let bytes: [UInt8]
    private(set) var tags: [Tag] = []

    init(_ text: String) {
        bytes = Array(text.utf8)
        scan()
    }

    private mutating func scan() {
        var i = 0
        while i < bytes.count {
            let byte = bytes[i]
            guard byte == UInt8(ascii: "<") else {
                i += 1
                continue
            }
            if matches("<!--", at: i) {
                i = (find("-->", from: i + 4) ?? bytes.count - 3) + 3
                continue
            }
            let name = tagName(at: i + 1)
            guard name == "script" || name == "link" || name == "style" else {
                i += 1
                continue
            }
            let start = i
            var (attributes, end) = readAttributes(from: i + 1 + name.utf8.count)
            let startLine = bytes[..<start].reduce(1) { $1 == 0x0A ? $0 + 1 : $0 }
            if name == "style" {
                // Skip the stylesheet's text: a `<link` in a comment of it is not a tag.
                end = (findCaseInsensitive("</style", from: end) ?? bytes.count)
            } else if name == "script" {
                let close = findCaseInsensitive("</script", from: end) ?? bytes.count
                let inner = bytes[end..<close]
                let afterClose = close < bytes.count ? (find(">", from: close) ?? bytes.count - 1) + 1 : bytes.count
                let hasCode = inner.contains { !(
                    $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D) }
                tags.append(Tag(name: name, attributes: attributes, range: start..<afterClose, hasInlineCode: hasCode, line: startLine))
                end = afterClose
                attributes = [:]
            } else {
                tags.append(Tag(name: name, attributes: attributes, range: start..<end, hasInlineCode: false, line: startLine))
            }
            i = max(end, i + 1)
        }
    }

    private func matches(_ text: String, at index: Int) -> Bool {
        let needle = Array(text.utf8)
        guard index + needle.count <= bytes.count else { return false }
        return bytes[index..<index + needle.count].elementsEqual(needle)
    }

    private func find(_ text: String, from index: Int) -> Int? {
        let needle = Array(text.utf8)
        var i = index
        while i + needle.count <= bytes.count {
            if bytes[i..<i + needle.count].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }

    private func findCaseInsensitive(_ text: String, from index: Int) -> Int? {
        Self.findCaseInsensitive(text, in: bytes, from: index)
    }

    private static func findCaseInsensitive(_ text: String, in bytes: [UInt8], from index: Int) -> Int? {
        let needle = Array(text.lowercased().utf8)
        var i = index
        while i + needle.count <= bytes.count {
            if bytes[i..<i + needle.count].lazy.map(lower).elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }

    private static func lower(_ byte: UInt8) -> UInt8 {
        (0x41...0x5A).contains(byte) ? byte + 0x20 : byte
    }

    private func tagName(at index: Int) -> String {
        var i = index
        var name: [UInt8] = []
        while i < bytes.count, (0x41...0x5A).contains(bytes[i]) || (0x61...0x7A).contains(bytes[i]) {
            name.append(Self.lower(bytes[i]))
            i += 1
        }
        // `<scripts>` is not `<script>`.
        if i < bytes.count, !(bytes[i] == 0x20 || bytes[i] == 0x09 || bytes[i] == 0x0A || bytes[i] == 0x0D
            || bytes[i] == UInt8(ascii: ">") || bytes[i] == UInt8(ascii: "/"))
        {
            return ""
        }
        return String(decoding: name, as: UTF8.self)
    }

    /// Attributes from `index` to the tag's `>`; returns them and the index after `>`.
    private func readAttributes(from index: Int) -> ([String: String], Int) {
        var attributes: [String: String] = [:]
        var i = index
        func skipSpace() {
            while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x09 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == UInt8(ascii: "/") {
                i += 1
            }
        }
        while i < bytes.count {
            skipSpace()
            guard i < bytes.count else { break }
            if bytes[i] == UInt8(ascii: ">") { return (attributes, i + 1) }
            var name: [UInt8] = []
            while i < bytes.count, !(bytes[i] == 0x20 || bytes[i] == 0x09 || bytes[i] == 0x0A || bytes[i] == 0x0D
                || bytes[i] == UInt8(ascii: "=") || bytes[i] == UInt8(ascii: ">") || bytes[i] == UInt8(ascii: "/"))
            {
                name.append(Self.lower(bytes[i]))
                i += 1
            }
            var value = ""
            skipSpaceOnly(&i)
            if i < bytes.count, bytes[i] == UInt8(ascii: "=") {
                i += 1
                skipSpaceOnly(&i)
                if i < bytes.count, bytes[i] == UInt8(ascii: "\"") || bytes[i] == UInt8(ascii: "'") {
                    let quote = bytes[i]
                    let start = i + 1
                    i = start
                    while i < bytes.count, bytes[i] != quote { i += 1 }
                    value = String(decoding: bytes[start..<min(i, bytes.count)], as: UTF8.self)
                    i += 1
                } else {
                    let start = i
                    while i < bytes.count, !(bytes[i] == 0x20 || bytes[i] == 0x09 || bytes[i] == 0x0A
                        || bytes[i] == UInt8(ascii: ">"))
                    {
                        i += 1
                    }
                    value = String(decoding: bytes[start..<i], as: UTF8.self)
                }
            }
            if !name.isEmpty { attributes[String(decoding: name, as: UTF8.self)] = value }
        }
        return (attributes, bytes.count)
    }

    private func skipSpaceOnly(_ i: inout Int) {
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x09 || bytes[i] == 0x0A || bytes[i] == 0x0D { i += 1 }
    }

    /// The page with each range replaced (ranges must not overlap), and `extraHead` before
    /// `</head>` (or at the start when there is none).
    func rewritten(_ replacements: [(Range<Int>, String)], extraHead: String) -> String {
        var output: [UInt8] = []
        var cursor = 0
        for (range, text) in replacements.sorted(by: { $0.0.lowerBound < $1.0.lowerBound }) {
            output += bytes[cursor..<range.lowerBound]
            output += Array(text.utf8)
            cursor = range.upperBound
        }
        output += bytes[cursor...]
        guard !extraHead.isEmpty else { return String(decoding: output, as: UTF8.self) }
        let head = Self.findCaseInsensitive("</head", in: output, from: 0) ?? 0
        return String(decoding: Array(output[..<head]) + Array(extraHead.utf8) + Array(output[head...]), as: UTF8.self)
    }
}
