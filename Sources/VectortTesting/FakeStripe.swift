public import AsyncHTTPClient
import Crypto
public import Foundation
import Hummingbird
import NIOHTTP1
import HTTPTypes
import Logging
import NIOCore
import NIOPosix
import Protocol
public import VectortCore

/// A loopback Stripe that speaks the real wire format for what vectortd calls: Checkout
/// Session create (form-encoded, `Idempotency-Key` replay, errors with `type`/`code`/`param`),
/// session retrieval and `GET /v1/events` with `types[]`, `created[gte]`, `limit` and
/// `starting_after`, newest first. Tests drive the payment side through its methods
/// (complete, fail, expire, refund, dispute), each of which records the event Stripe would,
/// and deliver events signed as Stripe signs them.
public final class FakeStripe: Sendable {
    public struct Session: Sendable {
        public var id: String
        public var amountTotal: Int
        public var currency: String
        public var metadata: [String: String]
        public var clientReferenceID: String?
        public var successURL: String
        public var expiresAt: Int
        public var status = "open"
        public var paymentStatus = "unpaid"
        public var paymentIntent: String?
        public var charge: String?
        public var amountRefunded = 0
        public var form: [(String, String)]
    }

    struct State {
        var sessions: [String: Session] = [:]
        var order: [String] = []
        var events: [(id: String, created: Int, type: String, body: [UInt8])] = []
        var idempotency: [String: (body: String, response: String)] = [:]
        var failures: [(status: Int, body: String)] = []
        var createRequests: [(headers: [String: String], form: [(String, String)])] = []
        var eventListCalls = 0
    }

    public let secretKey: String
    public let port: Int
    public var baseURL: String { "http://127.0.0.1:\(port)" }
    let state: Locked<State>
    private let task: Task<Void, any Error>
    /// Unix seconds the fake stamps on what it creates; tests may move it.
    public let clock: Locked<Int>

    private init(secretKey: String, port: Int, state: Locked<State>, clock: Locked<Int>, task: Task<Void, any Error>) {
        self.secretKey = secretKey
        self.port = port
        self.state = state
        self.clock = clock
        self.task = task
    }

