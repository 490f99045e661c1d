public import AsyncHTTPClient
import Crypto
import Foundation
import JWTKit
import Logging
import NIOCore
import NIOHTTP1
import Protocol
import VectortCore

/// OAuth 2.0 sign-in settings: one entry per configured provider, the secrets, and where the
/// flow starts and ends.
public struct OAuthSettings: Sendable {
    public struct Provider: Sendable {
        public var clientID: String
        public var clientSecret: String?
        public var authURL: String
        public var tokenURL: String
        /// Google and Apple: the id_token's keys and issuer.
        public var jwksURL: String = ""
        public var issuers: [String] = []
        /// GitHub: the API for `/user` and `/user/emails`.
        public var apiBase: String = ""
        /// Apple: the client secret is an ES256 JWT made from the `.p8` key.
        public var teamID: String = ""
        public var keyID: String = ""
        public var privateKeyPEM: String?

        public init(
            clientID: String, clientSecret: String?, authURL: String, tokenURL: String, jwksURL: String = "", issuers: [String] = [],
            apiBase: String = "", teamID: String = "", keyID: String = "", privateKeyPEM: String? = nil
        ) {
            self.clientID = clientID
            self.clientSecret = clientSecret
            self.authURL = authURL
            self.tokenURL = tokenURL
            self.jwksURL = jwksURL
            self.issuers = issuers
            self.apiBase = apiBase
            self.teamID = teamID
            self.keyID = keyID
            self.privateKeyPEM = privateKeyPEM
        }
    }

    /// Configured providers by name (`google`, `github`, `apple`).
    public var providers: [String: Provider]
    /// The API's external URL: callbacks are `<publicURL>/api/auth/<provider>/callback`.
    public var publicURL: String

    public init(providers: [String: Provider], publicURL: String) {
        self.providers = providers
        self.publicURL = publicURL
    }
}

/// What a callback needs to finish a sign-in the login route started: kept server-side, single
/// use, ten minutes, bound to the browser by a cookie.
struct PendingSignIn: Sendable {
    var provider: String
    var cookie: String
    var verifier: String
    var nonce: String
    var expires: Date
}

/// The identity a provider vouched for.
struct ProviderIdentity: Sendable {
    var subject: String
    var email: String
    var emailVerified: Bool
    var name: String?
}

struct OAuthFailure: Error {
    var code: String
    var message: String
}

/// The OAuth flows: authorize URLs with state, PKCE and nonce; code exchange; id_token checks
/// against the provider's JWKS (cached by `Cache-Control`, fetched again once for an unknown
/// `kid`); GitHub's user and verified primary email; Apple's ES256 client secret.
final class OAuthFlows: Sendable {
    let settings: OAuthSettings
    let http: HTTPClient
    private let pending = Locked<[String: PendingSignIn]>([:])
    private let jwks = Locked<[String: (keys: JWTKeyCollection, kids: Set<String>, expires: Date)]>([:])

    static let cookieName = "__Host-vectortd-oauth"

    init(settings: OAuthSettings, http: HTTPClient) {
        self.settings = settings
        self.http = http
    }

    func redirectURI(_ provider: String) -> String { settings.publicURL + "/api/auth/\(provider)/callback" }

    /// Starts a sign-in: the provider's authorize URL and the cookie value that binds it.
    func start(_ provider: String) throws -> (url: String, cookie: String) {
        guard let config = settings.providers[provider] else {
            throw OAuthFailure(code: "not_configured", message: "sign-in with \(provider) is not configured")
        }
        let state = Self.random(32), cookie = Self.random(32), verifier = Self.random(48), nonce = Self.random(24)
        let now = Date()
        pending.withLock { pending in
            if pending.count > 10_000 { pending = pending.filter { $0.value.expires > now } }
            pending[state] = PendingSignIn(provider: provider, cookie: cookie, verifier: verifier, nonce: nonce, expires: now.addingTimeInterval(600))
        }
        var query: [(String, String)] = [
            ("client_id", config.clientID), ("redirect_uri", redirectURI(provider)), ("response_type", "code"), ("state", state),
        ]
        switch provider {
        case "google":
            query += [("scope", "openid email profile"), ("nonce", nonce), ("code_challenge", Self.challenge(verifier)), ("code_challenge_method", "S256")]
        case "github":
            query += [("scope", "read:user user:email"), ("code_challenge", Self.challenge(verifier)), ("code_challenge_method", "S256")]
        default:
            // Apple: form_post is required with scopes; PKCE is not documented for the web flow.
            query += [("scope", "name email"), ("response_mode", "form_post"), ("nonce", nonce)]
        }
        return (config.authURL + "?" + Self.form(query), cookie)
    }

