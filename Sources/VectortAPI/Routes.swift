import Auth
import Engine
import Foundation
import Logging
import HTTPTypes
import Hummingbird
import NIOCore
import Protocol
import VectortCore

/// The platform's `/api/*` routes. Every route acts for the signed-in user only: the engine's
/// owner check is the user's id, so another user's project is `NotFound`.
struct Routes: Sendable {
    let settings: APIServer.Settings
    let services: APIServices
    let sessions: @Sendable () -> SessionKeys?
    let previewBase: @Sendable () -> String?
    let mailer: (any Mailer)?
    let logger: Logger
    let oauth: OAuthFlows?
    let limiter: RateLimiter
    /// `settings.trustedProxies`, made once.
    let trustedProxies: Set<String>

    func register(_ router: Router<APIContext>) {
        router.get("/healthz") { _, _ -> Response in
            try await services.ping()
            return APIJSON.response(200, ["status": "ok"] as JSONValue)
        }
        // Signing in: rate limited per client address (and per account for login).
        router.post("/api/auth/register") { request, context in try await register(request, context) }
        router.post("/api/auth/login") { request, context in try await login(request, context) }
        router.get("/api/auth/:provider/login") { _, context in try oauthLogin(context) }
        router.get("/api/auth/:provider/callback") { request, context in
            let query = Query(request)
            return await oauthCallback(
                request, context, state: query["state"], code: query["code"], error: query["error"], appleUser: nil)
        }
        // Apple answers with a cross-site form POST (response_mode=form_post).
        router.post("/api/auth/apple/callback") { request, context in
            let form = try await self.form(request)
            return await oauthCallback(
                request, context, state: form["state"], code: form["code"], error: form["error"], appleUser: form["user"])
        }
        router.post("/api/auth/password-reset") { request, context in
            let body = try await self.body(request)
            let email: String = try body.required("email")
            try limit(request, context, ["reset"], account: email.trimmingCharacters(in: .whitespaces).lowercased())
            // The same 202 whether or not the account exists; the mail goes out in the background.
            if let mailer, let (user, token) = try await services.users.startPasswordReset(email: email) {
                send(
                    mailer,
                    Mail(
                        to: user.email, subject: "Reset your password",
                        text: """
                            Someone asked to reset the password of your account. If it was you, open this link within 30 minutes:

                            \(settings.frontendURL)/auth/reset#token=\(token)

                            If it was not you, ignore this mail: nothing changes.
                            """))
            } else if mailer == nil {
                logger.notice("password reset asked while mail is off (mail.from is empty)")
            }
            return APIJSON.response(202, ["status": "if the account exists, a reset link is on its way"] as JSONValue)
        }
        router.post("/api/auth/password-reset/confirm") { request, context in
            try limit(request, context, ["reset-confirm"])
            let body = try await self.body(request)
            _ = try await services.users.finishPasswordReset(token: try body.required("token"), password: try body.required("password"))
            return APIJSON.empty(204)
        }
        router.post("/api/auth/verify") { request, context in
            try limit(request, context, ["verify"])
            let body = try await self.body(request)
            return APIJSON.response(200, try await services.users.verifyEmail(token: try body.required("token")))
        }

        let signedIn = router.group("/api").add(middleware: SessionMiddleware(keys: sessions, users: services.users))
        signedIn.get("/auth/me") { _, context in APIJSON.response(200, try context.requireUser()) }
        signedIn.post("/auth/logout") { _, context in
            let user = try context.requireUser()
            if let session = context.session {
                try await services.users.revokeSession(
                    user: user.id, session: session.id, expiresAt: Date(timeIntervalSince1970: session.expiresAt))
            }
            return APIJSON.empty(204)
        }

        signedIn.get("/projects") { request, context in
            let user = try context.requireUser()
            let query = Query(request)
            let page = try await services.projects.list(
                user: user.id, limit: try query.int("limit", default: 50, in: 1...500), after: query["after"])
            var answer = try JSONValue(encoding: page)
            answer = ["projects": .array(try await withPreviewURLs(page.projects)), "next_after": answer["next_after"] ?? .null]
            return APIJSON.response(200, answer)
        }
        signedIn.post("/projects") { request, context in
            let user = try context.requireUser()
            let body = try await self.body(request)
            let project = try await services.projects.create(
                user: user.id, title: try body.required("title"), description: try body.string("description"),
                type: try body.string("type"))
            return APIJSON.response(201, try await withPreviewURLs([project])[0])
        }
        signedIn.get("/projects/:id") { _, context in
            let project = try await services.projects.get(try context.project(), owner: try context.requireUser().id)
            return APIJSON.response(200, try await withPreviewURLs([project])[0])
        }
        signedIn.post("/projects/:id/preview/rotate") { _, context in
            let token = try await services.projects.rotatePreviewToken(try context.project(), owner: try context.requireUser().id)
            return APIJSON.response(200, ["preview_url": previewURL(token).map { JSONValue.string($0) } ?? .null] as JSONValue)
        }
        signedIn.put("/projects/:id") { request, context in
            let body = try await self.body(request)
            let project = try await services.projects.update(
                try context.project(), owner: try context.requireUser().id, title: try body.string("title"),
                description: try body.string("description"), config: try body.object("config"))
            return APIJSON.response(200, try await withPreviewURLs([project])[0])
        }
        signedIn.delete("/projects/:id") { _, context in
            _ = try await services.projects.delete(try context.project(), owner: try context.requireUser().id)
            return APIJSON.empty(204)
        }
        signedIn.get("/projects/:id/code") { request, context in
            let query = Query(request)
            let owner = try context.requireUser().id
            let built = try query.bool("built") ?? false
            let code =
                built
                ? try await services.versions.builtCode(
                    project: try context.project(), owner: owner, version: query["version"], path: query["path"])
                : try await services.versions.code(project: try context.project(), owner: owner, version: query["version"], path: query["path"])
            return APIJSON.response(200, code)
        }
        signedIn.get("/projects/:id/versions") { _, context in
            APIJSON.response(200, try await services.versions.list(project: try context.project(), owner: try context.requireUser().id))
        }
        signedIn.get("/projects/:id/build") { request, context in
            APIJSON.response(
                200,
                try await services.versions.build(
                    project: try context.project(), owner: try context.requireUser().id, version: Query(request)["version"]))
        }
        signedIn.post("/projects/:id/generate") { request, context in try await generate(request, context) }
        signedIn.post("/projects/:id/deploy") { request, context in
            let body = try await self.body(request)
            let job = try await services.deployments.start(
                project: try context.project(), owner: try context.requireUser().id, platform: try body.required("platform"),
                version: try body.version("version"), settings: try body.object("settings"),
                idempotencyKey: try body.string("idempotency_key") ?? request.headers[Self.idempotencyKey])
            return APIJSON.response(202, job)
        }
        signedIn.get("/projects/:id/deployment/status") { _, context in
            let project = try context.project()
            let owner = try context.requireUser().id
            _ = try await services.projects.get(project, owner: owner)
            let list = try await services.deployments.list(owner: owner, project: project, state: nil, limit: 1, after: nil)
            guard let latest = list.deployments.first else { throw EngineError.notFound("deployment", "of project \(project)") }
            return APIJSON.response(200, latest)
        }
        signedIn.get("/deployment/platforms") { _, _ in APIJSON.response(200, services.deployments.platforms()) }
        signedIn.post("/projects/:id/export/github") { request, context in
            let body = try await self.body(request)
            let result = try await services.github.export(
                project: try context.project(), owner: try context.requireUser().id, version: try body.version("version"),
                repo: try body.string("repo"), private: try body.bool("private"), message: try body.string("message"),
                force: try body.bool("force") ?? false,
                idempotencyKey: try body.string("idempotency_key") ?? request.headers[Self.idempotencyKey])
            return APIJSON.response(200, result)
        }
        signedIn.post("/projects/:id/export/zip") { request, context in
            let body = try await self.body(request)
            let export = try await services.zip.export(
                project: try context.project(), owner: try context.requireUser().id, version: try body.version("version"),
                built: try body.bool("built") ?? false)
            let bytes = Data(base64Encoded: export.zipBase64) ?? Data()
            return Response(
                status: .ok,
                headers: [
                    .contentType: "application/zip",
                    .contentDisposition: "attachment; filename=\"\(export.filename.replacingOccurrences(of: "\"", with: ""))\"",
                ],
                body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }

