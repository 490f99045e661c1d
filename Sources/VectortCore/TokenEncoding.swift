public import Foundation

/// Random tokens and the encodings the web flows use for them: base64url without padding
/// (JWT parts, PKCE, mailed links, OAuth state) and lower-case hex (preview tokens, ids).
public enum TokenEncoding {
    /// `count` bytes from the system's secure generator.
    public static func randomBytes(_ count: Int) -> Data {
        var generator = SystemRandomNumberGenerator()
        return Data((0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    public static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    public static func base64URLDecode(_ text: String) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64)
    }

    /// Lower-case hex, two digits a byte. Written straight into the string's storage:
    /// `String(format:)` per byte cost more than hashing the bytes (content hashes of every
    /// stored file, signatures, ids).
    public static func hex(_ sequence: some Sequence<UInt8>) -> String {
        let digits: StaticString = "0123456789abcdef"
        let bytes = Array(sequence)
        return String(unsafeUninitializedCapacity: bytes.count * 2) { buffer in
            digits.withUTF8Buffer { digits in
                var index = 0
                for byte in bytes {
                    buffer[index] = digits[Int(byte >> 4)]
                    buffer[index + 1] = digits[Int(byte & 0x0F)]
                    index += 2
                }
                return index
            }
        }
    }

    /// `a=1&b=2` of an `application/x-www-form-urlencoded` body or query (`+` is a space).
    public static func formDecode(_ text: String) -> [String: String] {
        var values: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map {
                String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
            }
            if parts.count == 2 { values[parts[0]] = parts[1] }
        }
        return values
    }

    /// Pairs as `application/x-www-form-urlencoded` (unreserved characters kept, others escaped).
    public static func formEncode(_ pairs: [(String, String)]) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return pairs.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")" }.joined(separator: "&")
    }
}
