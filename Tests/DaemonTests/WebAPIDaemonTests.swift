import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import Protocol
import Testing
import VectortTesting

/// The web API over real HTTP against the real daemon.
struct WebAPI {
    let base: String
    let daemon: DaemonProcess
    let client: AsyncVectortClient

    struct Answer {
        var status: Int
        var json: JSONValue
        var headers: HTTPHeaders
        var body: Data

        /// The error code of an error answer.
        var code: String? { json["error"]?["code"]?.stringValue }
    }

    static let secret = "web-api-test-secret-\(UUID().uuidString)"

    /// Redirects are answers to look at, not to follow.
    static let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))

    static func start(config: String = "", credentials: [String: String] = [:], environment: [String: String] = [:]) async throws -> WebAPI {
        var options = DaemonProcess.Options()
        options.environment.merge(environment) { _, new in new }
        options.config = "credits:\n  free_on_signup: 10\n" + config
        options.credentials["jwt-secret"] = secret
        options.credentials.merge(credentials) { _, new in new }
        let daemon = try await DaemonProcess(options)
        let client = try await daemon.connect()
        var address: String?
        for _ in 0..<200 {
            address = try await client.call(MethodName.getInfo)["listeners"]?["api"]?.stringValue
            if address != nil { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        return WebAPI(base: "http://" + (try #require(address, "the web API did not start")), daemon: daemon, client: client)
    }

    func call(
        _ method: HTTPMethod, _ path: String, _ body: JSONValue? = nil, token: String? = nil, raw: Data? = nil,
        headers extra: [(String, String)] = []
    ) async throws -> Answer {
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        let encoded = try body.map { try JSONEncoder().encode($0) }
        if let data = raw ?? encoded {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: data))
        }
        for (name, value) in extra { request.headers.add(name: name, value: value) }
        let response = try await Self.http.execute(request, timeout: .seconds(120))
        let bytes = Data((try await response.body.collect(upTo: 64 << 20)).readableBytesView)
        let json = (try? JSONDecoder().decode(JSONValue.self, from: bytes)) ?? .null
        return Answer(status: Int(response.status.code), json: json, headers: response.headers, body: bytes)
    }

    /// Registers and logs in; returns the user id and a session token.
    func signUp(_ email: String, password: String = "correct horse battery") async throws -> (user: String, token: String) {
        let registered = try await call(.POST, "/api/auth/register", ["email": .string(email), "password": .string(password)])
        try #require(registered.status == 201, "\(registered.json)")
        let login = try await call(.POST, "/api/auth/login", ["email": .string(email), "password": .string(password)])
        try #require(login.status == 200, "\(login.json)")
        return (try #require(registered.json["user"]?["id"]?.stringValue), try #require(login.json["token"]?.stringValue))
    }

    /// An HS256 token made by hand, as an attacker (or a test of expiry) would.
    static func token(header: JSONValue, claims: JSONValue, secret: String?) throws -> String {
        func part(_ value: JSONValue) throws -> String { base64URL(try JSONEncoder().encode(value)) }
        let signingInput = try part(header) + "." + part(claims)
        guard let secret else { return signingInput + "." }
        let mac = HMAC<SHA256>.authenticationCode(for: Data(signingInput.utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return signingInput + "." + base64URL(Data(mac))
    }

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func kid(_ secret: String) -> String {
        SHA256.hash(data: Data(secret.utf8)).prefix(4).map { String(format: "%02x", $0) }.joined()
    }
}

extension DaemonSuite {
    @Suite("the web API over real HTTP: accounts, sessions, projects, generation, credits")
    struct WebAPIDaemonTests {
        @Test func aPersonSignsUpBuildsAnAppAndSeesTheCharge() async throws {
            let api = try await WebAPI.start()
            let email = "ada-\(UUID().uuidString.prefix(6))@example.com"
            let (user, token) = try await api.signUp(email)

            let me = try await api.call(.GET, "/api/auth/me", token: token)
            #expect(me.status == 200 && me.json["email"]?.stringValue == email)
            #expect(me.headers.first(name: "X-Content-Type-Options") == "nosniff")
            #expect(me.headers.first(name: "Cache-Control") == "no-store")

            let created = try await api.call(.POST, "/api/projects", ["title": "Soap Shop"], token: token)
            #expect(created.status == 201, "\(created.json)")
            let project = try #require(created.json["id"]?.stringValue)
            let listed = try await api.call(.GET, "/api/projects", token: token)
            #expect(listed.json["projects"]?.arrayValue?.count == 1)

            let generated = try await api.call(
                .POST, "/api/projects/\(project)/generate", ["prompt": "a landing page for a soap shop"], token: token)
            #expect(generated.status == 200, "\(generated.json)")
            let charged = try #require(generated.json["credits_charged"]?.intValue)
            #expect(charged > 0)

            let code = try await api.call(.GET, "/api/projects/\(project)/code", token: token)
            #expect(code.status == 200 && (code.json["files"]?.arrayValue?.isEmpty == false))
            let balance = try await api.call(.GET, "/api/credits/balance", token: token)
            #expect(balance.json["total"]?.intValue == 10 - Int64(charged), "\(balance.json)")
            let history = try await api.call(.GET, "/api/credits/history", token: token)
            #expect(history.status == 200)

            let renamed = try await api.call(.PUT, "/api/projects/\(project)", ["title": "Soap & Co"], token: token)
            #expect(renamed.status == 200 && renamed.json["title"] == "Soap & Co")
            let zip = try await api.call(.POST, "/api/projects/\(project)/export/zip", token: token)
            #expect(zip.status == 200 && zip.headers.first(name: "Content-Type") == "application/zip")
            #expect(zip.body.prefix(2) == Data("PK".utf8))

            // Another user sees none of it.
            let (_, other) = try await api.signUp("eve-\(UUID().uuidString.prefix(6))@example.com")
            for (method, path) in [(HTTPMethod.GET, "/api/projects/\(project)"), (.DELETE, "/api/projects/\(project)"),
                                   (.GET, "/api/projects/\(project)/code")] {
                let answer = try await api.call(method, path, token: other)
                #expect(answer.status == 404 && answer.code == "io.vectort.NotFound", "\(path): \(answer.json)")
            }
            let still = try await api.client.call(MethodName.projectsGet, ["project": .string(project)])
            #expect(still["title"] == "Soap & Co")
            _ = user

            #expect(try await api.call(.DELETE, "/api/projects/\(project)", token: token).status == 204)
            #expect(try await api.call(.GET, "/api/projects/\(project)", token: token).status == 404)
        }

        @Test func theOpenAPIDocumentDescribesEveryRouteTheRouterHas() async throws {
            let api = try await WebAPI.start()
            let document = try await api.call(.GET, "/api/openapi.json")
            #expect(document.status == 200 && document.json["openapi"] == "3.1.0")
            #expect(document.json["x-undocumented"] == nil, "routes without a description: \(document.json["x-undocumented"] ?? .null)")
            #expect(document.json["x-missing"] == nil, "described routes the router lacks: \(document.json["x-missing"] ?? .null)")
            let paths = try #require(document.json["paths"]?.objectValue)
            #expect(paths.count >= 30)
            #expect(paths["/api/projects/{id}"]?["put"]?["security"] == [["bearer": []]])
            #expect(paths["/api/auth/login"]?["post"]?["security"] == [])
        }

        @Test func badAccountsAndBadBodiesGetTheirStatusAndChangeNothing() async throws {
            let api = try await WebAPI.start()
            let email = "grace-\(UUID().uuidString.prefix(6))@example.com"
            _ = try await api.signUp(email)

            let duplicate = try await api.call(
                .POST, "/api/auth/register", ["email": .string(email.uppercased()), "password": "another password"])
            #expect(duplicate.status == 409 && duplicate.code == "io.vectort.AlreadyExists")
            let short = try await api.call(.POST, "/api/auth/register", ["email": "short@example.com", "password": "1234567"])
            #expect(short.status == 400 && short.json["error"]?["parameters"]?["parameter"] == "password")
            let malformed = try await api.call(.POST, "/api/auth/register", raw: Data("{\"email\": ".utf8))
            #expect(malformed.status == 400 && malformed.code == "io.vectort.InvalidMessage")

            let wrong = try await api.call(.POST, "/api/auth/login", ["email": .string(email), "password": "not the password"])
            let unknown = try await api.call(.POST, "/api/auth/login", ["email": "nobody@example.com", "password": "not the password"])
            #expect(wrong.status == 401 && unknown.status == 401)
            #expect(wrong.json["error"]?["message"] == unknown.json["error"]?["message"], "the same answer for both")

            let missing = try await api.call(.GET, "/api/auth/me")
            #expect(missing.status == 401 && missing.code == "io.vectort.Unauthenticated")
            #expect(missing.headers.first(name: "WWW-Authenticate") == "Bearer")
            #expect(try await api.call(.GET, "/api/nothing/here").status == 404)

            let users = try await api.client.call(MethodName.usersList)["users"]?.arrayValue?.count
            #expect(users == 1, "nothing but the first registration was stored")
        }

        @Test func onlyLiveSessionsSignedWithTheSecretCount() async throws {
            let api = try await WebAPI.start(config: "api:\n  max_body_bytes: 2048\n")
            let (user, token) = try await api.signUp("sam-\(UUID().uuidString.prefix(6))@example.com")
            let now = Date().timeIntervalSince1970
            let header: JSONValue = ["alg": "HS256", "typ": "JWT", "kid": .string(WebAPI.kid(WebAPI.secret))]
            let claims = { (exp: Double) -> JSONValue in
                ["sub": .string(user), "jti": "deadbeef", "iat": .double(now - 100), "exp": .double(exp)]
            }
            let forged = try WebAPI.token(header: header, claims: claims(now + 3600), secret: "some other secret")
            let none = try WebAPI.token(header: ["alg": "none", "typ": "JWT"], claims: claims(now + 3600), secret: nil)
            let expired = try WebAPI.token(header: header, claims: claims(now - 10), secret: WebAPI.secret)
            let valid = try WebAPI.token(header: header, claims: claims(now + 3600), secret: WebAPI.secret)
            for (name, candidate) in [("forged", forged), ("alg none", none), ("expired", expired), ("garbage", "a.b.c")] {
                let answer = try await api.call(.GET, "/api/auth/me", token: candidate)
                #expect(answer.status == 401, "\(name) token accepted: \(answer.json)")
            }
            #expect(try await api.call(.GET, "/api/auth/me", token: valid).status == 200, "the same secret signs a valid one")

            let big = try await api.call(
                .POST, "/api/projects", token: token, raw: Data(("{\"title\": \"" + String(repeating: "x", count: 4096) + "\"}").utf8))
            #expect(big.status == 413 && big.code == "io.vectort.MessageTooLarge")

            // Logout revokes that session only; disabling the user ends every one at once.
            #expect(try await api.call(.POST, "/api/auth/logout", token: token).status == 204)
            #expect(try await api.call(.GET, "/api/auth/me", token: token).status == 401)
            #expect(try await api.call(.GET, "/api/auth/me", token: valid).status == 200)
            _ = try await api.client.call(MethodName.usersDisable, ["user": .string(user)])
            #expect(try await api.call(.GET, "/api/auth/me", token: valid).status == 401)
        }

        @Test func generationStreamsServerSentEventsAndAnImportedUserSignsIn() async throws {
            let api = try await WebAPI.start()
            // A user of the earlier deployment, with its SHA256-crypt hash.
            _ = try await api.client.call(
                MethodName.usersImport,
                ["email": "old.timer@example.com", "password_hash": "$5$rounds=5000$abcdefgh12345678$rTQlozObndtG5TRbUS5FJa39DJ0HD8RXzZEgR4vxT4B"])
            var token: String?
            for _ in 0..<2 {
                let login = try await api.call(
                    .POST, "/api/auth/login", ["email": "Old.Timer@example.com", "password": "correct horse battery staple"])
                #expect(login.status == 200, "\(login.json)")
                token = login.json["token"]?.stringValue
            }
            let session = try #require(token)
            _ = try await api.client.call(
                MethodName.creditsGrant, ["user": .string(try #require(try await api.call(.GET, "/api/auth/me", token: session).json["id"]?.stringValue)),
                                          "amount": 20, "reason": "test"])
            let project = try #require(try await api.call(.POST, "/api/projects", ["title": "Tea Shop"], token: session).json["id"]?.stringValue)
            let stream = try await api.call(
                .POST, "/api/projects/\(project)/generate", ["prompt": "a landing page for a tea shop"], token: session,
                headers: [("Accept", "text/event-stream")])
            #expect(stream.status == 200)
            #expect(stream.headers.first(name: "Content-Type")?.hasPrefix("text/event-stream") == true)
            let text = String(decoding: stream.body, as: UTF8.self)
            let events = text.split(separator: "\n").filter { $0.hasPrefix("event: ") }.map { String($0.dropFirst(7)) }
            #expect(events.first == "started" && events.contains("file") && events.last == "result", "\(events)")
            let last = try #require(text.components(separatedBy: "event: result\ndata: ").last?.split(separator: "\n").first)
            let result = try JSONDecoder().decode(JSONValue.self, from: Data(last.utf8))
            #expect(result["version"]?.stringValue?.hasPrefix("v_") == true, "\(result)")
        }

        @Test func versionsGenerationsAccountsAndThePasswordThroughTheAPI() async throws {
            let api = try await WebAPI.start()
            let email = "kit-\(UUID().uuidString.prefix(6))@example.com"
            let (_, token) = try await api.signUp(email)
            let project = try #require(try await api.call(.POST, "/api/projects", ["title": "Kites"], token: token).json["id"]?.stringValue)
            for prompt in ["a landing page for kites", "make the title say Kite Club"] {
                let answer = try await api.call(.POST, "/api/projects/\(project)/generate", ["prompt": .string(prompt)], token: token)
                #expect(answer.status == 200, "\(answer.json)")
            }
            let versions = try await api.call(.GET, "/api/projects/\(project)/versions", token: token)
            #expect(versions.json["versions"]?.arrayValue?.count == 2)
            let diff = try await api.call(.GET, "/api/projects/\(project)/diff?from=1&to=2", token: token)
            #expect(diff.status == 200, "\(diff.json)")
            #expect(try await api.call(.GET, "/api/projects/\(project)/diff?from=1", token: token).status == 400)
            let restored = try await api.call(.POST, "/api/projects/\(project)/restore", ["version": 1], token: token)
            #expect(restored.status == 201 && restored.json["number"]?.intValue == 3, "\(restored.json)")
            let generations = try await api.call(.GET, "/api/projects/\(project)/generations", token: token)
            #expect(generations.json["generations"]?.arrayValue?.count == 2)
            #expect(try await api.call(.GET, "/api/payments", token: token).json["payments"]?.arrayValue?.isEmpty == true)

            #expect(try await api.call(.GET, "/api/accounts", token: token).json["accounts"] == .array([]))
            let noKey = try await api.call(.POST, "/api/accounts/vercel", ["token": "vc_x"], token: token)
            #expect(noKey.status == 503 && noKey.json["error"]?["parameters"]?["reason"] == "data_key_missing")

            let wrong = try await api.call(
                .POST, "/api/auth/password", ["current_password": "not it", "password": "a brand new password"], token: token)
            #expect(wrong.status == 403)
            let changed = try await api.call(
                .POST, "/api/auth/password", ["current_password": "correct horse battery", "password": "a brand new password"], token: token)
            #expect(changed.status == 204)
            #expect(try await api.call(.GET, "/api/auth/me", token: token).status == 401, "sessions before the change have ended")
            let again = try await api.call(.POST, "/api/auth/login", ["email": .string(email), "password": "a brand new password"])
            #expect(again.status == 200)
            let fresh = try #require(again.json["token"]?.stringValue)
            #expect(try await api.call(.GET, "/api/auth/me", token: fresh).status == 200)
        }

        @Test func aScriptGuessingPasswordsIsSlowedWithRetryAfter() async throws {
            let api = try await WebAPI.start(config: "api:\n  rate_limit: {burst: 3, per_minute: 6}\n  cors_origins: [\"https://app.example.com\"]\n")
            var statuses: [Int] = []
            var retryAfter: String?
            for _ in 0..<5 {
                let answer = try await api.call(.POST, "/api/auth/login", ["email": "victim@example.com", "password": "guess guess"])
                statuses.append(answer.status)
                if answer.status == 429 { retryAfter = answer.headers.first(name: "Retry-After") }
            }
            #expect(statuses.prefix(3).allSatisfy { $0 == 401 } && statuses.suffix(2).allSatisfy { $0 == 429 }, "\(statuses)")
            #expect(retryAfter.flatMap(Int.init).map { $0 >= 1 && $0 <= 10 } == true, "\(retryAfter ?? "none")")

            let preflight = try await api.call(
                .OPTIONS, "/api/projects",
                headers: [("Origin", "https://app.example.com"), ("Access-Control-Request-Method", "POST")])
            #expect(preflight.status == 204)
            #expect(preflight.headers.first(name: "Access-Control-Allow-Origin") == "https://app.example.com")
            let foreign = try await api.call(
                .OPTIONS, "/api/projects", headers: [("Origin", "https://evil.example"), ("Access-Control-Request-Method", "POST")])
            #expect(foreign.headers.first(name: "Access-Control-Allow-Origin") == nil)
        }
    }
}

extension DaemonSuite.WebAPIDaemonTests {
    /// A browser that closes a streaming generation cancels it: the hold comes back, nothing is charged.
    @Test func aBrowserThatLeavesAStreamingGenerationGetsItsCreditsBack() async throws {
        try await withFakeLLMServer(.openai, apiKey: DaemonSuite.GenerationDaemonTests.key) { fake in
            fake.setDefaultScript(.stall(beforeFirstToken: .seconds(60)))
            let api = try await WebAPI.start(
                config: """
                    generation:
                      chain: [openai]
                    providers:
                      openai:
                        base_url: "\(fake.baseURL)"
                        timeouts: {first_token_seconds: 30}

                    """,
                credentials: ["openai-api-key": DaemonSuite.GenerationDaemonTests.key])
            let (_, token) = try await api.signUp("leaver-\(UUID().uuidString.prefix(6))@example.com")
            let project = try #require(try await api.call(.POST, "/api/projects", ["title": "Leaver"], token: token).json["id"]?.stringValue)
            let base = api.base
            let seen = await Task {
                var request = HTTPClientRequest(url: base + "/api/projects/\(project)/generate")
                request.method = .POST
                request.headers.add(name: "Authorization", value: "Bearer \(token)")
                request.headers.add(name: "Accept", value: "text/event-stream")
                request.headers.add(name: "Content-Type", value: "application/json")
                request.body = .bytes(ByteBuffer(string: #"{"prompt": "a shop that never arrives"}"#))
                var text = ""
                guard let response = try? await WebAPI.http.execute(request, timeout: .seconds(60)) else { return "[no response]" }
                // Read until the hold is taken, then go away (the body is dropped unread).
                do {
                    for try await chunk in response.body {
                        text += String(buffer: chunk)
                        if text.contains("event: started") { break }
                    }
                } catch {
                    text += "\n[read failed: \(error)]"
                }
                return text
            }.value
            #expect(seen.contains("event: started"), "\(seen)")
            let deadline = ContinuousClock.now + .seconds(20)
            var total: Int64?
            while ContinuousClock.now < deadline {
                // The pool may hand back the connection the server closed: a failed poll is polled again.
                total = (try? await api.call(.GET, "/api/credits/balance", token: token))?.json["total"]?.intValue
                if total == 10 { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(total == 10, "the hold came back")
            let generations = try await api.call(.GET, "/api/projects/\(project)/generations", token: token)
            #expect(generations.json["generations"]?.arrayValue?.first?["status"] == "cancelled", "\(generations.json)")
        }
    }
}
