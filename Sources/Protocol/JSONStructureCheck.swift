/// Finds what the wire refuses in JSON that is otherwise well formed: a key repeated in one
/// object (parsers disagree on which copy wins, so a gateway that checks one and forwards the
/// bytes could be bypassed) and nesting deeper than the daemon will parse.
///
/// It reads only the structure (strings, objects, arrays) and answers nil for anything else,
/// invalid JSON included: the decoder then says what is wrong.
public enum JSONStructureCheck {
    public enum Problem: Equatable, Sendable {
        /// The key, as its bytes appear in the text (escapes included).
        case duplicateKey(String)
        case tooDeep(limit: Int)
    }

    /// The deepest nesting of objects and arrays a message may have.
    public static let maxDepth = 128

    private enum Container {
        case object(keys: Set<[UInt8]>, expectingKey: Bool)
        case array
    }

    public static func problem(in bytes: some Collection<UInt8>, maxDepth: Int = maxDepth) -> Problem? {
        let text = bytes as? [UInt8] ?? Array(bytes)
        var stack: [Container] = []
        var index = 0
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
                if case .object(var keys, true)? = stack.last {
                    let key = Array(text[start..<index])
                    guard keys.insert(key).inserted else { return .duplicateKey(String(decoding: key, as: UTF8.self)) }
                    stack[stack.count - 1] = .object(keys: keys, expectingKey: false)
                }
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                guard stack.count < maxDepth else { return .tooDeep(limit: maxDepth) }
                stack.append(byte == UInt8(ascii: "{") ? .object(keys: [], expectingKey: true) : .array)
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                guard stack.popLast() != nil else { return nil }
            case UInt8(ascii: ","):
                if case .object(let keys, _)? = stack.last { stack[stack.count - 1] = .object(keys: keys, expectingKey: true) }
            default:
                break
            }
            index += 1
        }
        return nil
    }
}
