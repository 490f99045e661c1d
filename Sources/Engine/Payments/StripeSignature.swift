import Crypto
import VectortCore
public import Foundation

/// Verifies Stripe's `Stripe-Signature` header over the raw body: `t=<unix>,v1=<hex>[,v1=…]`,
/// where each `v1` is HMAC-SHA256 of `"<t>.<body>"` keyed with the endpoint secret's UTF-8
/// bytes. Any `v1` may match any configured secret (a rotation sends one per active secret);
/// `v0` and unknown keys are ignored; the comparison is constant-time; `t` must lie within the
/// tolerance of `now`, in the past or in the future.
public enum StripeSignature {
    public enum Rejection: Error, Equatable, CustomStringConvertible {
        case missing
        case malformed
        case noSignature
        case mismatch
        case outsideTolerance

        /// The short reason answered with the 400: it names no secret and no signature.
        public var description: String {
            switch self {
            case .missing: "missing Stripe-Signature header"
            case .malformed: "unable to read a timestamp and signatures from the Stripe-Signature header"
            case .noSignature: "no v1 signature in the Stripe-Signature header"
            case .mismatch: "no signature matches the payload"
            case .outsideTolerance: "timestamp outside the tolerance"
            }
        }
    }

    /// Returns the signed timestamp when the header verifies.
    @discardableResult
    public static func verify(
        header: String?, body: some Collection<UInt8>, secrets: [String], now: Date, tolerance: TimeInterval
    ) throws(Rejection) -> Int {
        guard let header, !header.isEmpty else { throw .missing }
        var timestamp: Int?
        var signatures: [[UInt8]] = []
        for item in header.utf8.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false) {
            guard let equals = item.firstIndex(of: UInt8(ascii: "=")) else { throw .malformed }
            let key = trimmed(item[..<equals])
            let value = trimmed(item[item.index(after: equals)...])
            if key.elementsEqual("t".utf8) {
                guard let t = Int(String(decoding: value, as: UTF8.self)) else { throw .malformed }
                timestamp = t
            } else if key.elementsEqual("v1".utf8), let bytes = hexBytes(value), bytes.count == 32 {
                signatures.append(bytes)
            }
        }
        guard let timestamp else { throw .malformed }
        guard !signatures.isEmpty else { throw .noSignature }
        var payload = Array(String(timestamp).utf8)
        payload.append(UInt8(ascii: "."))
        payload.append(contentsOf: body)
        var matched = false
        for secret in secrets where !secret.isEmpty {
            // One HMAC per secret, compared with every v1 in constant time.
            let expected = Array(HMAC<SHA256>.authenticationCode(for: payload, using: SymmetricKey(data: Array(secret.utf8))))
            for signature in signatures where constantTimeEqual(signature, expected) { matched = true }
        }
        guard matched else { throw .mismatch }
        guard abs(now.timeIntervalSince1970 - TimeInterval(timestamp)) <= tolerance else { throw .outsideTolerance }
        return timestamp
    }

    /// Compares every byte whatever differs, so the time taken says nothing about where.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }

    private static func trimmed(_ bytes: Substring.UTF8View.SubSequence) -> Substring.UTF8View.SubSequence {
        var slice = bytes
        while let first = slice.first, first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") { slice = slice.dropFirst() }
        while let last = slice.last, last == UInt8(ascii: " ") || last == UInt8(ascii: "\t") { slice = slice.dropLast() }
        return slice
    }

    /// The header a Stripe endpoint with these secrets would send for `body` at `timestamp`.
    public static func header(body: some Collection<UInt8>, secrets: [String], timestamp: Int) -> String {
        var payload = Array(String(timestamp).utf8)
        payload.append(UInt8(ascii: "."))
        payload.append(contentsOf: body)
        let signatures = secrets.map { secret in
            "v1=" + TokenEncoding.hex(HMAC<SHA256>.authenticationCode(for: payload, using: SymmetricKey(data: Array(secret.utf8))))
        }
        return (["t=\(timestamp)"] + signatures).joined(separator: ",")
    }

    static func hexBytes(_ text: some Collection<UInt8>) -> [UInt8]? {
        let utf8 = Array(text)
        guard utf8.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count / 2)
        var index = 0
        while index < utf8.count {
            guard let high = nibble(utf8[index]), let low = nibble(utf8[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func nibble(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