        signedIn.get("/credits/balance") { _, context in
            APIJSON.response(200, try await services.ledger.balance(user: try context.requireUser().id))
        }
        signedIn.get("/credits/packages") { _, _ in APIJSON.response(200, CreditPackageList(packages: services.ledger.packages)) }
        signedIn.get("/credits/history") { request, context in
            let query = Query(request)
            return APIJSON.response(
                200,
                try await services.ledger.history(
                    user: try context.requireUser().id, limit: try query.int("limit", default: 50, in: 1...500), after: query["after"]))
        }
        signedIn.post("/credits/purchase") { request, context in
            let body = try await self.body(request)
            let result = try await services.payments.purchase(
                user: try context.requireUser().id, package: try body.required("package"), successURL: try body.string("success_url"),
                cancelURL: try body.string("cancel_url"),
                idempotencyKey: try body.string("idempotency_key") ?? request.headers[Self.idempotencyKey])
            return APIJSON.response(201, result)
        }
        registerMore(signedIn)
        // Anything else under /api is a JSON 404 (the router's own answer is caught the same way).
    }

    /// Versions, generations, payments, connected accounts and the password.
    private func registerMore(_ signedIn: RouterGroup<APIContext>) {
        signedIn.get("/projects/:id/diff") { request, context in
            let query = Query(request)
            guard let from = query["from"], let to = query["to"] else {
                throw EngineError.invalid(query["from"] == nil ? "from" : "to", "from and to are required (version ids or numbers)")
            }
            return APIJSON.response(
                200,
                try await services.versions.diff(
                    project: try context.project(), owner: try context.requireUser().id, from: from, to: to,
                    diffLimit: services.diffLimit))
        }
        signedIn.post("/projects/:id/restore") { request, context in
            let body = try await self.body(request)
            guard let version = try body.version("version") else { throw EngineError.invalid("version", "version is required") }
            return APIJSON.response(
                201, try await services.versions.restore(project: try context.project(), owner: try context.requireUser().id, version: version))
        }
        signedIn.get("/projects/:id/generations") { request, context in
            APIJSON.response(
                200,
                try await services.generations.list(
                    project: try context.project(), owner: try context.requireUser().id,
                    limit: try Query(request).int("limit", default: 20, in: 1...200)))
        }
        signedIn.post("/generations/:generation/cancel") { _, context in
            guard let id = context.parameters.get("generation") else { throw EngineError.invalid("generation", "generation is required") }
            return APIJSON.response(200, try await services.pipeline.cancel(generation: id, owner: try context.requireUser().id))
        }
        signedIn.get("/payments") { request, context in
            let query = Query(request)
            return APIJSON.response(
                200,
                try await services.payments.list(
                    user: try context.requireUser().id, status: query["status"], limit: try query.int("limit", default: 50, in: 1...500),
                    after: query["after"]))
        }
        signedIn.get("/payments/:payment") { _, context in
            guard let id = context.parameters.get("payment") else { throw EngineError.invalid("payment", "payment is required") }
            return APIJSON.response(200, try await services.payments.get(id, user: try context.requireUser().id))
        }
        signedIn.get("/accounts") { _, context in
            APIJSON.response(200, try await services.accounts.list(user: try context.requireUser().id))
        }
        signedIn.post("/accounts/:platform") { request, context in
            let body = try await self.body(request)
            return APIJSON.response(
                200,
                try await services.accounts.connect(
                    user: try context.requireUser().id, platform: context.parameters.get("platform") ?? "", token: try body.required("token")))
        }
        signedIn.delete("/accounts/:platform") { _, context in
            APIJSON.response(
                200,
                try await services.accounts.disconnect(user: try context.requireUser().id, platform: context.parameters.get("platform") ?? ""))
        }
        signedIn.post("/auth/password") { request, context in
            let user = try context.requireUser()
            let body = try await self.body(request)
            try limit(request, context, ["password"], account: user.id)
            guard try await services.users.authenticate(email: user.email, password: try body.required("current_password")) != nil else {
                throw APIError(status: 403, wire: WireError(.permissionDenied, "the current password is wrong", ["parameter": "current_password"]))
            }
            try await services.users.setPassword(user: user.id, try body.required("password"))
            // Every session issued before now, this one included, has ended: sign in again.
            return APIJSON.empty(204)
        }
    }

    static let idempotencyKey = HTTPField.Name("Idempotency-Key")!

    /// Projects as the web API shows them: with `preview_url`, the preview origin's capability
    /// URL of the current version (null when previews are off).
    private func withPreviewURLs(_ projects: [Project]) async throws -> [JSONValue] {
        let tokens = try await services.projects.previewTokens(projects.map(\.id))
        return try projects.map { project in
            var object = try JSONValue(encoding: project).objectValue ?? [:]
            object["preview_url"] = tokens[project.id].flatMap(previewURL).map { .string($0) } ?? .null
            return .object(object)
        }
    }

    private func previewURL(_ token: String) -> String? {
        previewBase().map { $0 + "/p/" + token + "/" }
    }

    // MARK: Accounts

    private func register(_ request: Request, _ context: APIContext) async throws -> Response {
        try limit(request, context, ["register"])
        let body = try await self.body(request)
        guard let password = try body.string("password") else { throw EngineError.invalid("password", "password is required") }
        let user = try await services.users.create(
            email: try body.required("email"), fullName: try body.string("full_name"), password: password, via: "password")
        if let mailer {
            let token = try await services.users.startVerification(user: user.id)
            send(
                mailer,
                Mail(
                    to: user.email, subject: "Confirm your email address",
                    text: """
                        Welcome! Confirm that this is your email address by opening this link:

                        \(settings.frontendURL)/auth/verify#token=\(token)
                        """))
        }
        return APIJSON.response(201, ["user": user])
    }

    private func login(_ request: Request, _ context: APIContext) async throws -> Response {
        let body = try await self.body(request)
        let email: String = try body.required("email")
        let password: String = try body.required("password")
        try limit(request, context, ["login"], account: email.trimmingCharacters(in: .whitespaces).lowercased())
        guard let keys = sessions(), keys.signingKID != nil else {
            throw APIError(WireError(.unavailable, "sessions are off: the daemon has no jwt-secret", ["reason": "sessions_not_configured"]))
        }
        guard let user = try await services.users.authenticate(email: email, password: password) else {
            throw APIError.unauthenticated("wrong email or password")
        }
        let (token, claims) = try await keys.sign(user: user.id, now: Date(), lifetime: settings.sessionHours * 3600)
        let answer: JSONValue = [
            "token": .string(token), "token_type": "bearer", "expires_at": .string(Timestamps.string(claims.expiresAt)),
            "user": try JSONValue(encoding: user),
        ]
        return APIJSON.response(200, answer)
    }

    // MARK: OAuth

    private func oauthLogin(_ context: APIContext) throws -> Response {
        let provider = context.parameters.get("provider") ?? ""
        guard ["google", "github", "apple"].contains(provider) else { throw APIError.notFound("/api/auth/\(provider)/login") }
        guard let oauth else {
            throw APIError(WireError(.unavailable, "sign-in with \(provider) is not configured", ["reason": "oauth_not_configured"]))
        }
        let started: (url: String, cookie: String)
        do {
            started = try oauth.start(provider)
        } catch let failure as OAuthFailure {
            throw APIError(WireError(.unavailable, failure.message, ["reason": "oauth_not_configured"]))
        }
        var response = Response(status: .found)
        response.headers[.location] = started.url
        // Apple's callback is a cross-site POST: only SameSite=None carries the cookie there.
        let sameSite = provider == "apple" ? "None" : "Lax"
        response.headers[.setCookie] = "\(OAuthFlows.cookieName)=\(started.cookie); Path=/; HttpOnly; Secure; SameSite=\(sameSite); Max-Age=600"
        return response
    }

    /// Finishes a sign-in and sends the browser to the front end with the session in the URL
    /// fragment (never the query), or with `error` and `error_description` there.
    private func oauthCallback(
        _ request: Request, _ context: APIContext, state: String?, code: String?, error: String?, appleUser: String?
    ) async -> Response {
        let provider = context.parameters.get("provider") ?? "apple"
        var fragment: [(String, String)]
        do {
            try limit(request, context, ["oauth"])
            guard let oauth else { throw OAuthFailure(code: "not_configured", message: "sign-in with \(provider) is not configured") }
            let identity = try await oauth.finish(provider, state: state, code: code, cookie: Self.cookie(request), error: error)
            guard identity.emailVerified else {
                throw OAuthFailure(code: "email_not_verified", message: "\(provider) has not verified \(identity.email)")
            }
            var name = identity.name
            if name == nil, let appleUser, let parsed = try? JSONDecoder().decode(JSONValue.self, from: Data(appleUser.utf8)) {
                let parts = [parsed["name"]?["firstName"]?.stringValue, parsed["name"]?["lastName"]?.stringValue].compactMap { $0 }
                name = parts.isEmpty ? nil : parts.joined(separator: " ")
            }
            let (user, outcome) = try await services.users.oauthSignIn(
                provider: provider, subject: identity.subject, email: identity.email, fullName: name)
            guard let keys = sessions(), keys.signingKID != nil else {
                throw OAuthFailure(code: "sessions_not_configured", message: "the daemon has no jwt-secret")
            }
            let (token, claims) = try await keys.sign(user: user.id, now: Date(), lifetime: settings.sessionHours * 3600)
            logger.info("signed in with \(provider)", metadata: ["user": "\(user.id)", "oauth.outcome": "\(outcome)"])
            fragment = [("token", token), ("expires_at", Timestamps.string(claims.expiresAt))]
        } catch let failure as OAuthFailure {
            fragment = [("error", failure.code), ("error_description", failure.message)]
        } catch let error as APIError {
            fragment = [("error", error.status == 429 ? "rate_limited" : "invalid_request"), ("error_description", error.wire.message)]
        } catch let error as EngineError {
            fragment = [("error", "account_refused"), ("error_description", error.wireError.message)]
        } catch {
            fragment = [("error", "server_error"), ("error_description", "the sign-in could not be finished")]
        }
        var response = Response(status: .found)
        response.headers[.location] = settings.frontendURL + "/auth/callback#" + OAuthFlows.form(fragment)
        response.headers[.setCookie] = "\(OAuthFlows.cookieName)=; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age=0"
        return response
    }

    static func cookie(_ request: Request) -> String? {
        for header in request.headers[values: .cookie] {
            for pair in header.split(separator: ";") {
                let parts = pair.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
                if parts.count == 2, parts[0] == OAuthFlows.cookieName { return String(parts[1]) }
            }
        }
        return nil
    }

    /// An `application/x-www-form-urlencoded` body.
    private func form(_ request: Request) async throws -> [String: String] {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: min(settings.maxBodyBytes, 64 * 1024))
        } catch is NIOTooManyBytesError {
            throw APIError.tooLarge(64 * 1024)
        }
        return TokenEncoding.formDecode(String(buffer: buffer))
    }

    /// Sends in the background: the answer never waits for (or reveals) the mail.
    private func send(_ mailer: any Mailer, _ mail: Mail) {
        let logger = logger
        Task {
            do {
                try await mailer.send(mail)
            } catch {
                logger.warning("mail could not be sent", metadata: ["error": "\(error)", "mail.subject": "\(mail.subject)"])
            }
        }
    }

    /// One token from the client address's bucket for `route` (and the account's, if given).
    private func limit(_ request: Request, _ context: APIContext, _ route: [String], account: String? = nil) throws {
        let address = clientAddress(request, peer: context.peer, trustedProxies: trustedProxies)
        var keys = route.map { "\($0)|addr|\(address)" }
        if let account { keys += route.map { "\($0)|account|\(account)" } }
        if let wait = limiter.take(keys) { throw APIError.rateLimited(retryAfter: wait) }
    }

    // MARK: Generation

    private func generate(_ request: Request, _ context: APIContext) async throws -> Response {
        let user = try context.requireUser()
        let body = try await self.body(request)
        let modeText = try body.string("mode") ?? GenerationMode.quick.rawValue
        guard let mode = GenerationMode(rawValue: modeText) else {
            throw EngineError.invalid("mode", "mode must be quick or advanced")
        }
        let generation = GenerationPipeline.Request(
            project: try context.project(), owner: user.id, prompt: try body.required("prompt"), mode: mode,
            idempotencyKey: try body.string("idempotency_key") ?? request.headers[Self.idempotencyKey],
            provider: try body.string("provider"), baseVersion: try body.version("base_version"),
            fresh: try body.bool("fresh") ?? false)
        let pipeline = services.pipeline
        if request.headers[.accept]?.contains("text/event-stream") == true {
            return EventStream.generation { emit in try await pipeline.generate(generation, emit: emit) }
        }
        return APIJSON.response(200, try await pipeline.generate(generation, emit: { _ in }))
    }

    // MARK: Bodies

    /// The request's JSON object; an empty body is `{}`.
    private func body(_ request: Request) async throws -> Body {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: settings.maxBodyBytes)
        } catch is NIOTooManyBytesError {
            throw APIError.tooLarge(settings.maxBodyBytes)
        }
        guard buffer.readableBytes > 0 else { return Body(values: [:]) }
        guard let value = try? JSONDecoder().decode(JSONValue.self, from: Data(buffer.readableBytesView)) else {
            throw APIError.badJSON("the body is not JSON")
        }
        guard let object = value.objectValue else { throw APIError.badJSON("the body must be a JSON object") }
        return Body(values: object)
    }
}

