public import AsyncHTTPClient
public import Auth
public import Engine
import Foundation
import HTTPTypes
import Hummingbird
public import Observability
import HummingbirdCore
public import Logging
import NIOCore
public import Protocol
public import ServiceLifecycle
import VectortCore

/// What the web API calls: the engine's services, in process.
public struct APIServices: Sendable {
    public var users: Users
    public var projects: Projects
    public var versions: Versions
    public var ledger: Ledger
    public var pipeline: GenerationPipeline
    public var payments: Payments
    public var deployments: Deployments
    public var github: GitHubExporter
    public var zip: ZipExporter
    public var generations: GenerationStore
    public var accounts: ConnectedAccounts
    public var diffLimit: Int
    public var ping: @Sendable () async throws -> Void

    public init(
        users: Users, projects: Projects, versions: Versions, ledger: Ledger, pipeline: GenerationPipeline, payments: Payments,
        deployments: Deployments, github: GitHubExporter, zip: ZipExporter, generations: GenerationStore,
        accounts: ConnectedAccounts, diffLimit: Int = 256 * 1024, ping: @escaping @Sendable () async throws -> Void
    ) {
        self.generations = generations
        self.accounts = accounts
        self.diffLimit = diffLimit
        self.users = users
        self.projects = projects
        self.versions = versions
        self.ledger = ledger
        self.pipeline = pipeline
        self.payments = payments
        self.deployments = deployments
        self.github = github
        self.zip = zip
        self.ping = ping
    }
}

/// The Stripe webhook served on the API's listener, when both are configured on one address.
public struct WebhookRoute: Sendable {
    public var path: String
    public var maxBodyBytes: Int
    /// The raw body and the `Stripe-Signature` header → the status and text to answer.
    public var handle: @Sendable ([UInt8], String?) async -> (status: Int, text: String)

    public init(path: String, maxBodyBytes: Int, handle: @escaping @Sendable ([UInt8], String?) async -> (status: Int, text: String)) {
        self.path = path
        self.maxBodyBytes = maxBodyBytes
        self.handle = handle
    }
}

/// The web API (`api.listen`): the platform's `/api/*` routes over the engine, JSON in and
/// out, sessions as bearer JWTs. A Hummingbird 2 application run as a service of the daemon's
/// group, so it stops with the daemon (requests in flight finish first).
public struct APIServer: Service {
    public struct Settings: Sendable {
        public var host: String
        public var port: Int
        public var maxBodyBytes: Int
        public var readTimeoutSeconds: Double
        public var maxConnections: Int
        public var corsOrigins: [String]
        public var trustedProxies: [String]
        public var sessionHours: Double
        public var rateBurst: Int
        public var ratePerMinute: Double
        /// The front end's base URL: links in mail point there.
        public var frontendURL: String = "http://localhost:3000"

        public init(
            host: String = "127.0.0.1", port: Int = 8401, maxBodyBytes: Int = 10 << 20, readTimeoutSeconds: Double = 30,
            maxConnections: Int = 1024, corsOrigins: [String] = [], trustedProxies: [String] = [], sessionHours: Double = 24,
            rateBurst: Int = 10, ratePerMinute: Double = 10, frontendURL: String = "http://localhost:3000"
        ) {
            self.frontendURL = frontendURL
            self.host = host
            self.port = port
            self.maxBodyBytes = maxBodyBytes
            self.readTimeoutSeconds = readTimeoutSeconds
            self.maxConnections = maxConnections
            self.corsOrigins = corsOrigins
            self.trustedProxies = trustedProxies
            self.sessionHours = sessionHours
            self.rateBurst = rateBurst
            self.ratePerMinute = ratePerMinute
        }
    }

    let application: Application<RouterResponder<APIContext>>

    /// `bound` receives `host:port` once the listener runs (port 0 picks one).
    public init(
        settings: Settings, services: APIServices, sessions: @escaping @Sendable () -> SessionKeys?,
        previewBase: @escaping @Sendable () -> String? = { nil }, mailer: (any Mailer)? = nil, oauth: OAuthSettings? = nil,
        http: HTTPClient? = nil, webhook: WebhookRoute? = nil, metrics: Telemetry = Telemetry(enabled: false),
        servesMetrics: Bool = false, bound: @escaping @Sendable (String) -> Void, logger: Logger
    ) {
        let router = Router(context: APIContext.self)
        router.add(middleware: HTTPMetricsMiddleware(metrics: metrics))
        router.add(middleware: HeadersMiddleware(corsOrigins: Set(settings.corsOrigins)))
        router.add(middleware: ErrorMiddleware())
        let routes = Routes(
            settings: settings, services: services, sessions: sessions, previewBase: previewBase, mailer: mailer, logger: logger,
            oauth: oauth.flatMap { settings in http.map { OAuthFlows(settings: settings, http: $0) } },
            limiter: RateLimiter(burst: settings.rateBurst, perMinute: settings.ratePerMinute),
            trustedProxies: Set(settings.trustedProxies))
        routes.register(router)
        if let webhook {
            router.post(RouterPath(webhook.path)) { request, _ -> Response in
                let body: ByteBuffer
                do {
                    body = try await request.body.collect(upTo: webhook.maxBodyBytes)
                } catch is NIOTooManyBytesError {
                    return Response(status: .contentTooLarge, body: .init(byteBuffer: ByteBuffer(string: "the body is too large\n")))
                }
                let answer = await webhook.handle(Array(body.readableBytesView), request.headers[HTTPField.Name("Stripe-Signature")!])
                return Response(
                    status: .init(code: answer.status), headers: [.contentType: "text/plain; charset=utf-8"],
                    body: .init(byteBuffer: ByteBuffer(string: answer.text + "\n")))
            }
        }
        // `metrics.listen: api`: the figures on this listener too.
        if servesMetrics { MetricsRoute.add(to: router, metrics: metrics) }
        // The document describes the router as built, so it cannot drift from the routes.
        let document = APIDocs.document(
            routes: router.routes.map { ($0.method.rawValue, $0.path.description) } + [("GET", "/api/openapi.json")])
        router.get("/api/openapi.json") { _, _ in APIJSON.response(200, document) }
        application = HTTPListener.application(
            router: router, host: settings.host, port: settings.port, readTimeoutSeconds: settings.readTimeoutSeconds,
            maxConnections: settings.maxConnections, name: "web API", bound: bound, logger: logger)
    }

    public func run() async throws {
        try await application.run()
    }
}
