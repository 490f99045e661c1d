import Foundation
@testable import Protocol
import Testing
import VectortTesting

/// `JSONValue.parse` must agree with `JSONDecoder` decoding `JSONValue` wherever it answers,
/// and answer nil wherever the decoder fails.
@Suite("JSON values parsed from bytes")
struct JSONValueParserTests {
    static let words = [
        "", "a", "user", "u_1f2e", "quote\"", "back\\slash", "slash/", "tab\t", "nl\n", "\u{0}", "\u{1f}", "\u{7f}", "é",
        "e\u{301}", "日本", "😀", "\u{2028}", "\u{FFFD}", "</file>", " spaced ",
    ]

    static func codable(_ bytes: [UInt8]) -> JSONValue? {
        try? JSONDecoder().decode(JSONValue.self, from: Data(bytes))
    }

    static func value(_ random: inout SeededGenerator, depth: Int = 0) -> JSONValue {
        switch Int.random(in: 0...(depth > 3 ? 4 : 6), using: &random) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &random))
        case 2:
            let edges: [Int64] = [0, 1, -1, Int64.max, Int64.min, 999_999_999_999, -42]
            return .int(Bool.random(using: &random) ? edges.randomElement(using: &random)! : Int64.random(in: -1_000_000...1_000_000, using: &random))
        case 3, 4:
            return .string((0..<Int.random(in: 0...3, using: &random)).map { _ in words.randomElement(using: &random)! }.joined())
        case 5:
            return .array((0..<Int.random(in: 0...4, using: &random)).map { _ in value(&random, depth: depth + 1) })
        default:
            var object: [String: JSONValue] = [:]
            for _ in 0..<Int.random(in: 0...4, using: &random) {
                object[words.randomElement(using: &random)! + String(Int.random(in: 0...9, using: &random))] = value(&random, depth: depth + 1)
            }
            return .object(object)
        }
    }

    @Test func encodedValuesParseAsTheDecoderReadsThem() throws {
        var random = SeededGenerator(seed: 7)
        let encoders: [JSONEncoder] = [WireCoding.encoder, WireCoding.prettyEncoder, JSONEncoder()]
        for round in 0..<3000 {
            let value = Self.value(&random)
            let bytes = Array(try encoders[round % encoders.count].encode(value))
            let fast = JSONValue.parse(bytes)
            #expect(fast != nil, "\(String(decoding: bytes, as: UTF8.self))")
            #expect(fast == Self.codable(bytes), "\(String(decoding: bytes, as: UTF8.self))")
        }
    }

    static let edgeCases = [
        #"{"a":1}"#, #" { "a" : [ 1 , 2 ] } "#, "\t{\r\n}\n", #"{"a":"\u00e9\u0041\/\b\f\n\r\t\"\\"}"#,
        #"{"a":"\uD83D\uDE00"}"#, #"{"a":"\ud83d\ude00"}"#, #"{"a":"\uD83D"}"#, #"{"a":"\uDE00x"}"#, #"{"a":"\uD83Dx"}"#,
        #"{"a":1.0}"#, #"{"a":1e2}"#, #"{"a":-0}"#, #"{"a":-0.0}"#, #"{"a":01}"#, #"{"a":-}"#, #"{"a":+1}"#,
        #"{"a":9223372036854775807}"#, #"{"a":9223372036854775808}"#, #"{"a":-9223372036854775808}"#,
        #"{"a":-9223372036854775809}"#, #"{"a":12345678901234567890123}"#, #"{"a":1,"a":2}"#, #"{"é":1,"e\u0301":2}"#,
        #"{"a":1,}"#, #"[1,]"#, #"{"a" 1}"#, #"{a:1}"#, #"{"a":tru}"#, #"{"a":nul}"#, #"{"a":"x"#, "{\"a\":\"\u{1}\"}",
        #"{"a":"\x"}"#, #"{"a":"\u12"}"#, #"{"a":"\u12G4"}"#, #"{} {}"#, #"{}x"#, "", " ", #"""#, "[", "]", "nullx",
        String(repeating: "[", count: 80) + String(repeating: "]", count: 80),
        String(repeating: "[", count: 40) + String(repeating: "]", count: 40),
    ]

    @Test(arguments: edgeCases)
    func anEdgeCaseIsParsedAsTheDecoderReadsItOrLeftToIt(_ text: String) {
        let bytes = Array(text.utf8)
        let fast = JSONValue.parse(bytes)
        let expected = Self.codable(bytes)
        if expected == nil { #expect(fast == nil) }
        if let fast { #expect(fast == expected) }
    }

    @Test func invalidUTF8IsLeftToTheDecoder() {
        let bytes: [UInt8] = Array(#"{"a":""#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8)
        #expect(JSONValue.parse(bytes) == nil)
    }

    @Test func mutatedTextIsParsedAsTheDecoderReadsItOrLeftToIt() throws {
        var random = SeededGenerator(seed: 99)
        let alphabet = Array("{}[]\":,\\u0123456789abcdefnrtl -.eE \u{1}".utf8) + [0xC3, 0xA9, 0xFF]
        for _ in 0..<4000 {
            var bytes = Array(try WireCoding.encoder.encode(Self.value(&random)))
            for _ in 0..<Int.random(in: 1...3, using: &random) {
                let position = Int.random(in: 0...bytes.count, using: &random)
                switch Int.random(in: 0...2, using: &random) {
                case 0 where position < bytes.count: bytes.remove(at: position)
                case 1: bytes.insert(alphabet.randomElement(using: &random)!, at: position)
                default: if position < bytes.count { bytes[position] = alphabet.randomElement(using: &random)! }
                }
            }
            let fast = JSONValue.parse(bytes)
            let expected = Self.codable(bytes)
            if expected == nil { #expect(fast == nil, "\(bytes)") }
            if let fast { #expect(fast == expected, "\(bytes)") }
        }
    }
}

@Suite("Envelopes read from bytes")
struct EnvelopeFastPathTests {
    static func field(_ random: inout SeededGenerator) -> JSONValue? {
        switch Int.random(in: 0...6, using: &random) {
        case 0: return nil
        case 1: return .null
        case 2: return .bool(Bool.random(using: &random))
        case 3: return .string(["Ping", "io.vectort.Credits.Hold", "", "é"].randomElement(using: &random)!)
        case 4: return .int(Int64.random(in: -3...3, using: &random))
        case 5: return .array([.int(1)])
        default: return JSONValueParserTests.value(&random)
        }
    }

    static func envelope(_ random: inout SeededGenerator, keys: [String]) -> [UInt8] {
        var object: [String: JSONValue] = [:]
        for key in keys + ["unknown"] { object[key] = field(&random) }
        if Bool.random(using: &random) { object["parameters"] = JSONValueParserTests.value(&random, depth: 4) }
        return Array(try! WireCoding.encoder.encode(JSONValue.object(object)))
    }

    @Test func requestsReadAsTheirDecoderReadsThem() {
        var random = SeededGenerator(seed: 3)
        var accepted = 0
        for _ in 0..<4000 {
            let bytes = Self.envelope(&random, keys: ["method", "parameters", "more", "oneway"])
            let decoded = try? JSONDecoder().decode(CallRequest.self, from: Data(bytes))
            let fast = CallRequest.wellFormed(JSONValue.parse(bytes))
            if decoded == nil { #expect(fast == nil, "\(String(decoding: bytes, as: UTF8.self))") }
            if let fast {
                accepted += 1
                #expect(fast == decoded, "\(String(decoding: bytes, as: UTF8.self))")
            }
            #expect((try? CallRequest.parse(payload: bytes)) == decoded, "\(String(decoding: bytes, as: UTF8.self))")
        }
        #expect(accepted > 30)
    }

    @Test func repliesReadAsTheirDecoderReadsThem() {
        var random = SeededGenerator(seed: 5)
        var accepted = 0
        for _ in 0..<4000 {
            let bytes = Self.envelope(&random, keys: ["parameters", "continues", "error"])
            let decoded = try? JSONDecoder().decode(CallReply.self, from: Data(bytes))
            let fast = CallReply.wellFormed(bytes)
            if decoded == nil { #expect(fast == nil, "\(String(decoding: bytes, as: UTF8.self))") }
            if let fast {
                accepted += 1
                #expect(fast == decoded, "\(String(decoding: bytes, as: UTF8.self))")
            }
        }
        #expect(accepted > 100)
    }
}