/// A JSON body's fields, with the socket's parameter errors.
struct Body {
    let values: [String: JSONValue]

    func string(_ name: String) throws -> String? {
        switch values[name] {
        case nil, .null?: return nil
        case .string(let text)?: return text
        default: throw EngineError.invalid(name, "\(name) must be a string")
        }
    }

    func required(_ name: String) throws -> String {
        guard let text = try string(name) else { throw EngineError.invalid(name, "\(name) is required") }
        return text
    }

    func bool(_ name: String) throws -> Bool? {
        switch values[name] {
        case nil, .null?: return nil
        case .bool(let flag)?: return flag
        default: throw EngineError.invalid(name, "\(name) must be true or false")
        }
    }

    func object(_ name: String) throws -> [String: JSONValue]? {
        switch values[name] {
        case nil, .null?: return nil
        case .object(let object)?: return object
        default: throw EngineError.invalid(name, "\(name) must be an object")
        }
    }

    /// A version id (`v_…`) or number.
    func version(_ name: String) throws -> String? {
        switch values[name] {
        case nil, .null?: return nil
        case .string(let id)?: return id
        case let value? where value.intValue != nil: return String(value.intValue!)
        default: throw EngineError.invalid(name, "\(name) must be a version id or number")
        }
    }
}

/// A request's query parameters.
struct Query {
    let request: Request

    init(_ request: Request) { self.request = request }

    subscript(_ name: String) -> String? { request.uri.queryParameters[Substring(name)].map(String.init) }

    func int(_ name: String, default value: Int, in range: ClosedRange<Int>) throws -> Int {
        guard let text = self[name] else { return value }
        guard let number = Int(text), range.contains(number) else {
            throw EngineError.invalid(name, "\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }

    func bool(_ name: String) throws -> Bool? {
        switch self[name] {
        case nil: return nil
        case "true", "1": return true
        case "false", "0": return false
        default: throw EngineError.invalid(name, "\(name) must be true or false")
        }
    }
}

extension APIContext {
    /// The `:id` of a project route.
    func project() throws -> String {
        guard let id = parameters.get("id"), !id.isEmpty else { throw EngineError.invalid("project", "project id is required") }
        return id
    }
}

extension JSONValue {
    init(encoding value: some Encodable) throws {
        self = try JSONDecoder().decode(JSONValue.self, from: try WireCoding.encoder.encode(value))
    }
}
