public import Foundation
import Hummingbird
import Protocol
public import VectortCore

/// A loopback SendGrid v3: `POST /v3/mail/send` with a bearer key answers 202 and keeps the
/// message; a wrong key gets 401 with SendGrid's `{"errors": [{message, field, help}]}`.
public final class FakeSendGrid: Sendable {
    public struct Message: Sendable {
        public var to: String
        public var from: String
        public var subject: String
        public var text: String
    }

    public let apiKey: String
    public let port: Int
    public var baseURL: String { "http://127.0.0.1:\(port)" }
    private let received: Locked<[Message]>
    private let task: Task<Void, any Error>

    private init(apiKey: String, port: Int, received: Locked<[Message]>, task: Task<Void, any Error>) {
        self.apiKey = apiKey
        self.port = port
        self.received = received
        self.task = task
    }

    public static func start(apiKey: String = "SG.\(UUID().uuidString)") async throws -> FakeSendGrid {
        let received = Locked<[Message]>([])
        let router = Router()
        router.post("/v3/mail/send") { request, _ in
            guard request.headers[.authorization] == "Bearer \(apiKey)" else {
                return FakeHTTP.reply(
                    401, ["errors": [["message": "The provided authorization grant is invalid, expired, or revoked", "field": .null, "help": .null]]])
            }
            let body = try await FakeHTTP.json(request)
            guard let to = body["personalizations"]?.arrayValue?.first?["to"]?.arrayValue?.first?["email"]?.stringValue,
                let from = body["from"]?["email"]?.stringValue, let subject = body["subject"]?.stringValue,
                let text = body["content"]?.arrayValue?.first(where: { $0["type"]?.stringValue == "text/plain" })?["value"]?.stringValue
            else {
                return FakeHTTP.reply(400, ["errors": [["message": "Bad Request", "field": .null, "help": .null]]])
            }
            received.withLock { $0.append(Message(to: to, from: from, subject: subject, text: text)) }
            return Response(status: .accepted)
        }
        let (port, task) = await LoopbackServer.start(router, label: "fake-sendgrid")
        return FakeSendGrid(apiKey: apiKey, port: port, received: received, task: task)
    }

    public func shutdown() async {
        task.cancel()
        _ = try? await task.value
    }

    public var messages: [Message] { received.value }

    public func waitForMessages(_ count: Int, seconds: Double = 10) async -> [Message] {
        await Polling.until(timeout: .milliseconds(Int64(seconds * 1000)), every: .milliseconds(20)) {
            let messages = received.value
            return messages.count >= count ? messages : nil
        } ?? received.value
    }
}