    public static func start(secretKey: String = "sk_test_\(UUID().uuidString.prefix(12))") async throws -> FakeStripe {
        let state = Locked(State())
        let clock = Locked(Int(Date().timeIntervalSince1970))
        let router = Router()
        let key = secretKey
        let portBox = Locked(0)
        router.post("/v1/checkout/sessions") { request, _ -> Response in
            guard Self.authorized(request, key) else { return Self.error(401, "invalid_request_error", nil, nil, "Invalid API Key provided") }
            let body = String(decoding: try await request.body.collect(upTo: 1 << 20).readableBytesView, as: UTF8.self)
            let form = Self.formDecode(body)
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.rawName] = field.value }
            let idempotencyKey = request.headers[HTTPField.Name("Idempotency-Key")!]
            let port = portBox.withLock { $0 }
            let now = clock.withLock { $0 }
            return state.withLock { state -> Response in
                state.createRequests.append((headers, form))
                if !state.failures.isEmpty {
                    let failure = state.failures.removeFirst()
                    return Response(
                        status: .init(code: failure.status), headers: [.contentType: "application/json"],
                        body: .init(byteBuffer: ByteBuffer(string: failure.body)))
                }
                if let idempotencyKey, let earlier = state.idempotency[idempotencyKey] {
                    guard earlier.body == body else {
                        return Self.error(
                            400, "idempotency_error", nil, nil,
                            "Keys for idempotent requests can only be used with the same parameters they were first used with.")
                    }
                    var response = Self.json(200, earlier.response)
                    response.headers[HTTPField.Name("Idempotent-Replayed")!] = "true"
                    return response
                }
                let values = Dictionary(form, uniquingKeysWith: { a, _ in a })
                guard values["mode"] == "payment" else { return Self.error(400, "invalid_request_error", nil, "mode", "Missing required param: mode.") }
                guard let success = values["success_url"] else {
                    return Self.error(400, "invalid_request_error", nil, "success_url", "Missing required param: success_url.")
                }
                guard let amount = values["line_items[0][price_data][unit_amount]"].flatMap(Int.init),
                    let currency = values["line_items[0][price_data][currency]"]
                else {
                    return Self.error(400, "invalid_request_error", "parameter_missing", "line_items", "Missing required param: line_items.")
                }
                var metadata: [String: String] = [:]
                for (name, value) in form where name.hasPrefix("metadata[") && name.hasSuffix("]") {
                    let key = String(name.dropFirst(9).dropLast())
                    guard key.count <= 40, value.count <= 500 else {
                        return Self.error(400, "invalid_request_error", nil, "metadata", "Invalid metadata.")
                    }
                    metadata[key] = value
                }
                let expires = values["expires_at"].flatMap(Int.init) ?? now + 86_400
                guard expires >= now + 1800 - 5, expires <= now + 86_400 + 5 else {
                    return Self.error(400, "invalid_request_error", nil, "expires_at", "The `expires_at` timestamp must be between 30 minutes and 24 hours from creation.")
                }
                let id = "cs_test_" + Self.random(24)
                let session = Session(
                    id: id, amountTotal: amount, currency: currency, metadata: metadata,
                    clientReferenceID: values["client_reference_id"], successURL: success, expiresAt: expires, form: form)
                state.sessions[id] = session
                state.order.append(id)
                let response = Self.sessionJSON(session, port: port, created: now)
                if let idempotencyKey { state.idempotency[idempotencyKey] = (body, response) }
                return Self.json(200, response)
            }
        }
        router.get("/v1/checkout/sessions/:id") { request, context -> Response in
            guard Self.authorized(request, key) else { return Self.error(401, "invalid_request_error", nil, nil, "Invalid API Key provided") }
            let id = context.parameters.get("id") ?? ""
            let port = portBox.withLock { $0 }
            let now = clock.withLock { $0 }
            return state.withLock { state in
                guard let session = state.sessions[id] else {
                    return Self.error(404, "invalid_request_error", "resource_missing", "id", "No such checkout.session: '\(id)'")
                }
                return Self.json(200, Self.sessionJSON(session, port: port, created: now))
            }
        }
        router.get("/v1/events") { request, _ -> Response in
            guard Self.authorized(request, key) else { return Self.error(401, "invalid_request_error", nil, nil, "Invalid API Key provided") }
            let query = Self.formDecode(request.uri.query ?? "")
            let types = Set(query.filter { $0.0 == "types[]" }.map(\.1))
            let since = query.first { $0.0 == "created[gte]" }.flatMap { Int($0.1) } ?? 0
            let limit = min(100, max(1, query.first { $0.0 == "limit" }.flatMap { Int($0.1) } ?? 10))
            let after = query.first { $0.0 == "starting_after" }?.1
            return state.withLock { state in
                state.eventListCalls += 1
                var newest = state.events.reversed().filter { (types.isEmpty || types.contains($0.type)) && $0.created >= since }
                if let after, let index = newest.firstIndex(where: { $0.id == after }) { newest = Array(newest[(index + 1)...]) }
                let page = newest.prefix(limit)
                let data = page.map { String(decoding: $0.body, as: UTF8.self) }.joined(separator: ",")
                return Self.json(
                    200, #"{"object":"list","url":"/v1/events","has_more":\#(newest.count > limit),"data":[\#(data)]}"#)
            }
        }
        let (port, task) = await LoopbackServer.start(router, label: "fake-stripe")
        portBox.withLock { $0 = port }
        return FakeStripe(secretKey: secretKey, port: port, state: state, clock: clock, task: task)
    }

    public func shutdown() async {
        task.cancel()
        _ = try? await task.value
    }

    // MARK: What tests read

    public var sessions: [Session] { state.withLock { state in state.order.compactMap { state.sessions[$0] } } }
    public var createRequests: [(headers: [String: String], form: [(String, String)])] { state.withLock { $0.createRequests } }
    public var eventListCalls: Int { state.withLock { $0.eventListCalls } }

    /// The next create calls answer these, in order (status and error body).
    public func failNextCreate(status: Int, type: String, code: String? = nil, param: String? = nil, message: String, times: Int = 1) {
        let body = Self.errorBody(type, code, param, message)
        state.withLock { $0.failures += Array(repeating: (status, body), count: times) }
    }

    // MARK: The payment side: each records and returns the event Stripe would send

    /// The buyer paid (or, `paid: false`, completed with a delayed method).
    @discardableResult
    public func complete(_ session: String, paid: Bool = true, amount: Int? = nil, currency: String? = nil) -> [UInt8] {
        mutate(session, type: "checkout.session.completed") { session in
            session.status = "complete"
            session.paymentStatus = paid ? "paid" : "unpaid"
            session.paymentIntent = session.paymentIntent ?? "pi_" + Self.random(24)
            session.charge = session.charge ?? "ch_" + Self.random(24)
            if let amount { session.amountTotal = amount }
            if let currency { session.currency = currency }
            return Self.sessionObject(session)
        }
    }

    @discardableResult
    public func asyncSucceeded(_ session: String) -> [UInt8] {
        mutate(session, type: "checkout.session.async_payment_succeeded") { session in
            session.paymentStatus = "paid"
            return Self.sessionObject(session)
        }
    }

    @discardableResult
    public func asyncFailed(_ session: String) -> [UInt8] {
        mutate(session, type: "checkout.session.async_payment_failed") { Self.sessionObject($0) }
    }

    @discardableResult
    public func expire(_ session: String) -> [UInt8] {
        mutate(session, type: "checkout.session.expired") { session in
            session.status = "expired"
            return Self.sessionObject(session)
        }
    }

    /// Refunds `amount` more (cumulative `amount_refunded` grows).
    @discardableResult
    public func refund(_ session: String, amount: Int) -> [UInt8] {
        mutate(session, type: "charge.refunded") { session in
            session.amountRefunded = min(session.amountTotal, session.amountRefunded + amount)
            return Self.chargeObject(session)
        }
    }

    @discardableResult
    public func openDispute(_ session: String) -> [UInt8] {
        mutate(session, type: "charge.dispute.created") { Self.disputeObject($0, status: "needs_response") }
    }

    @discardableResult
    public func closeDispute(_ session: String, won: Bool) -> [UInt8] {
        mutate(session, type: "charge.dispute.closed") { Self.disputeObject($0, status: won ? "won" : "lost") }
    }

    /// An event of a type vectortd does not act on, or for a session it never created.
    @discardableResult
    public func record(type: String, object: String) -> [UInt8] {
        state.withLock { state in record(&state, type: type, object: object) }
    }

    private func mutate(_ id: String, type: String, _ change: (inout Session) -> String) -> [UInt8] {
        state.withLock { state in
            guard var session = state.sessions[id] else { preconditionFailure("no session \(id)") }
            let object = change(&session)
            state.sessions[id] = session
            return record(&state, type: type, object: object)
        }
    }

    private func record(_ state: inout State, type: String, object: String) -> [UInt8] {
        let id = "evt_" + Self.random(24)
        let created = clock.withLock { $0 }
        // Pretty-printed, as Stripe sends it.
        let body = Array("""
            {
              "id": "\(id)",
              "object": "event",
              "api_version": "2025-03-31.basil",
              "created": \(created),
              "data": {
                "object": \(object)
              },
              "livemode": false,
              "pending_webhooks": 1,
              "request": {"id": null, "idempotency_key": null},
              "type": "\(type)"
            }

            """.utf8)
        state.events.append((id, created, type, body))
        return body
    }

    // MARK: Delivering

    /// Signs `body` as a Stripe endpoint with these secrets would (one `v1` per secret, and a
    /// `v0` that must be ignored), at `timestamp` (default: now).
    public static func signatureHeader(body: [UInt8], secrets: [String], timestamp: Int) -> String {
        var payload = Array(String(timestamp).utf8)
        payload.append(UInt8(ascii: "."))
        payload += body
        var parts = ["t=\(timestamp)"]
        for secret in secrets {
            let code = HMAC<SHA256>.authenticationCode(for: payload, using: SymmetricKey(data: Array(secret.utf8)))
            parts.append("v1=" + TokenEncoding.hex(code))
        }
        parts.append("v0=" + String(repeating: "6f", count: 32))
        return parts.joined(separator: ",")
    }

    /// POSTs an event to a webhook URL as Stripe does; returns the status and body.
    public static func deliver(
        _ body: [UInt8], to url: String, signature: String?, client: HTTPClient = .shared
    ) async throws -> (status: Int, text: String) {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
        request.headers.add(name: "User-Agent", value: "Stripe/1.0 (+https://stripe.com/docs/webhooks)")
        if let signature { request.headers.add(name: "Stripe-Signature", value: signature) }
        request.body = .bytes(ByteBuffer(bytes: body))
        let response = try await client.execute(request, timeout: .seconds(30))
        let text = try await response.body.collect(upTo: 1 << 20)
        return (Int(response.status.code), String(buffer: text))
    }

    /// A plain GET (the webhook path's 405, `/healthz`); returns the status and body.
    public static func get(_ url: String, client: HTTPClient = .shared) async throws -> (status: Int, text: String) {
        let response = try await client.execute(HTTPClientRequest(url: url), timeout: .seconds(30))
        let text = try await response.body.collect(upTo: 1 << 20)
        return (Int(response.status.code), String(buffer: text))
    }

    // MARK: Wire shapes

    static func sessionObject(_ s: Session) -> String {
        let metadata = s.metadata.sorted { $0.key < $1.key }.map { "\(quote($0.key)): \(quote($0.value))" }.joined(separator: ", ")
        return """
            {"id": \(quote(s.id)), "object": "checkout.session", "amount_subtotal": \(s.amountTotal), "amount_total": \(s.amountTotal), \
            "currency": \(quote(s.currency)), "client_reference_id": \(s.clientReferenceID.map(quote) ?? "null"), \
            "metadata": {\(metadata)}, "mode": "payment", "payment_intent": \(s.paymentIntent.map(quote) ?? "null"), \
            "payment_status": \(quote(s.paymentStatus)), "status": \(quote(s.status)), "expires_at": \(s.expiresAt), \
            "success_url": \(quote(s.successURL)), "livemode": false}
            """
    }

    static func sessionJSON(_ s: Session, port: Int, created: Int) -> String {
        var object = sessionObject(s)
        object.removeLast()
        let url = s.status == "open" ? quote("http://127.0.0.1:\(port)/pay/\(s.id)") : "null"
        return object + ", \"url\": \(url), \"created\": \(created)}"
    }

    static func chargeObject(_ s: Session) -> String {
        let payment = s.metadata["payment"].map { "{\"payment\": \(quote($0))}" } ?? "{}"
        return """
            {"id": \(quote(s.charge ?? "ch_none")), "object": "charge", "amount": \(s.amountTotal), "amount_captured": \(s.amountTotal), \
            "amount_refunded": \(s.amountRefunded), "currency": \(quote(s.currency)), "payment_intent": \(s.paymentIntent.map(quote) ?? "null"), \
            "refunded": \(s.amountRefunded >= s.amountTotal), "metadata": \(payment), "livemode": false}
            """
    }

    static func disputeObject(_ s: Session, status: String) -> String {
        """
        {"id": "dp_\(s.id.suffix(12))", "object": "dispute", "amount": \(s.amountTotal), "charge": \(quote(s.charge ?? "ch_none")), \
        "currency": \(quote(s.currency)), "payment_intent": \(s.paymentIntent.map(quote) ?? "null"), "reason": "fraudulent", \
        "status": \(quote(status)), "livemode": false}
        """
    }

    static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default:
                if scalar.value < 0x20 { out += String(format: "\\u%04x", scalar.value) } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out + "\""
    }

    static func errorBody(_ type: String, _ code: String?, _ param: String?, _ message: String) -> String {
        var fields = ["\"type\": \(quote(type))", "\"message\": \(quote(message))"]
        if let code { fields.append("\"code\": \(quote(code))") }
        if let param { fields.append("\"param\": \(quote(param))") }
        return "{\"error\": {\(fields.joined(separator: ", "))}}"
    }

    static func error(_ status: Int, _ type: String, _ code: String?, _ param: String?, _ message: String) -> Response {
        json(status, errorBody(type, code, param, message))
    }

    static func json(_ status: Int, _ body: String) -> Response {
        var response = Response(
            status: .init(code: status), headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: body)))
        response.headers[HTTPField.Name("Request-Id")!] = "req_" + random(14)
        return response
    }

    static func authorized(_ request: Request, _ key: String) -> Bool {
        request.headers[.authorization] == "Bearer \(key)"
    }

    static func random(_ count: Int) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        return String((0..<count).map { _ in alphabet.randomElement()! })
    }

    /// `a=1&b%5B0%5D=x+y` → [("a", "1"), ("b[0]", "x y")].
    public static func formDecode(_ text: String) -> [(String, String)] {
        text.split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ part: Substring) -> String {
                (String(part).replacingOccurrences(of: "+", with: " ").removingPercentEncoding) ?? String(part)
            }
            return (decode(parts[0]), parts.count > 1 ? decode(parts[1]) : "")
        }
    }
}
