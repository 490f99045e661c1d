import Crypto
import Foundation

/// SHA256-crypt (`$5$[rounds=N$]salt$hash`, Ulrich Drepper's "Unix crypt using SHA-256"), the
/// hashes of users brought over from the platform's earlier FastAPI deployment (passlib's
/// `sha256_crypt`). Only verified: a successful login replaces it with scrypt.
enum SHA256Crypt {
    static let defaultRounds = 5000

    /// Whether `password` hashes to `stored`; false for a value that is not SHA256-crypt.
    static func verify(_ password: String, against stored: String) -> Bool {
        guard let (rounds, salt, expected) = parse(stored) else { return false }
        let computed = Array(hash(password: Array(password.utf8), salt: Array(salt.utf8), rounds: rounds).utf8)
        let wanted = Array(expected.utf8)
        guard computed.count == wanted.count else { return false }
        return zip(computed, wanted).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    /// `$5$…` split into rounds, salt and the encoded hash.
    static func parse(_ stored: String) -> (rounds: Int, salt: String, hash: String)? {
        guard stored.hasPrefix("$5$") else { return nil }
        var parts = stored.dropFirst(3).split(separator: "$", omittingEmptySubsequences: false).map(String.init)
        var rounds = defaultRounds
        if let first = parts.first, first.hasPrefix("rounds=") {
            guard let value = Int(first.dropFirst("rounds=".count)) else { return nil }
            rounds = min(max(value, 1000), 999_999_999)
            parts.removeFirst()
        }
        guard parts.count == 2, parts[1].count == 43 else { return nil }
        return (rounds, String(parts[0].prefix(16)), parts[1])
    }

    /// The 43-character encoded hash of `password` with `salt` (at most 16 bytes used).
    static func hash(password p: [UInt8], salt: [UInt8], rounds: Int) -> String {
        let s = Array(salt.prefix(16))
        let b = digest([p, s, p])

        var a = SHA256()
        a.update(data: p)
        a.update(data: s)
        var length = p.count
        while length > 32 {
            a.update(data: b)
            length -= 32
        }
        a.update(data: Array(b.prefix(length)))
        length = p.count
        while length > 0 {
            a.update(data: length & 1 == 1 ? b : p)
            length >>= 1
        }
        var c = Array(a.finalize())

        let dp = digest(Array(repeating: p, count: p.count))
        let pBytes = stretch(dp, to: p.count)
        let ds = digest(Array(repeating: s, count: 16 + Int(c[0])))
        let sBytes = Array(ds.prefix(s.count))

        for round in 0..<rounds {
            var next = SHA256()
            next.update(data: round & 1 == 1 ? pBytes : c)
            if round % 3 != 0 { next.update(data: sBytes) }
            if round % 7 != 0 { next.update(data: pBytes) }
            next.update(data: round & 1 == 1 ? c : pBytes)
            c = Array(next.finalize())
        }
        return encode(c)
    }

    private static func digest(_ parts: [[UInt8]]) -> [UInt8] {
        var hasher = SHA256()
        for part in parts { hasher.update(data: part) }
        return Array(hasher.finalize())
    }

    private static func stretch(_ block: [UInt8], to count: Int) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(count)
        while out.count < count { out += block.prefix(count - out.count) }
        return out
    }

    private static let alphabet = Array("./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")

    /// crypt's own base64: the digest's bytes in a fixed order, 6 bits at a time, low bits first.
    private static func encode(_ d: [UInt8]) -> String {
        var out = ""
        func put(_ b2: UInt8, _ b1: UInt8, _ b0: UInt8, _ count: Int) {
            var word = (UInt32(b2) << 16) | (UInt32(b1) << 8) | UInt32(b0)
            for _ in 0..<count {
                out.append(alphabet[Int(word & 0x3f)])
                word >>= 6
            }
        }
        let order: [(Int, Int, Int)] = [
            (0, 10, 20), (21, 1, 11), (12, 22, 2), (3, 13, 23), (24, 4, 14), (15, 25, 5), (6, 16, 26), (27, 7, 17),
            (18, 28, 8), (9, 19, 29),
        ]
        for (i, j, k) in order { put(d[i], d[j], d[k], 4) }
        put(0, d[31], d[30], 3)
        return out
    }
}
