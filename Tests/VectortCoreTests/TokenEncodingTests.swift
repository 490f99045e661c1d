import Foundation
import Testing
import VectortCore

@Suite("Token encodings")
struct TokenEncodingTests {
    @Test("hex writes every byte as two lower-case digits, as %02x does")
    func hexMatchesPrintf() {
        let every = (0...255).map { UInt8($0) }
        #expect(TokenEncoding.hex(every) == every.map { String(format: "%02x", $0) }.joined())
        #expect(TokenEncoding.hex([UInt8]()) == "")
        #expect(TokenEncoding.hex([0x00, 0xAB, 0xFF]) == "00abff")
        // A sequence that is not a collection (as digests are) gives the same text.
        #expect(TokenEncoding.hex(AnySequence(every)) == TokenEncoding.hex(every))
    }
}
