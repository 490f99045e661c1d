import VectortCore

/// A strict, allocation-light reader of one streamed JSON chunk, for the stream decoders' hot path.
///
/// Decoding every streamed chunk with Foundation's `JSONDecoder` was the largest CPU cost of a
/// streamed answer, yet a decoder reads only a handful of fields. With this scanner it walks the
/// chunk's UTF-8 bytes once, reads those fields and skips everything else without building it.
///
/// It accepts only RFC 8259 JSON it fully understands. Anything else throws `Unsupported` and
/// the decoder falls back to `JSONDecoder`, so errors and edge cases stay exactly as they were:
/// malformed JSON and what `JSONDecoder` tolerates in skipped values (`01`, `[1,]`, `"\x"`), a
/// value of another type than the field's (`"content": 5`, `"index": 1.0`, `-1`), a duplicate or
/// escaped key, a lone surrogate, nesting deeper than `maxDepth`.
struct StreamChunkScanner {
    /// The chunk is not one the scanner fully understands.
    struct Unsupported: Error {}

    /// A key as written, compared against the names a decoder reads (`case "choices":`).
    struct Key {
        fileprivate let bytes: Slice<UnsafeBufferPointer<UInt8>>

        static func ~= (name: StaticString, key: Key) -> Bool {
            name.withUTF8Buffer { key.bytes.elementsEqual($0) }
        }
    }

    /// A field a decoder reads; null and absent are both nil, as for `decodeIfPresent`.
    /// `JSONDecoder` keeps the first of duplicate keys; rather than imitate that, a second
    /// occurrence is unsupported.
    struct Field<Value> {
        private(set) var value: Value?
        private var isRead = false

        init() {}

        mutating func read(_ newValue: Value?) throws(Unsupported) {
            guard !isRead else { throw Unsupported() }
            isRead = true
            value = newValue
        }
    }

    /// Far below `JSONDecoder`'s own nesting limit (512), so nothing it rejects for depth passes.
    private static let maxDepth = 32

    private let bytes: UnsafeBufferPointer<UInt8>
    private var position = 0
    private var depth = 0

    private init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    /// Reads `text` as one JSON object with nothing but whitespace around it, handing each member
    /// to `member`, which consumes its value. False when any of it is unsupported.
    static func scanObject(_ text: String, _ member: (inout StreamChunkScanner, Key) throws(Unsupported) -> Void) -> Bool {
        let scanned = text.utf8.withContiguousStorageIfAvailable { bytes in
            var scanner = StreamChunkScanner(bytes)
            do {
                try scanner.object(member)
                scanner.skipWhitespace()
                return scanner.position == bytes.count
            } catch {
                return false
            }
        }
        return scanned ?? false
    }

    /// An object, each member handed to `member`, which consumes its value. Keys with escapes
    /// are unsupported: `JSONDecoder` would match them unescaped.
    mutating func object(_ member: (inout StreamChunkScanner, Key) throws(Unsupported) -> Void) throws(Unsupported) {
        try enter("{")
        if take("}") {
            leave()
            return
        }
        repeat {
            let key = try plainKey()
            try expect(":")
            try member(&self, key)
        } while try separator(closing: "}")
        leave()
    }

    mutating func array(_ element: (inout StreamChunkScanner) throws(Unsupported) -> Void) throws(Unsupported) {
        try enter("[")
        if take("]") {
            leave()
            return
        }
        repeat {
            try element(&self)
        } while try separator(closing: "]")
        leave()
    }

    /// nil for `null`, otherwise what `read` reads.
    mutating func nullOr<Value>(_ read: (inout StreamChunkScanner) throws(Unsupported) -> Value) throws(Unsupported) -> Value? {
        skipWhitespace()
        if bytes[position...].starts(with: "null".utf8) {
            position += 4
            return nil
        }
        return try read(&self)
    }

