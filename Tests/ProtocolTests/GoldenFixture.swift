import Foundation
import Protocol
import Testing

/// Golden JSON files under `Fixtures/`, written by hand from PROTOCOL.md.
enum GoldenFixture {
    static func data(_ name: String) throws -> Data {
        let directory = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
        return try Data(contentsOf: directory.appendingPathComponent("\(name).json"))
    }

    /// The fixture's text without the trailing newline an editor adds.
    static func text(_ name: String) throws -> String {
        var text = String(decoding: try data(name), as: UTF8.self)
        if text.hasSuffix("\n") { text.removeLast() }
        return text
    }

    /// Encodes `value` exactly as the fixture reads, and decodes the fixture back to `value`.
    static func expectRoundTrip<T: Codable & Equatable>(
        _ value: T, fixture name: String, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let encoded = String(decoding: try WireCoding.prettyEncoder.encode(value), as: UTF8.self)
        let expected = try text(name)
        #expect(encoded == expected, "encoding differs from Fixtures/\(name).json", sourceLocation: sourceLocation)
        let decoded = try WireCoding.decoder.decode(T.self, from: Data(expected.utf8))
        #expect(decoded == value, "Fixtures/\(name).json decodes to another value", sourceLocation: sourceLocation)
    }
}
