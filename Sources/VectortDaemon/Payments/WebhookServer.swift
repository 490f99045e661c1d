import Engine
import VectortAPI
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import VectortCore
import Protocol
import HummingbirdCore
import HTTPTypes

/// The Stripe webhook listener: `POST <webhook.path>` verified and applied before the 200,
/// `GET /healthz`, and nothing else. A Hummingbird 2 application run as a service of the
/// daemon's group, so it stops with the daemon (requests in flight finish first).
struct WebhookServer: Service {
    struct Settings: Sendable {
        var host: String
        var port: Int
        var path: String
        var maxBodyBytes: Int
        var readTimeoutSeconds: Double
        var maxConnections: Int
    }

    let application: Application<RouterResponder<BasicRequestContext>>

    /// `bound` receives `host:port` once the listener runs (port 0 picks one).
    init(
        settings: Settings, payments: Payments, ping: @escaping @Sendable () async throws -> Void,
        bound: @escaping @Sendable (String) -> Void, logger: Logger
    ) {
        let router = Router()
        let maxBody = settings.maxBodyBytes
        router.post(RouterPath(settings.path)) { request, _ -> Response in
            let body: ByteBuffer
            do {
                body = try await request.body.collect(upTo: maxBody)
            } catch is NIOTooManyBytesError {
                return Self.text(413, "the body is larger than \(maxBody) bytes")
            }
            let signature = request.headers[Self.signatureHeader]
            let answer = await payments.webhook(body: Array(body.readableBytesView), signature: signature)
            return Self.text(answer.status, answer.text)
        }
        for method in [HTTPRequest.Method.get, .put, .delete, .patch, .head] {
            router.on(RouterPath(settings.path), method: method) { _, _ -> Response in
                var response = Self.text(405, "use POST")
                response.headers[.allow] = "POST"
                return response
            }
        }
        router.get("/healthz") { _, _ -> Response in
            do {
                try await ping()
                return Self.text(200, "ok")
            } catch {
                return Self.text(503, "the database does not answer")
            }
        }
        application = HTTPListener.application(
            router: router, host: settings.host, port: settings.port, readTimeoutSeconds: settings.readTimeoutSeconds,
            maxConnections: settings.maxConnections, name: "webhook listener", bound: bound, logger: logger)
    }

    static let signatureHeader = HTTPField.Name("Stripe-Signature")!

    func run() async throws {
        try await application.run()
    }

    static func text(_ status: Int, _ text: String) -> Response {
        Response(
            status: HTTPResponse.Status(code: status), headers: [.contentType: "text/plain; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text + "\n")))
    }
}

/// The reconciler: catches up with Stripe at start and every `payments.reconcile_minutes` (on
/// a shared PostgreSQL, the node holding the reconciler's lease does).
struct ReconcilerService: Service {
    let payments: Payments
    let interval: @Sendable () -> Duration
    let logger: Logger

    func run() async throws {
        // A graceful shutdown ends the wait between runs (and a run in progress) at once.
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    _ = try await payments.reconcileIfLeader(every: interval())
                } catch let error as EngineError
                    where error.wireError.details["reason"] == .string("payments_not_configured")
                {
                    // Payments are off: nothing to catch up with.
                } catch is CancellationError {
                    return
                } catch {
                    logger.warning("stripe reconciliation failed; trying again later", metadata: ["error": "\(error)"])
                }
                try await Task.sleep(for: interval())
            }
        }
    }
}