    mutating func stringOrNull() throws(Unsupported) -> String? {
        try nullOr { scanner throws(Unsupported) in try scanner.string() }
    }

    /// A non-negative integer written plainly; `-0`, `1.0`, `1e2` and overflow are unsupported.
    mutating func integerOrNull() throws(Unsupported) -> Int? {
        try nullOr { scanner throws(Unsupported) in try scanner.integer() }
    }

    mutating func string() throws(Unsupported) -> String {
        // Only nil when `keeping` is false.
        try scanString(keeping: true)!
    }

    mutating func integer() throws(Unsupported) -> Int {
        skipWhitespace()
        var value = 0
        let start = position
        while position < bytes.count, let digit = Self.digitValue(bytes[position]) {
            if position > start, value == 0 { throw Unsupported() }  // a leading zero
            let (times10, overflow) = value.multipliedReportingOverflow(by: 10)
            let (sum, carry) = times10.addingReportingOverflow(digit)
            guard !overflow, !carry else { throw Unsupported() }
            value = sum
            position += 1
        }
        guard position > start else { throw Unsupported() }
        if takeByte(".") || takeByte("e") || takeByte("E") { throw Unsupported() }
        return value
    }

    /// Any value, validated as strictly as the values read.
    mutating func skipValue() throws(Unsupported) {
        skipWhitespace()
        guard position < bytes.count else { throw Unsupported() }
        switch bytes[position] {
        case UInt8(ascii: "{"): try object { scanner, _ throws(Unsupported) in try scanner.skipValue() }
        case UInt8(ascii: "["): try array { scanner throws(Unsupported) in try scanner.skipValue() }
        case UInt8(ascii: "\""): _ = try scanString(keeping: false)
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        default: try skipNumber()
        }
    }

