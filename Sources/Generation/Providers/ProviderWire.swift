import Foundation

/// JSON in and out of provider calls.
enum ProviderJSON {
    static func encode(_ value: some Encodable) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        // Encoding plain structs of strings and numbers cannot fail.
        return Array((try? encoder.encode(value)) ?? Data("{}".utf8))
    }

    /// One decoder for every stream: it holds options only, and making one per chunk costs.
    static let decoder = JSONDecoder()

    /// Decodes a `data:` payload; anything that is not the expected JSON is a malformed response.
    static func decode<T: Decodable>(_ type: T.Type, from text: String, provider: String) throws -> T {
        do {
            return try decoder.decode(T.self, from: Data(text.utf8))
        } catch {
            let excerpt = text.count > 120 ? String(text.prefix(120)) + "…" : text
            throw ProviderFailure(.malformedResponse, .retry, message: "\(provider) sent data that is not valid JSON: \(excerpt)")
        }
    }
}

enum ProviderURL {
    /// `base` + "/" + `path`, with one slash between them whatever `base` ends with.
    static func join(_ base: String, _ path: String) -> String {
        var base = base
        while base.hasSuffix("/") { base.removeLast() }
        return base + "/" + path
    }
}
