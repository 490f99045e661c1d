import Testing
import VectortTesting

@testable import Generation
import VectortCore

/// The stream decoders' fast path gives what `JSONDecoder` gives: the same events and decoder
/// state for every chunk it reads, and for every chunk it does not fully understand, the
/// `JSONDecoder` path itself, with its results and errors.
@Suite("Stream chunk scanner")
struct StreamChunkScannerTests {
    @Test func readsTheCommonOpenAIChunk() {
        let chunk =
            #"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"content":"text"},"finish_reason":null}]}"#
        #expect(OpenAIStreamDecoder.scanFields(chunk) == .init(usage: nil, finishReason: nil, text: "text"))
        let usage = #"{"id":"chatcmpl-1","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15}}"#
        #expect(OpenAIStreamDecoder.scanFields(usage) == .init(usage: TokenUsage(inputTokens: 12, outputTokens: 3)))
    }

    @Test func readsTheCommonAnthropicTextDelta() {
        let event = ServerSentEvent(
            event: "content_block_delta", data: #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a \"b\"\n"}}"#)
        #expect(AnthropicStreamDecoder.scanContentBlockDelta(event) == [.text("a \"b\"\n")])
    }

    @Test func unescapesEveryRFC8259Escape() {
        let chunk = #"{"choices":[{"delta":{"content":"\"\\\/\b\f\n\r\t\u0000\u00e9\u4E2D\ud83d\uDE00 ok"}}]}"#
        let expected = "\"\\/\u{8}\u{C}\n\r\t\u{0}é中😀 ok"
        #expect(OpenAIStreamDecoder.scanFields(chunk)?.text.map { Array($0.unicodeScalars) } == Array(expected.unicodeScalars))
    }

    @Test(arguments: 0..<8)
    func generatedOpenAIChunksReadTheSameAsWithJSONDecoder(seed: UInt64) throws {
        var writer = ChunkWriter(seed: seed)
        for _ in 0..<250 {
            let chunk = writer.openAIChunk()
            let fast = OpenAIStreamDecoder.scanFields(chunk)
            #expect(fast != nil, "not read by the fast path: \(chunk)")
            let slow = try OpenAIStreamDecoder.decodeFields(chunk)
            #expect(fast.map(Exact.init) == Exact(slow), "\(chunk)")
        }
    }

    @Test(arguments: 0..<4)
    func generatedOpenAIStreamsDecodeTheSameAsWithJSONDecoder(seed: UInt64) {
        var writer = ChunkWriter(seed: seed)
        for _ in 0..<40 {
            var fast = OpenAIStreamDecoder()
            var slow = OpenAIStreamDecoder()
            let chunks = (0..<Int.random(in: 1...8, using: &writer.random)).map { _ in writer.openAIChunk() } + ["[DONE]"]
            for chunk in chunks {
                let event = ServerSentEvent(data: chunk)
                #expect(Outcome { try fast.decode(event) } == Outcome { try slow.decodeWithJSONDecoder(event) }, "\(chunk)")
                #expect(fast == slow, "\(chunk)")
            }
        }
    }

    @Test(arguments: 0..<4)
    func generatedAnthropicDeltasDecodeTheSameAsWithJSONDecoder(seed: UInt64) {
        var writer = ChunkWriter(seed: seed)
        for _ in 0..<250 {
            let event = writer.anthropicDelta()
            #expect(AnthropicStreamDecoder.scanContentBlockDelta(event) != nil, "not read by the fast path: \(event.data)")
            var fast = AnthropicStreamDecoder()
            var slow = AnthropicStreamDecoder()
            #expect(Outcome { try fast.decode(event) } == Outcome { try slow.decodeWithJSONDecoder(event) }, "\(event.data)")
            #expect(fast == slow)
        }
    }

    static let unsupportedOpenAIChunks: [String] = [
        // Malformed.
        "", " ", "[]", "null", "5", #""chunk""#,
        #"{"choices":[{"index":0,"delta":{"content":"hi""#,
        #"{"choices":[{"index":0,"delta":{"content":"hi"}}]"#,
        #"{"choices":[]}x"#, #"{"choices":[]}{}"#, #"{"choices":[]},"#,
        #"{"choices":[{"delta":{"content":"\x"}}]}"#,
        #"{"choices":[{"delta":{"content":"\u12"}}]}"#,
        #"{"choices":[{"delta":{"content":"\u12G4"}}]}"#,
        "{\"choices\":[{\"delta\":{\"content\":\"tab\there\"}}]}",
        "\u{FEFF}{\"choices\":[{\"delta\":{\"content\":\"bom\"}}]}",
        #"{"choices":[{"delta":{"content":"x"}},]}"#,
        #"{"choices":[{"delta":{"content":"x"}}],}"#,
        #"{'choices':[]}"#, #"{choices:[]}"#,
        // Lone or broken surrogates.
        #"{"choices":[{"delta":{"content":"\ud800"}}]}"#,
        #"{"choices":[{"delta":{"content":"\udc00"}}]}"#,
        #"{"choices":[{"delta":{"content":"\ud800\u0041"}}]}"#,
        #"{"choices":[{"delta":{"content":"\ud800x"}}]}"#,
        #"{"choices":[{"delta":{"content":"\udc00\ud800"}}]}"#,
        // Values of another type than the field's, some of which JSONDecoder converts.
        #"{"choices":[{"delta":{"content":5}}]}"#,
        #"{"choices":[{"delta":{"content":["a"]}}]}"#,
        #"{"choices":[{"delta":"x"}]}"#,
        #"{"choices":[{"index":"0","delta":{"content":"a"}}]}"#,
        #"{"choices":[{"index":1.0,"delta":{"content":"a"}}]}"#,
        #"{"choices":[{"index":0.0,"delta":{"content":"a"}}]}"#,
        #"{"choices":[{"index":0e5,"delta":{"content":"a"}}]}"#,
        #"{"choices":[{"index":-0,"delta":{"content":"a"}}]}"#,
        #"{"choices":[{"index":-1,"delta":{"content":"a"}}]}"#,
        #"{"choices":[{"index":00,"delta":{"content":"a"}}]}"#,
        #"{"choices":[{"index":9223372036854775808,"delta":{"content":"a"}}]}"#,
        #"{"choices":[{"index":true,"delta":{"content":"a"}}]}"#,
        #"{"choices":[{"finish_reason":false}]}"#,
        #"{"choices":[null]}"#, #"{"choices":{}}"#, #"{"choices":"[]"}"#,
        #"{"choices":[{"message":{"content":7}}]}"#,
        #"{"choices":[],"usage":[]}"#,
        #"{"choices":[],"usage":{"prompt_tokens":"3","completion_tokens":1}}"#,
        #"{"choices":[],"usage":{"prompt_tokens":-3,"completion_tokens":1}}"#,
        #"{"choices":[],"usage":{"prompt_tokens":3.5,"completion_tokens":1}}"#,
        // Duplicate and escaped keys.
        #"{"choices":[{"delta":{"content":"a"}}],"choices":[{"delta":{"content":"b"}}]}"#,
        #"{"choices":[{"delta":{"content":"a","content":"b"}}]}"#,
        #"{"choices":[{"index":1,"index":0,"delta":{"content":"a"}}]}"#,
        #"{"choices":[{"delta":{"content":"a"},"delta":{}}]}"#,
        #"{"choices":[],"usage":{"prompt_tokens":1,"prompt_tokens":2}}"#,
        #"{"choic\u0065s":[{"delta":{"content":"escaped key"}}]}"#,
        #"{"choices":[{"delta":{"cont\u0065nt":"escaped key"}}]}"#,
        #"{"choices":[{"delta":{"content":"a"}}],"x":{"k\"ey":1}}"#,
        // In-stream errors.
        #"{"error":{"message":"The server is overloaded","type":"server_error","code":"overloaded"}}"#,
        #"{"error":"rate limited","choices":[]}"#,
        #"{"error":null,"choices":[{"delta":{"content":"null error"}}]}"#,
        // What JSONDecoder tolerates in values it skips.
        #"{"x":01,"choices":[{"delta":{"content":"a"}}]}"#,
        #"{"x":1.,"choices":[{"delta":{"content":"a"}}]}"#,
        #"{"x":-,"choices":[{"delta":{"content":"a"}}]}"#,
        #"{"x":[1,],"choices":[{"delta":{"content":"a"}}]}"#,
        #"{"x":"\x","choices":[{"delta":{"content":"a"}}]}"#,
        #"{"x":"\ud800","choices":[{"delta":{"content":"a"}}]}"#,
        "{\"x\":\"raw\ttab\",\"choices\":[{\"delta\":{\"content\":\"a\"}}]}",
        #"{"x":tru,"choices":[{"delta":{"content":"a"}}]}"#,
        #"{"x":nul,"choices":[{"delta":{"content":"a"}}]}"#,
        "{\"x\":" + String(repeating: "[", count: 40) + String(repeating: "]", count: 40)
            + ",\"choices\":[{\"delta\":{\"content\":\"deep\"}}]}",
    ]

    @Test(arguments: unsupportedOpenAIChunks)
    func unsupportedOpenAIChunksFallBackToJSONDecoder(chunk: String) {
        #expect(OpenAIStreamDecoder.scanFields(chunk) == nil)
        var fast = OpenAIStreamDecoder()
        var slow = OpenAIStreamDecoder()
        let event = ServerSentEvent(data: chunk)
        #expect(Outcome { try fast.decode(event) } == Outcome { try slow.decodeWithJSONDecoder(event) })
        #expect(fast == slow)
    }

    static let unsupportedAnthropicEvents: [ServerSentEvent] = [
        ServerSentEvent(event: "message_start", data: #"{"type":"message_start","message":{"usage":{"input_tokens":5}}}"#),
        ServerSentEvent(data: #"{"type":"message_start","message":{"usage":{"input_tokens":5}}}"#),
        ServerSentEvent(event: "ping", data: #"{"type":"ping"}"#),
        ServerSentEvent(data: #"{"type":"ping"}"#),
        ServerSentEvent(data: #"{"index":0,"delta":{"type":"text_delta","text":"untyped"}}"#),
        ServerSentEvent(event: "error", data: #"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#),
        ServerSentEvent(data: #"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#),
        ServerSentEvent(event: "message_delta", data: #"{"type":"content_block_delta","delta":{"type":"text_delta","text":"named otherwise"}}"#),
        ServerSentEvent(event: "content_block_delta", data: #"{"type":"content_block_delta","delta":{"type":"text_delta","text":"\ud800"}}"#),
        ServerSentEvent(event: "content_block_delta", data: #"{"type":"content_block_delta","delta":{"type":"text_delta","text":5}}"#),
        ServerSentEvent(event: "content_block_delta", data: #"{"type":"content_block_delta","delta":{"type":"text_delta","text":"a""#),
        ServerSentEvent(event: "content_block_delta", data: #"{"type":"content_block_delta","delta":{"type":"text_delta","text":"a","text":"b"}}"#),
        ServerSentEvent(event: "content_block_delta", data: #"{"type":"content_block_delta","delta":{"type":"text_delta","text":"a","stop_reason":1}}"#),
        ServerSentEvent(event: "content_block_delta", data: #"{"type":5,"delta":{"type":"text_delta","text":"a"}}"#),
        ServerSentEvent(event: "content_block_delta", data: #"{"type":"content_block_delta","usage":{"output_tokens":"x"},"delta":{"type":"text_delta","text":"a"}}"#),
        ServerSentEvent(event: "content_block_delta", data: #"{"type":"content_block_delta","content_block":{"type":"text","text":"a"},"delta":{"type":"text_delta","text":"b"}}"#),
        ServerSentEvent(event: "content_block_delta", data: #"{"type":"content_block_delta","delta":{"type":"text_delta","text":"a"}} trailing"#),
    ]

    @Test(arguments: unsupportedAnthropicEvents)
    func unsupportedAnthropicEventsFallBackToJSONDecoder(event: ServerSentEvent) {
        #expect(AnthropicStreamDecoder.scanContentBlockDelta(event) == nil)
        var fast = AnthropicStreamDecoder()
        var slow = AnthropicStreamDecoder()
        #expect(Outcome { try fast.decode(event) } == Outcome { try slow.decodeWithJSONDecoder(event) })
        #expect(fast == slow)
    }
}

/// Chunk fields compared by their exact UTF-8, not by Unicode canonical equivalence as `==` does.
private struct Exact: Equatable {
    var usage: TokenUsage?
    var finishReason: [UInt8]?
    var text: [UInt8]?

    init(_ fields: OpenAIStreamDecoder.ChunkFields) {
        usage = fields.usage
        finishReason = fields.finishReason.map { Array($0.utf8) }
        text = fields.text.map { Array($0.utf8) }
    }
}

/// What a `decode` call gave: events (their text as exact UTF-8) or the failure it threw.
private enum Outcome: Equatable {
    case events([CompletionEvent], texts: [[UInt8]])
    case failure(ProviderFailure)
    case otherError(String)

    init(_ decode: () throws -> [CompletionEvent]) {
        do {
            let events = try decode()
            let texts = events.map { event -> [UInt8] in
                if case .text(let text) = event { Array(text.utf8) } else { [] }
            }
            self = .events(events, texts: texts)
        } catch let failure as ProviderFailure {
            self = .failure(failure)
        } catch {
            self = .otherError(String(reflecting: error))
        }
    }
}

/// Random but reproducible chunks, written the many ways JSON allows: keys in any order,
/// unknown members with nested values, whitespace between tokens, strings with every kind of
/// escape and raw UTF-8.
private struct ChunkWriter {
    var random: SeededGenerator

    init(seed: UInt64) {
        random = SeededGenerator(seed: seed &* 0x9E37_79B9_7F4A_7C15 &+ 1)
    }

    mutating func openAIChunk() -> String {
        var members: [(String, String)] = []
        for key in ["id", "object", "created", "model", "system_fingerprint", "service_tier", "obfuscation"] where chance(0.6) {
            members.append((key, unknownValue(depth: 0)))
        }
        switch Int.random(in: 0..<10, using: &random) {
        case 0: break
        case 1: members.append(("choices", "null"))
        case 2: members.append(("choices", array([])))
        default: members.append(("choices", array((0..<Int.random(in: 1...3, using: &random)).map { _ in choice() })))
        }
        if chance(0.25) { members.append(("usage", chance(0.2) ? "null" : usage())) }
        return object(members)
    }

    mutating func anthropicDelta() -> ServerSentEvent {
        var delta: [(String, String)] = []
        switch Int.random(in: 0..<6, using: &random) {
        case 0: delta = [("type", string("input_json_delta")), ("partial_json", string(text()))]
        case 1: delta = [("type", string("thinking_delta")), ("thinking", string(text()))]
        case 2: delta = [("type", string("text_delta"))]
        case 3: delta = [("type", string("text_delta")), ("text", "null"), ("stop_reason", "null")]
        default: delta = [("type", string("text_delta")), ("text", string(text()))]
        }
        if chance(0.3) { delta.append(("extra", unknownValue(depth: 1))) }
        let named = chance(0.5)
        var members = [("delta", object(delta)), ("index", String(Int.random(in: 0...3, using: &random)))]
        if !named || chance(0.7) { members.append(("type", string("content_block_delta"))) }
        if chance(0.3) { members.append(("extra", unknownValue(depth: 0))) }
        return ServerSentEvent(event: named ? "content_block_delta" : nil, data: object(members))
    }

    private mutating func choice() -> String {
        var members: [(String, String)] = []
        if chance(0.85) { members.append(("index", chance(0.1) ? "null" : String(Int.random(in: 0...2, using: &random)))) }
        if chance(0.9) {
            if chance(0.05) {
                members.append(("delta", "null"))
            } else {
                var delta: [(String, String)] = []
                if chance(0.8) { delta.append(("content", chance(0.1) ? "null" : string(text()))) }
                if chance(0.2) { delta.append(("role", string("assistant"))) }
                if chance(0.2) { delta.append(("refusal", "null")) }
                if chance(0.1) { delta.append(("tool_calls", unknownValue(depth: 2))) }
                members.append(("delta", object(delta)))
            }
        }
        if chance(0.05) { members.append(("message", object([("role", string("assistant")), ("content", string(text()))]))) }
        if chance(0.8) {
            let reasons = ["null", "null", "null", string("stop"), string("length"), string("content_filter"), string("tool_calls")]
            members.append(("finish_reason", reasons.randomElement(using: &random)!))
        }
        if chance(0.3) { members.append(("logprobs", chance(0.5) ? "null" : unknownValue(depth: 1))) }
        return object(members)
    }

    private mutating func usage() -> String {
        var members: [(String, String)] = []
        if chance(0.9) { members.append(("prompt_tokens", chance(0.1) ? "null" : String(Int.random(in: 0...100_000, using: &random)))) }
        if chance(0.9) { members.append(("completion_tokens", String(Int.random(in: 0...9_999_999, using: &random)))) }
        if chance(0.5) { members.append(("total_tokens", String(Int.random(in: 0...9_999_999, using: &random)))) }
        if chance(0.3) { members.append(("prompt_tokens_details", object([("cached_tokens", "0"), ("audio_tokens", "null")]))) }
        return object(members)
    }

    private static let pieces = [
        "hello", " world", "\"", "\\", "/", "\n", "\r\n", "\t", "\u{0}", "\u{8}", "\u{C}", "\u{1B}", "\u{1F}", "\u{7F}", "é", "e\u{301}",
        "中文", "😀", "👩‍💻", "🇫🇷", "</file>", "<file path=\"Sources/a.swift\">", "{", "}", "[", "]", "{\"a\":[1,2]}", ":", ",",
        "\u{2028}", "\u{FFFD}", "\u{FFFF}", "\u{10FFFF}", "null", "true", "0.5e3", "\\u0041", "'", "`",
    ]

    private mutating func text() -> String {
        (0..<Int.random(in: 0...6, using: &random)).map { _ in Self.pieces.randomElement(using: &random)! }.joined()
    }

    private mutating func unknownValue(depth: Int) -> String {
        switch Int.random(in: 0..<(depth < 4 ? 9 : 6), using: &random) {
        case 0: return ["0", "-1", "42", "3.14", "-0.5e-3", "1E+10", "1e400", "12345678901234567890", "-0"].randomElement(using: &random)!
        case 1, 2: return string(text())
        case 3: return "true"
        case 4: return "false"
        case 5: return "null"
        case 6, 7:
            let keys = ["a", "content", "index", "choices", "delta", "type", "text", "usage", "error", "b c", "é"].shuffled(using: &random)
            return object((0..<Int.random(in: 0...3, using: &random)).map { (keys[$0], unknownValue(depth: depth + 1)) })
        default: return array((0..<Int.random(in: 0...3, using: &random)).map { _ in unknownValue(depth: depth + 1) })
        }
    }

    /// The members in a random order, keys written plainly.
    private mutating func object(_ members: [(String, String)]) -> String {
        let written = members.shuffled(using: &random).map { key, value in
            space() + "\"" + key + "\"" + space() + ":" + space() + value + space()
        }
        return "{" + (written.isEmpty ? space() : written.joined(separator: ",")) + "}"
    }

    private mutating func array(_ elements: [String]) -> String {
        "[" + (elements.isEmpty ? space() : elements.map { space() + $0 + space() }.joined(separator: ",")) + "]"
    }

    /// `text` as a JSON string, each character written raw or escaped, at random where JSON allows both.
    private mutating func string(_ text: String) -> String {
        var written = "\""
        for scalar in text.unicodeScalars {
            let value = scalar.value
            let short: String? =
                switch scalar {
                case "\"": "\\\""
                case "\\": "\\\\"
                case "/": "\\/"
                case "\u{8}": "\\b"
                case "\u{C}": "\\f"
                case "\n": "\\n"
                case "\r": "\\r"
                case "\t": "\\t"
                default: nil
                }
            let mustEscape = scalar == "\"" || scalar == "\\" || value < 0x20
            if !mustEscape, chance(0.7) {
                written.unicodeScalars.append(scalar)
            } else if let short, chance(0.6) {
                written += short
            } else if value > 0xFFFF {
                let offset = value - 0x10000
                written += unicodeEscape(0xD800 + (offset >> 10)) + unicodeEscape(0xDC00 + (offset & 0x3FF))
            } else {
                written += unicodeEscape(value)
            }
        }
        return written + "\""
    }

    private mutating func unicodeEscape(_ unit: UInt32) -> String {
        let hex = String(unit, radix: 16)
        let padded = String(repeating: "0", count: 4 - hex.count) + hex
        return "\\u" + (chance(0.5) ? padded.uppercased() : padded)
    }

    private mutating func space() -> String {
        ["", "", "", "", " ", "  ", "\n", "\t", "\r\n", " \n\t "].randomElement(using: &random)!
    }

    private mutating func chance(_ probability: Double) -> Bool {
        Double.random(in: 0..<1, using: &random) < probability
    }
}
