import Foundation
import Hummingbird
import NIOCore
import Protocol
import VectortCore

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

/// The tokens a fake platform accepts, each naming its account: the operator's, given at start,
/// and any a test adds for a user's own account. A revoked token is refused from then on.
public final class FakeTokens: Sendable {
    private let accounts: Locked<[String: String]>

    init(_ token: String, account: String) {
        accounts = Locked([token: account])
    }

    /// Accepts `token` from now on as `account`'s.
    public func add(_ token: String, account: String) { accounts.withLock { $0[token] = account } }

    /// Refuses `token` from now on, as a platform does once its owner revoked it.
    public func revoke(_ token: String) { _ = accounts.withLock { $0.removeValue(forKey: token) } }

    /// The account of the request's bearer token; nil when it is missing or not accepted.
    func account(_ request: Request) -> String? {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else { return nil }
        let token = String(header.dropFirst("Bearer ".count))
        return accounts.withLock { $0[token] }
    }
}
