import Foundation
import Hummingbird
import NIOCore
import Protocol

/// What the loopback fakes share: JSON answers and bodies, and random ids.
enum FakeHTTP {
    static func reply(_ status: Int, _ value: JSONValue) -> Response {
        let data = (try? JSONEncoder().encode(value)) ?? Data("{}".utf8)
        return Response(
            status: .init(code: status), headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// The request's body as JSON; null when it is not JSON.
    static func json(_ request: Request) async throws -> JSONValue {
        let buffer = try await request.body.collect(upTo: 64 << 20)
        return (try? JSONDecoder().decode(JSONValue.self, from: Data(buffer.readableBytesView))) ?? .null
    }

    static func random(_ count: Int, from alphabet: String = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") -> String {
        let characters = Array(alphabet)
        return String((0..<count).map { _ in characters.randomElement()! })
    }
}