    /// Finishes a sign-in: checks state and cookie, exchanges the code, and returns who it is.
    func finish(_ provider: String, state: String?, code: String?, cookie: String?, error: String?) async throws -> ProviderIdentity {
        guard let state, let entry = pending.withLock({ $0.removeValue(forKey: state) }) else {
            throw OAuthFailure(code: "invalid_state", message: "the sign-in was not started here, took too long, or was already used")
        }
        guard entry.provider == provider, entry.expires > Date(), let cookie,
            Self.constantTimeEqual(cookie, entry.cookie)
        else { throw OAuthFailure(code: "invalid_state", message: "the sign-in does not belong to this browser, or took too long") }
        if let error { throw OAuthFailure(code: "provider_error", message: "\(provider) answered \(error)") }
        guard let code, !code.isEmpty, let config = settings.providers[provider] else {
            throw OAuthFailure(code: "invalid_request", message: "the callback carries no code")
        }
        switch provider {
        case "github": return try await github(config, code: code, verifier: entry.verifier)
        case "google": return try await oidc(provider, config, code: code, verifier: entry.verifier, nonce: entry.nonce, secret: config.clientSecret ?? "")
        default: return try await oidc(provider, config, code: code, verifier: nil, nonce: entry.nonce, secret: try appleClientSecret(config))
        }
    }

    // MARK: Providers

    private func oidc(_ provider: String, _ config: OAuthSettings.Provider, code: String, verifier: String?, nonce: String, secret: String)
        async throws -> ProviderIdentity
    {
        var form: [(String, String)] = [
            ("grant_type", "authorization_code"), ("code", code), ("client_id", config.clientID), ("client_secret", secret),
            ("redirect_uri", redirectURI(provider)),
        ]
        if let verifier { form.append(("code_verifier", verifier)) }
        let (status, answer, _) = try await post(config.tokenURL, form: form)
        guard (200..<300).contains(status), let idToken = answer["id_token"]?.stringValue else {
            throw OAuthFailure(
                code: "provider_error", message: "\(provider) refused the code: \(answer["error"]?.stringValue ?? "HTTP \(status)")")
        }
        let claims = try await verifyIDToken(idToken, config)
        guard claims.nonce == nonce else { throw OAuthFailure(code: "invalid_token", message: "the id_token's nonce does not match") }
        guard let email = claims.email, !email.isEmpty else {
            throw OAuthFailure(code: "email_not_verified", message: "\(provider) did not share an email address")
        }
        return ProviderIdentity(subject: claims.sub.value, email: email, emailVerified: claims.email_verified?.value == true, name: claims.name)
    }

    private func github(_ config: OAuthSettings.Provider, code: String, verifier: String) async throws -> ProviderIdentity {
        let (status, answer, _) = try await post(
            config.tokenURL,
            form: [
                ("client_id", config.clientID), ("client_secret", config.clientSecret ?? ""), ("code", code),
                ("redirect_uri", redirectURI("github")), ("code_verifier", verifier),
            ])
        // GitHub reports a bad code as HTTP 200 with `error`.
        guard (200..<300).contains(status), answer["error"] == nil, let token = answer["access_token"]?.stringValue else {
            throw OAuthFailure(
                code: "provider_error", message: "github refused the code: \(answer["error"]?.stringValue ?? "HTTP \(status)")")
        }
        let user = try await githubGet(config.apiBase + "/user", token: token)
        let emails = try await githubGet(config.apiBase + "/user/emails", token: token)
        guard let id = user["id"]?.intValue.map(String.init) ?? user["id"]?.stringValue else {
            throw OAuthFailure(code: "provider_error", message: "github did not say who the user is")
        }
        guard let primary = emails.arrayValue?.first(where: { $0["primary"]?.boolValue == true && $0["verified"]?.boolValue == true }),
            let email = primary["email"]?.stringValue
        else { throw OAuthFailure(code: "email_not_verified", message: "the GitHub account has no verified primary email") }
        return ProviderIdentity(subject: id, email: email, emailVerified: true, name: user["name"]?.stringValue ?? user["login"]?.stringValue)
    }

    private func githubGet(_ url: String, token: String) async throws -> JSONValue {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Accept", value: "application/vnd.github+json")
        request.headers.add(name: "User-Agent", value: "vectortd")
        let (status, value, _) = try await execute(request)
        guard (200..<300).contains(status) else {
            throw OAuthFailure(code: "provider_error", message: "github answered \(status) for \(url)")
        }
        return value
    }

    /// Apple's client secret: an ES256 JWT signed with the `.p8` key, valid for an hour.
    func appleClientSecret(_ config: OAuthSettings.Provider) async throws -> String {
        guard let pem = config.privateKeyPEM, let key = try? ES256PrivateKey(pem: pem) else {
            throw OAuthFailure(code: "not_configured", message: "the apple-private-key credential is not a P-256 .p8 key")
        }
        let keys = JWTKeyCollection()
        await keys.add(ecdsa: key, kid: JWKIdentifier(string: config.keyID))
        let now = Date()
        let payload = AppleClientSecret(
            iss: IssuerClaim(value: config.teamID), iat: IssuedAtClaim(value: now), exp: ExpirationClaim(value: now.addingTimeInterval(3600)),
            aud: AudienceClaim(value: "https://appleid.apple.com"), sub: SubjectClaim(value: config.clientID))
        return try await keys.sign(payload, kid: JWKIdentifier(string: config.keyID))
    }

    // MARK: id_token

