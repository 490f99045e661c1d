import Foundation
import Testing

@testable import Protocol

/// The event stream's values are written by hand: byte for byte what the wire encoder writes.
@Suite("JSON values written by hand")
struct JSONValueWireTests {
    @Test func handWrittenValuesMatchTheEncoderByteForByte() throws {
        let values: [JSONValue] = [
            .object([
                "event": "generation.file", "at": "2026-12-06T10:00:00.123Z", "path": "src/App.jsx", "bytes": 1234,
                "deleted": true, "cost": .object(["amount_micros": 111_870, "currency": "usd"]),
            ]),
            .object(["event": "snapshot", "generations": .array([]), "deployments": .array([.object(["state": "queued"])])]),
            .object(["message": "quote \" backslash \\ newline \n tab \t bell \u{07} slash / é 👋", "null": .null, "b": false]),
            .array([1, -2, "three", .array([.object([:])])]),
            .object(["Zeta": 1, "alpha": 2, "_under": 3, "a_b": 4, "a": 5]),
        ]
        for value in values {
            var writer = WireJSONWriter()
            #expect(value.writeWireJSON(&writer))
            let encoded = try WireCoding.encoder.encode(value)
            #expect(String(decoding: writer.bytes, as: UTF8.self) == String(decoding: encoded, as: UTF8.self))
        }
    }

    @Test func fractionsAndNonASCIIKeysAreLeftToTheEncoder() {
        var writer = WireJSONWriter()
        #expect(!JSONValue.object(["seconds": .double(0.25)]).writeWireJSON(&writer))
        var other = WireJSONWriter()
        #expect(!JSONValue.object(["clé": 1]).writeWireJSON(&other))
    }
}
