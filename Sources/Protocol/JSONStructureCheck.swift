/// Finds what the wire refuses in JSON that is otherwise well formed: a key repeated in one
/// object (parsers disagree on which copy wins, so a gateway that checks one and forwards the
/// bytes could be bypassed) and nesting deeper than the daemon will parse.
///
/// It reads only the structure (strings, objects, arrays) and answers nil for anything else,
/// invalid JSON included: the decoder then says what is wrong.
public enum JSONStructureCheck {
    public enum Problem: Equatable, Sendable {
        /// The key, decoded: it stands twice in one object.
        case duplicateKey(String)
        /// Two keys of one object with other bytes but the same text under Unicode canonical
        /// equivalence (`é` composed and decomposed): a Swift dictionary, and so every parsed
        /// object, would keep only one of them. `path` holds the keys from the root down to the
        /// object.
        case equivalentKeys(String, String, path: [String])
        case tooDeep(limit: Int)
        /// A number no Double can hold (`1e400`, an integer of hundreds of digits). `path` holds
        /// the keys from the root down to it.
        case numberOutOfRange(String, path: [String])
    }

    /// The deepest nesting of objects and arrays a message may have.
    public static let maxDepth = 128

    private enum Container {
        /// `keys`: each key read so far by its text (Swift compares strings under canonical
        /// equivalence), with its decoded bytes.
        case object(keys: [String: [UInt8]], expectingKey: Bool, name: String?)
        case array(name: String?)
    }

    public static func problem(in bytes: some Collection<UInt8>, maxDepth: Int = maxDepth) -> Problem? {
        let text = bytes as? [UInt8] ?? Array(bytes)
        var stack: [Container] = []
        var index = 0
        /// The last key read in the innermost object: the name of a container opened next.
        var lastKey: String?
        while index < text.count {
            let byte = text[index]
            switch byte {
            case UInt8(ascii: "\""):
                let start = index + 1
                index = start
                while index < text.count && text[index] != UInt8(ascii: "\"") {
                    index += text[index] == UInt8(ascii: "\\") ? 2 : 1
                }
                guard index < text.count else { return nil }
                if case .object(var keys, true, let name)? = stack.last {
                    guard let key = unescaped(text[start..<index]) else { return nil }
                    let keyText = String(decoding: key, as: UTF8.self)
                    if let other = keys[keyText] {
                        if other == key { return .duplicateKey(keyText) }
                        return .equivalentKeys(String(decoding: other, as: UTF8.self), keyText, path: names(stack))
                    }
                    keys[keyText] = key
                    stack[stack.count - 1] = .object(keys: keys, expectingKey: false, name: name)
                    lastKey = keyText
                }
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                guard stack.count < maxDepth else { return .tooDeep(limit: maxDepth) }
                let name: String? = if case .object? = stack.last { lastKey } else { nil }
                stack.append(
                    byte == UInt8(ascii: "{") ? .object(keys: [:], expectingKey: true, name: name) : .array(name: name))
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                guard stack.popLast() != nil else { return nil }
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                let start = index
                while index + 1 < text.count, Self.isNumberByte(text[index + 1]) { index += 1 }
                let token = String(decoding: text[start...index], as: UTF8.self)
                if let value = Double(token), !value.isFinite {
                    var path = names(stack)
                    if case .object? = stack.last, let lastKey { path.append(lastKey) }
                    return .numberOutOfRange(token.count > 40 ? String(token.prefix(40)) + "…" : token, path: path)
                }
            case UInt8(ascii: ","):
                if case .object(let keys, _, let name)? = stack.last {
                    stack[stack.count - 1] = .object(keys: keys, expectingKey: true, name: name)
                }
            default:
                break
            }
            index += 1
        }
        return nil
    }

    private static func isNumberByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."),
            UInt8(ascii: "e"), UInt8(ascii: "E"):
            true
        default: false
        }
    }

    /// The keys that lead to the innermost container (array positions are left out).
    private static func names(_ stack: [Container]) -> [String] {
        stack.dropFirst().compactMap { container in
            switch container {
            case .object(_, _, let name), .array(let name): name
            }
        }
    }

    /// The bytes a JSON string's text stands for; nil for an escape that is not valid JSON.
    private static func unescaped(_ raw: ArraySlice<UInt8>) -> [UInt8]? {
        guard raw.contains(UInt8(ascii: "\\")) else { return Array(raw) }
        var scalars = String.UnicodeScalarView()
        var bytes = raw.makeIterator()
        var pending: [UInt8] = []
        func flush() {
            scalars.append(contentsOf: String(decoding: pending, as: UTF8.self).unicodeScalars)
            pending.removeAll()
        }
        func hex4() -> UInt32? {
            var value: UInt32 = 0
            for _ in 0..<4 {
                guard let byte = bytes.next(), let digit = Character(Unicode.Scalar(byte)).hexDigitValue else { return nil }
                value = value * 16 + UInt32(digit)
            }
            return value
        }
        while let byte = bytes.next() {
            guard byte == UInt8(ascii: "\\") else {
                pending.append(byte)
                continue
            }
            flush()
            guard let escape = bytes.next() else { return nil }
            switch escape {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): scalars.append(Unicode.Scalar(escape))
            case UInt8(ascii: "b"): scalars.append("\u{08}")
            case UInt8(ascii: "f"): scalars.append("\u{0C}")
            case UInt8(ascii: "n"): scalars.append("\n")
            case UInt8(ascii: "r"): scalars.append("\r")
            case UInt8(ascii: "t"): scalars.append("\t")
            case UInt8(ascii: "u"):
                guard var value = hex4() else { return nil }
                if (0xD800..<0xDC00).contains(value) {
                    guard bytes.next() == UInt8(ascii: "\\"), bytes.next() == UInt8(ascii: "u"), let low = hex4(),
                        (0xDC00..<0xE000).contains(low)
                    else { return nil }
                    value = 0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let scalar = Unicode.Scalar(value) else { return nil }
                scalars.append(scalar)
            default:
                return nil
            }
        }
        flush()
        return Array(String(scalars).utf8)
    }
}