    private mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"): position += 1
            default: return
            }
        }
    }

    /// Skips whitespace, then takes `byte` if it is next.
    private mutating func take(_ byte: Unicode.Scalar) -> Bool {
        skipWhitespace()
        guard position < bytes.count, bytes[position] == UInt8(ascii: byte) else { return false }
        position += 1
        return true
    }

    private mutating func expect(_ byte: Unicode.Scalar) throws(Unsupported) {
        guard take(byte) else { throw Unsupported() }
    }

    private mutating func enter(_ opening: Unicode.Scalar) throws(Unsupported) {
        try expect(opening)
        depth += 1
        guard depth <= Self.maxDepth else { throw Unsupported() }
    }

    private mutating func leave() {
        depth -= 1
    }

    /// True after a comma (another member or element follows), false after `closing`.
    private mutating func separator(closing: Unicode.Scalar) throws(Unsupported) -> Bool {
        if take(",") { return true }
        try expect(closing)
        return false
    }

    private mutating func literal(_ word: StaticString) throws(Unsupported) {
        let matches = word.withUTF8Buffer { bytes[position...].starts(with: $0) }
        guard matches else { throw Unsupported() }
        position += word.utf8CodeUnitCount
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    private mutating func skipNumber() throws(Unsupported) {
        _ = takeByte("-")
        guard position < bytes.count, let first = Self.digitValue(bytes[position]) else { throw Unsupported() }
        position += 1
        if first != 0 { skipDigits() }
        if takeByte(".") { guard skipDigits() > 0 else { throw Unsupported() } }
        if takeByte("e") || takeByte("E") {
            _ = takeByte("+") || takeByte("-")
            guard skipDigits() > 0 else { throw Unsupported() }
        }
    }

    /// Takes `byte` if it is next, with no whitespace before it (inside a number or string).
    private mutating func takeByte(_ byte: Unicode.Scalar) -> Bool {
        guard position < bytes.count, bytes[position] == UInt8(ascii: byte) else { return false }
        position += 1
        return true
    }

    @discardableResult
    private mutating func skipDigits() -> Int {
        let start = position
        while position < bytes.count, Self.digitValue(bytes[position]) != nil { position += 1 }
        return position - start
    }

    private static func digitValue(_ byte: UInt8) -> Int? {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) ? Int(byte - UInt8(ascii: "0")) : nil
    }

    private mutating func plainKey() throws(Unsupported) -> Key {
        try expect("\"")
        let start = position
        while position < bytes.count {
            switch bytes[position] {
            case UInt8(ascii: "\""):
                position += 1
                return Key(bytes: bytes[start..<position - 1])
            case UInt8(ascii: "\\"), 0..<0x20: throw Unsupported()
            default: position += 1
            }
        }
        throw Unsupported()
    }

    /// A string's value, unescaped; with `keeping` false, nil after the same validation. A string
    /// without escapes is one copy of its bytes; one with escapes is built byte by byte.
    private mutating func scanString(keeping: Bool) throws(Unsupported) -> String? {
        try expect("\"")
        let start = position
        while position < bytes.count {
            switch bytes[position] {
            case UInt8(ascii: "\""):
                position += 1
                return keeping ? String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position - 1]), as: UTF8.self) : nil
            case UInt8(ascii: "\\"):
                return try scanEscapedString(from: start, keeping: keeping)
            case 0..<0x20:
                throw Unsupported()
            default:
                position += 1
            }
        }
        throw Unsupported()
    }

    /// The rest of a string from its first backslash; `start` is just after the opening quote.
    private mutating func scanEscapedString(from start: Int, keeping: Bool) throws(Unsupported) -> String? {
        var unescaped: [UInt8] = []
        if keeping {
            unescaped.reserveCapacity(bytes.count - start)
            unescaped.append(contentsOf: bytes[start..<position])
        }
        while position < bytes.count {
            let byte = bytes[position]
            position += 1
            switch byte {
            case UInt8(ascii: "\""):
                return keeping ? String(decoding: unescaped, as: UTF8.self) : nil
            case UInt8(ascii: "\\"):
                let scalar = try escape()
                if keeping { UTF8.encode(scalar) { unescaped.append($0) } }
            case 0..<0x20:
                throw Unsupported()
            default:
                if keeping { unescaped.append(byte) }
            }
        }
        throw Unsupported()
    }

    /// The character of an escape, the backslash already taken: a surrogate pair as one scalar,
    /// a lone surrogate unsupported.
    private mutating func escape() throws(Unsupported) -> Unicode.Scalar {
        guard position < bytes.count else { throw Unsupported() }
        let byte = bytes[position]
        position += 1
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): return Unicode.Scalar(byte)
        case UInt8(ascii: "b"): return "\u{08}"
        case UInt8(ascii: "f"): return "\u{0C}"
        case UInt8(ascii: "n"): return "\n"
        case UInt8(ascii: "r"): return "\r"
        case UInt8(ascii: "t"): return "\t"
        case UInt8(ascii: "u"): break
        default: throw Unsupported()
        }
        let unit = try hexUnit()
        switch unit {
        case 0xD800...0xDBFF:
            guard takeByte("\\"), takeByte("u") else { throw Unsupported() }
            let low = try hexUnit()
            guard (0xDC00...0xDFFF).contains(low) else { throw Unsupported() }
            let value = 0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
            guard let scalar = Unicode.Scalar(value) else { throw Unsupported() }
            return scalar
        default:
            // Only a lone low surrogate is not a scalar.
            guard let scalar = Unicode.Scalar(unit) else { throw Unsupported() }
            return scalar
        }
    }

    /// The four hex digits of a `\u` escape.
    private mutating func hexUnit() throws(Unsupported) -> UInt16 {
        guard bytes.count - position >= 4 else { throw Unsupported() }
        var unit: UInt16 = 0
        for _ in 0..<4 {
            let byte = bytes[position]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw Unsupported()
            }
            unit = unit << 4 | UInt16(digit)
            position += 1
        }
        return unit
    }
}
