import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Protocol
import VectortCore
import Generation

/// The Stripe API calls vectortd makes: create a Checkout Session and list events. Every POST
/// carries an `Idempotency-Key` and every request the pinned `Stripe-Version`; 429, 5xx and
/// connection failures are retried with backoff (honouring `Retry-After`), then reported as
/// `Unavailable` with `retry_after_seconds`.
struct StripeClient: Sendable {
    let http: HTTPClient
    let apiBase: String
    let apiVersion: String
    let secretKey: String
    /// Attempts per call, and the first backoff (doubled each time, with jitter).
    var attempts = 3
    var backoff: Duration = .milliseconds(500)

    struct Session: Sendable, Equatable {
        var id: String
        var url: String?
        var expiresAt: Int?
    }

    struct EventPage: Sendable {
        var events: [(body: [UInt8], value: JSONValue)]
        var hasMore: Bool
    }

    func createCheckoutSession(_ form: [(String, String)], idempotencyKey: String) async throws -> Session {
        let body = Self.formEncode(form)
        let value = try await call(.POST, "/v1/checkout/sessions", body: body, idempotencyKey: idempotencyKey).value
        guard let id = value["id"]?.stringValue else {
            throw EngineError(.unavailable("Stripe answered a Checkout Session without an id"))
        }
        return Session(id: id, url: value["url"]?.stringValue, expiresAt: value["expires_at"]?.intValue.map(Int.init))
    }

    /// One page of events, newest first.
    func listEvents(types: [String], createdAtLeast: Int, startingAfter: String?) async throws -> EventPage {
        var query: [(String, String)] = types.map { ("types[]", $0) }
        query.append(("created[gte]", String(createdAtLeast)))
        query.append(("limit", "100"))
        if let startingAfter { query.append(("starting_after", startingAfter)) }
        let value = try await call(.GET, "/v1/events?" + Self.formEncode(query), body: nil, idempotencyKey: nil).value
        var events: [(body: [UInt8], value: JSONValue)] = []
        for event in value["data"]?.arrayValue ?? [] {
            let bytes = try JSONEncoder().encode(event)
            events.append((Array(bytes), event))
        }
        return EventPage(events: events, hasMore: value["has_more"]?.boolValue ?? false)
    }

    private func call(_ method: HTTPMethod, _ path: String, body: String?, idempotencyKey: String?) async throws
        -> (status: Int, value: JSONValue)
    {
        var lastWait: Double?
        var lastProblem = ""
        for attempt in 0..<attempts {
            if attempt > 0 {
                let base = backoff * (1 << (attempt - 1))
                let jittered = base.seconds * Double.random(in: 0.5...1.0)
                try await Task.sleep(for: .milliseconds(Int64(max(jittered, lastWait ?? 0) * 1000)))
            }
            var request = HTTPClientRequest(url: apiBase + path)
            request.method = method
            request.headers.add(name: "Authorization", value: "Bearer \(secretKey)")
            request.headers.add(name: "Stripe-Version", value: apiVersion)
            request.headers.add(name: "User-Agent", value: "vectortd")
            if let idempotencyKey { request.headers.add(name: "Idempotency-Key", value: idempotencyKey) }
            if let body {
                request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
                request.body = .bytes(ByteBuffer(string: body))
            }
            let response: HTTPClientResponse
            let bytes: ByteBuffer
            do {
                response = try await http.execute(request, timeout: .seconds(20))
                bytes = try await response.body.collect(upTo: 8 * 1024 * 1024)
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                lastProblem = "cannot reach Stripe: \(error)"
                lastWait = nil
                continue
            }
            let status = Int(response.status.code)
            let text = Array(bytes.readableBytesView)
            let value = JSONValue.parse(text) ?? (try? JSONDecoder().decode(JSONValue.self, from: Data(text))) ?? .null
            if (200..<300).contains(status) { return (status, value) }
            let error = value["error"]
            let type = error?["type"]?.stringValue ?? ""
            let message = error?["message"]?.stringValue ?? "HTTP \(status)"
            if status == 429 || status >= 500 {
                lastProblem = "Stripe answered \(status): \(message)"
                lastWait = response.headers.first(name: "Retry-After").flatMap(Double.init)
                continue
            }
            throw Self.mapError(status: status, type: type, code: error?["code"]?.stringValue, param: error?["param"]?.stringValue, message: message)
        }
        let wait = lastWait ?? backoff.seconds * Double(1 << attempts)
        throw EngineError(
            WireError(
                .unavailable, "\(lastProblem) (after \(attempts) attempts)",
                ["reason": .string("stripe_unavailable"), "retry_after_seconds": WireError.retryAfter(wait)]))
    }

    /// Stripe's client errors as named errors.
    static func mapError(status: Int, type: String, code: String?, param: String?, message: String) -> EngineError {
        switch (status, type) {
        case (401, _), (403, _):
            return EngineError(
                WireError(.unavailable, "Stripe refused the secret key: \(message)", ["reason": .string("stripe_authentication")]))
        case (409, _), (_, "idempotency_error"):
            return EngineError.conflict("Stripe: \(message)")
        default:
            return EngineError.invalid(param ?? "package", "Stripe refused the request (\(type.isEmpty ? "HTTP \(status)" : type)\(code.map { ", \($0)" } ?? "")): \(message)")
        }
    }

    /// `application/x-www-form-urlencoded`, every byte but the unreserved ones percent-encoded.
    static func formEncode(_ pairs: [(String, String)]) -> String {
        pairs.map { encode($0.0) + "=" + encode($0.1) }.joined(separator: "&")
    }

    static func encode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }
}
