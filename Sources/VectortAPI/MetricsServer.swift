import HTTPTypes
public import Hummingbird
public import Logging
import NIOCore
public import Observability
public import ServiceLifecycle

/// `vectortd_http_requests_total` and `vectortd_http_request_duration_seconds` by route
/// template (the router's path with `{name}` for its parameters, never the request's: ids stay
/// out of labels; `unmatched` for
/// requests no route took), method and status. Durations run to the response head.
struct HTTPMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: Telemetry

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard metrics.enabled else { return try await next(request, context) }
        let clock = ContinuousClock()
        let started = clock.now
        var status = 500
        defer {
            // The router names what no route took `NotFound` (or leaves it unset).
            let route = context.endpointPath.flatMap { $0 == "NotFound" ? nil : $0 } ?? "unmatched"
            let method = request.method.rawValue
            metrics.increment(Metric.httpRequests, [route, method, String(status)])
            metrics.record(Metric.httpDuration, [route, method], clock.now - started)
        }
        do {
            let response = try await next(request, context)
            status = response.status.code
            return response
        } catch let error as any HTTPResponseError {
            status = error.status.code
            throw error
        }
    }
}

/// `GET /metrics` in the Prometheus text format, as a route of any router.
public enum MetricsRoute {
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    static func add<Context: RequestContext>(to router: Router<Context>, metrics: Telemetry) {
        router.get("/metrics") { _, _ -> Response in
            Response(
                status: .ok, headers: [.contentType: contentType, .cacheControl: "no-store"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: metrics.exposition())))
        }
    }
}

/// The metrics listener (`metrics.listen`, loopback by default: business figures stay off the
/// public listener): `GET /metrics` and `GET /healthz`.
public struct MetricsServer: Service {
    let application: Application<RouterResponder<BasicRequestContext>>

    public init(
        host: String, port: Int, metrics: Telemetry, bound: @escaping @Sendable (String) -> Void, logger: Logger
    ) {
        let router = Router()
        MetricsRoute.add(to: router, metrics: metrics)
        router.get("/healthz") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: "ok\n")))
        }
        application = HTTPListener.application(
            router: router, host: host, port: port, readTimeoutSeconds: 30, maxConnections: 64, name: "metrics listener",
            bound: bound, logger: logger)
    }

    public func run() async throws {
        try await application.run()
    }
}
