import Crypto
import VectortCore
public import Foundation

/// The keys of the `data-key` credential, which encrypt what must not rest in clear text in the
/// database (users' connected platform tokens). One key per line, 32 bytes as base64 or as 64 hex
/// digits (`openssl rand -base64 32`); the first line encrypts, every line decrypts, so a rotation
/// puts the new key first and keeps the old one until `reencrypt` has run.
///
/// A sealed value is `v1.<key id>.<base64 of nonce ‖ ciphertext ‖ tag>` (AES-256-GCM). The key id
/// is the first 8 bytes of the key's SHA-256 in hex: it names the key without revealing it. The
/// associated data binds a value to where it is stored (its user and platform), so a ciphertext
/// copied onto another row does not open.
public struct DataKeyring: Sendable {
    public struct Key: Sendable {
        public let id: String
        let bytes: [UInt8]
        var key: SymmetricKey { SymmetricKey(data: bytes) }
    }

    /// A `data-key` line that is not a 32-byte key. Names the line, never shows it.
    public struct InvalidKey: Error, CustomStringConvertible {
        public let line: Int
        public var description: String {
            "data-key line \(line) is not a 32-byte key in base64 or 64 hex digits (make one with: openssl rand -base64 32)"
        }
    }

    /// Why a sealed value does not open.
    public enum OpenFailure: Error, Equatable, CustomStringConvertible {
        /// No configured key has this id (the key was removed from `data-key`).
        case unknownKey(String)
        /// The value is damaged, or belongs to another row.
        case corrupt

        public var description: String {
            switch self {
            case .unknownKey(let id): "it was encrypted under data key \(id), which data-key no longer holds"
            case .corrupt: "it does not decrypt (damaged, or not this account's)"
            }
        }
    }

    public let keys: [Key]

    /// The encrypting key's id; nil without keys.
    public var currentID: String? { keys.first?.id }
    public var isEmpty: Bool { keys.isEmpty }

    public static let empty = DataKeyring(keys: [])

    init(keys: [Key]) {
        self.keys = keys
    }

    /// The keys of a `data-key` credential's text; blank lines and `#` comments are skipped.
    public init(credential: String) throws(InvalidKey) {
        var keys: [Key] = []
        for (index, raw) in credential.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let bytes = Self.decode(line), bytes.count == 32 else { throw InvalidKey(line: index + 1) }
            let digest = SHA256.hash(data: bytes)
            let id = TokenEncoding.hex(digest.prefix(8))
            if !keys.contains(where: { $0.id == id }) { keys.append(Key(id: id, bytes: [UInt8](bytes))) }
        }
        self.keys = keys
    }

    /// The key id a sealed value names, without opening it.
    public static func keyID(of sealed: String) -> String? {
        let parts = sealed.split(separator: ".", maxSplits: 2)
        guard parts.count == 3, parts[0] == "v1" else { return nil }
        return String(parts[1])
    }

    /// `plaintext` encrypted under the first key, bound to `context`. Nil without keys.
    public func seal(_ plaintext: String, context: String) -> String? {
        guard let current = keys.first,
            let box = try? AES.GCM.seal(Data(plaintext.utf8), using: current.key, authenticating: Data(context.utf8)),
            let combined = box.combined
        else { return nil }
        return "v1.\(current.id).\(combined.base64EncodedString())"
    }

    /// The plaintext of a value `seal` made with the same `context`.
    public func open(_ sealed: String, context: String) throws(OpenFailure) -> String {
        let parts = sealed.split(separator: ".", maxSplits: 2).map(String.init)
        guard parts.count == 3, parts[0] == "v1", let combined = Data(base64Encoded: parts[2]) else { throw .corrupt }
        guard let key = keys.first(where: { $0.id == parts[1] }) else { throw .unknownKey(parts[1]) }
        guard let box = try? AES.GCM.SealedBox(combined: combined),
            let plain = try? AES.GCM.open(box, using: key.key, authenticating: Data(context.utf8)),
            let text = String(data: plain, encoding: .utf8)
        else { throw .corrupt }
        return text
    }

    private static func decode(_ line: String) -> Data? {
        if line.count == 64, line.allSatisfy(\.isHexDigit) {
            var bytes = [UInt8]()
            var index = line.startIndex
            while index < line.endIndex {
                let next = line.index(index, offsetBy: 2)
                guard let byte = UInt8(line[index..<next], radix: 16) else { return nil }
                bytes.append(byte)
                index = next
            }
            return Data(bytes)
        }
        return Data(base64Encoded: line)
    }
}
