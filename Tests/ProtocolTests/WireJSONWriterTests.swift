import Foundation
import Protocol
import Testing
import VectortTesting

@Suite("Hand-written wire JSON of generation events")
struct WireJSONWriterTests {
    static let pieces = [
        "index.html", "src/App.jsx", "a/b/c.json", "quote\"d", "back\\slash", "tab\there", "new\nline", "\u{0}", "\u{1f}",
        "\u{7f}", "é", "日本", "😀", "</file>", "\r\n", "\u{8}\u{c}", "   ", "", "openai", "gpt-4o",
    ]

    static func text(_ random: inout SeededGenerator) -> String {
        (0..<Int.random(in: 0...4, using: &random)).map { _ in pieces.randomElement(using: &random)! }.joined()
    }

    static func event(_ random: inout SeededGenerator) -> GenerationEvent {
        let kinds: [GenerationEvent.Kind] = [.started, .attempt, .retry, .fallback, .continue, .file, .validation, .completed]
        var event = GenerationEvent(kinds.randomElement(using: &random)!)
        func maybe<T>(_ value: @autoclosure () -> T) -> T? { Bool.random(using: &random) ? value() : nil }
        event.generation = maybe(text(&random))
        event.project = maybe(text(&random))
        event.mode = maybe(Bool.random(using: &random) ? .quick : .advanced)
        event.creditsHeld = maybe(Int.random(in: -5...1_000_000, using: &random))
        event.provider = maybe(text(&random))
        event.model = maybe(text(&random))
        event.attempt = maybe(Int.random(in: 1...9, using: &random))
        event.purpose = maybe(text(&random))
        event.reason = maybe(text(&random))
        event.message = maybe(text(&random))
        event.to = maybe(text(&random))
        event.path = maybe(text(&random))
        event.bytes = maybe(Int.random(in: 0...Int(Int32.max), using: &random))
        event.passed = maybe(Bool.random(using: &random))
        event.version = maybe(text(&random))
        if Bool.random(using: &random) {
            event.issues = (0..<Int.random(in: 0...3, using: &random)).map { _ in
                GenerationIssue(
                    path: Bool.random(using: &random) ? text(&random) : nil, rule: text(&random), message: text(&random),
                    line: Bool.random(using: &random) ? Int.random(in: 1...5000, using: &random) : nil)
            }
        }
        return event
    }

    @Test func eventsAreWrittenByteForByteAsTheWireEncoderWritesThem() throws {
        var random = SeededGenerator(seed: 20261126)
        for _ in 0..<5000 {
            let event = Self.event(&random)
            var writer = WireJSONWriter()
            #expect(event.writeWireJSON(&writer))
            let expected = Array(try WireCoding.encoder.encode(event))
            #expect(writer.bytes == expected, "\(String(decoding: expected, as: UTF8.self))")
            if writer.bytes != expected { return }
        }
    }

    static func counts(_ random: inout SeededGenerator) -> [String: Int] {
        let keys = ["free", "monthly", "topup", "a", "Z", "free2", "", "quote\"", "tab\t"]
        var map: [String: Int] = [:]
        for _ in 0..<Int.random(in: 0...5, using: &random) {
            map[keys.randomElement(using: &random)!] = Int.random(in: -1_000_000_000...1_000_000_000, using: &random)
        }
        return map
    }

    @Test func balancesAndHoldsAreWrittenByteForByteAsTheWireEncoderWritesThem() throws {
        var random = SeededGenerator(seed: 42)
        for _ in 0..<3000 {
            let balance = CreditBalance(
                user: Self.text(&random), total: Int.random(in: 0...Int(Int32.max), using: &random),
                buckets: Self.counts(&random), held: Int.random(in: 0...1000, using: &random),
                monthlyExpiresAt: Bool.random(using: &random) ? Self.text(&random) : nil)
            var writer = WireJSONWriter()
            #expect(balance.writeWireJSON(&writer))
            #expect(writer.bytes == Array(try WireCoding.encoder.encode(balance)))

            let statuses: [CreditHold.Status] = [.held, .settled, .released]
            let hold = CreditHold(
                id: Self.text(&random), user: Self.text(&random), amount: Int.random(in: 1...1000, using: &random),
                charged: Bool.random(using: &random) ? Int.random(in: 0...1000, using: &random) : nil,
                reference: Self.text(&random), status: statuses.randomElement(using: &random)!,
                allocations: Self.counts(&random), createdAt: Self.text(&random))
            var holdWriter = WireJSONWriter()
            #expect(hold.writeWireJSON(&holdWriter))
            #expect(holdWriter.bytes == Array(try WireCoding.encoder.encode(hold)))
        }
    }

    @Test func aNonASCIIBucketNameIsLeftToTheEncoder() {
        let balance = CreditBalance(user: "u", total: 1, buckets: ["é": 1], held: 0, monthlyExpiresAt: nil)
        var writer = WireJSONWriter()
        #expect(!balance.writeWireJSON(&writer))
    }

    @Test func aRetryDelayIsLeftToTheEncoder() {
        var event = GenerationEvent(.retry)
        event.delaySeconds = 1.5
        var writer = WireJSONWriter()
        #expect(!event.writeWireJSON(&writer))
    }
}