    func verifyIDToken(_ token: String, _ config: OAuthSettings.Provider) async throws -> IDTokenClaims {
        let kid = Self.kid(of: token)
        var keys = try await jwksKeys(config.jwksURL, refresh: false)
        if let kid, !keys.kids.contains(kid) {
            // A key the provider rotated in since the cache was filled: fetch once more.
            keys = try await jwksKeys(config.jwksURL, refresh: true)
        }
        guard let kid, keys.kids.contains(kid) else { throw OAuthFailure(code: "invalid_token", message: "the id_token's key is unknown") }
        let claims: IDTokenClaims
        do {
            claims = try await keys.keys.verify(token, as: IDTokenClaims.self)
        } catch {
            throw OAuthFailure(code: "invalid_token", message: "the id_token does not verify: \(error)")
        }
        guard config.issuers.contains(claims.iss.value) else {
            throw OAuthFailure(code: "invalid_token", message: "the id_token's issuer \(claims.iss.value) is not the provider")
        }
        guard claims.aud.value.contains(config.clientID) else {
            throw OAuthFailure(code: "invalid_token", message: "the id_token is for another client")
        }
        return claims
    }

    private func jwksKeys(_ url: String, refresh: Bool) async throws -> (keys: JWTKeyCollection, kids: Set<String>) {
        if !refresh, let cached = jwks.withLock({ $0[url] }), cached.expires > Date() { return (cached.keys, cached.kids) }
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Accept", value: "application/json")
        let response = try await http.execute(request, timeout: .seconds(15))
        let body = try await response.body.collect(upTo: 1 << 20)
        guard response.status == .ok else { throw OAuthFailure(code: "provider_error", message: "the provider's keys answered \(response.status.code)") }
        let set = try JSONDecoder().decode(JWKS.self, from: Data(body.readableBytesView))
        let keys = JWTKeyCollection()
        var kids: Set<String> = []
        for key in set.keys {
            guard let id = key.keyIdentifier else { continue }
            if (try? await keys.add(jwk: key)) != nil { kids.insert(id.string) }
        }
        var maxAge = 3600.0
        if let control = response.headers.first(name: "Cache-Control"),
            let part = control.split(separator: ",").first(where: { $0.trimmingCharacters(in: .whitespaces).hasPrefix("max-age=") }),
            let seconds = Double(part.trimmingCharacters(in: .whitespaces).dropFirst("max-age=".count))
        {
            maxAge = min(seconds, 86_400)
        }
        jwks.withLock { $0[url] = (keys, kids, Date().addingTimeInterval(maxAge)) }
        return (keys, kids)
    }

    static func kid(of token: String) -> String? {
        guard let header = token.split(separator: ".").first, let data = TokenEncoding.base64URLDecode(String(header)),
            let value = try? JSONDecoder().decode(JSONValue.self, from: data)
        else { return nil }
        return value["kid"]?.stringValue
    }

    // MARK: HTTP

    private func post(_ url: String, form: [(String, String)]) async throws -> (Int, JSONValue, HTTPHeaders) {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "Accept", value: "application/json")
        request.body = .bytes(ByteBuffer(string: Self.form(form)))
        return try await execute(request)
    }

    private func execute(_ request: HTTPClientRequest) async throws -> (Int, JSONValue, HTTPHeaders) {
        do {
            let response = try await http.execute(request, timeout: .seconds(15))
            let body = try await response.body.collect(upTo: 1 << 20)
            let value = (try? JSONDecoder().decode(JSONValue.self, from: Data(body.readableBytesView))) ?? .null
            return (Int(response.status.code), value, response.headers)
        } catch let failure as OAuthFailure {
            throw failure
        } catch {
            throw OAuthFailure(code: "provider_unavailable", message: "cannot reach the provider: \(error)")
        }
    }

    // MARK: Encoding

    static func random(_ bytes: Int) -> String { TokenEncoding.base64URL(TokenEncoding.randomBytes(bytes)) }

    static func challenge(_ verifier: String) -> String { TokenEncoding.base64URL(Data(SHA256.hash(data: Data(verifier.utf8)))) }

    static func form(_ pairs: [(String, String)]) -> String { TokenEncoding.formEncode(pairs) }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}

/// The claims of Google's and Apple's id_tokens that sign-in reads.
struct IDTokenClaims: JWTPayload {
    var iss: IssuerClaim
    var aud: AudienceClaim
    var exp: ExpirationClaim
    var sub: SubjectClaim
    var email: String?
    /// Apple sends it as the string "true".
    var email_verified: BoolClaim?
    var nonce: String?
    var name: String?

    func verify(using algorithm: some JWTAlgorithm) async throws {
        // A minute of clock skew.
        try exp.verifyNotExpired(currentDate: Date().addingTimeInterval(-60))
    }
}

struct AppleClientSecret: JWTPayload {
    var iss: IssuerClaim
    var iat: IssuedAtClaim
    var exp: ExpirationClaim
    var aud: AudienceClaim
    var sub: SubjectClaim

    func verify(using algorithm: some JWTAlgorithm) async throws {}
}
