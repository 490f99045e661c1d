import Crypto
import CryptoExtras
public import Foundation
import Hummingbird
import HTTPTypes
import JWTKit
import NIOCore
import Protocol
public import VectortCore

/// Loopback Google, GitHub and Apple sign-in on one server (`/google/…`, `/github/…`,
/// `/apple/…`): token endpoints that check the client, the code, the redirect URI and PKCE
/// (Apple: the ES256 client secret against the `.p8` key it handed out), id_tokens signed RS256
/// with a JWKS it serves (`Cache-Control: max-age`), GitHub's `/user` and `/user/emails` and its
/// HTTP-200 error bodies. A test plays the browser: `approve` takes the authorize URL the daemon
/// redirected to and returns the code the provider would send back.
public final class FakeOAuth: Sendable {
    public struct Identity: Sendable {
        public var subject: String
        public var email: String
        public var emailVerified: Bool
        public var name: String?

        public init(subject: String, email: String, emailVerified: Bool = true, name: String? = nil) {
            self.subject = subject
            self.email = email
            self.emailVerified = emailVerified
            self.name = name
        }
    }

    /// Ways the next id_token is wrong.
    public enum Flaw: Sendable {
        case none, wrongAudience, wrongIssuer, expired, wrongNonce, unknownKey
    }

    struct Grant {
        var provider: String
        var identity: Identity
        var clientID: String
        var redirectURI: String
        var challenge: String?
        var nonce: String?
    }

    struct State {
        var grants: [String: Grant] = [:]
        var flaw = Flaw.none
        var jwksFetches = 0
        var currentKid = "fake-1"
        var keys: [String: FakeRSAKey] = [:]
    }

    public let port: Int
    public var baseURL: String { "http://127.0.0.1:\(port)" }
    public let clientSecret = "client-secret-\(UUID().uuidString.prefix(8))"
    /// Apple's `.p8` key for the client secret, as PKCS#8 PEM (the apple-private-key credential).
    public let applePrivateKeyPEM: String
    public let appleTeamID = "TEAM123456"
    public let appleKeyID = "KEY1234567"
    private let state: Locked<State>
    private let task: Task<Void, any Error>

    private init(port: Int, applePEM: String, state: Locked<State>, task: Task<Void, any Error>) {
        self.port = port
        applePrivateKeyPEM = applePEM
        self.state = state
        self.task = task
    }

    public static func start() async throws -> FakeOAuth {
        let first = try FakeRSAKey(backing: _RSA.Signing.PrivateKey(keySize: .bits2048))
        let state = Locked(State(keys: ["fake-1": first]))
        let appleKey = P256.Signing.PrivateKey()
        let router = Router()
        let box = Locked<FakeOAuth?>(nil)
        for provider in ["google", "github", "apple"] {
            router.post(RouterPath("/\(provider)/token")) { request, _ in
                guard let fake = box.value else { return FakeHTTP.reply(503, ["error": "starting"]) }
                let form = try await Self.form(request)
                return try await fake.token(provider, form, appleKey: appleKey.publicKey)
            }
        }
        let keys: @Sendable (Request, BasicRequestContext) async throws -> Response = { _, _ in
            let keys = state.withLock { state -> [(String, FakeRSAKey)] in
                state.jwksFetches += 1
                return state.keys.sorted { $0.key < $1.key }
            }
            var entries: [JSONValue] = []
            for (kid, key) in keys {
                let (modulus, exponent) = try key.publicKey.getKeyPrimitives()
                entries.append([
                    "kty": "RSA", "alg": "RS256", "use": "sig", "kid": .string(kid), "n": .string(Self.base64URL(modulus)),
                    "e": .string(Self.base64URL(exponent)),
                ])
            }
            var response = FakeHTTP.reply(200, ["keys": .array(entries)])
            response.headers[.cacheControl] = "public, max-age=3600, must-revalidate, no-transform"
            return response
        }
        router.get("/google/keys", use: keys)
        router.get("/apple/keys", use: keys)
        router.get("/github/api/user") { request, _ in
            guard let grant = box.value?.grant(forToken: request.headers[.authorization]) else {
                return FakeHTTP.reply(401, ["message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"])
            }
            return FakeHTTP.reply(
                200,
                ["id": .int(Int64(grant.identity.subject) ?? 1), "login": "octo", "name": grant.identity.name.map { .string($0) } ?? .null, "email": .null])
        }
        router.get("/github/api/user/emails") { request, _ in
            guard let grant = box.value?.grant(forToken: request.headers[.authorization]) else {
                return FakeHTTP.reply(401, ["message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"])
            }
            return FakeHTTP.reply(
                200,
                [
                    ["email": "octo@users.noreply.github.com", "primary": false, "verified": true, "visibility": .null],
                    ["email": .string(grant.identity.email), "primary": true, "verified": .bool(grant.identity.emailVerified), "visibility": "public"],
                ])
        }
        let (port, task) = await LoopbackServer.start(router, label: "fake-oauth")
        let fake = FakeOAuth(port: port, applePEM: appleKey.pemRepresentation, state: state, task: task)
        box.value = fake
        return fake
    }

    public func shutdown() async {
        task.cancel()
        _ = try? await task.value
    }

    // MARK: What tests arrange and read

    /// Configuration for the daemon: every provider pointed at this fake.
    public func configuration(publicURL: String, frontendURL: String = "https://app.example.com") -> String {
        """
        api:
          public_url: "\(publicURL)"
          frontend_url: "\(frontendURL)"
        oauth:
          google: {client_id: "google-client", auth_url: "\(baseURL)/google/authorize", token_url: "\(baseURL)/google/token", jwks_url: "\(baseURL)/google/keys", issuer: "https://accounts.google.com"}
          github: {client_id: "github-client", auth_url: "\(baseURL)/github/authorize", token_url: "\(baseURL)/github/token", api_base: "\(baseURL)/github/api"}
          apple: {client_id: "apple-client", team_id: "\(appleTeamID)", key_id: "\(appleKeyID)", auth_url: "\(baseURL)/apple/authorize", token_url: "\(baseURL)/apple/token", jwks_url: "\(baseURL)/apple/keys", issuer: "https://appleid.apple.com"}

        """
    }

    /// The credentials the daemon needs for this fake.
    public var credentials: [String: String] {
        ["google-client-secret": clientSecret, "github-client-secret": clientSecret, "apple-private-key": applePrivateKeyPEM]
    }

    /// The user consents: returns the code and state the provider redirects back with.
    public func approve(_ authorizeURL: String, as identity: Identity) throws -> (code: String, state: String) {
        guard let components = URLComponents(string: authorizeURL) else { throw FakeOAuthError.badURL }
        let query = Dictionary((components.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { $1 })
        let provider = components.path.split(separator: "/").first.map(String.init) ?? ""
        guard let client = query["client_id"], let redirect = query["redirect_uri"], let stateValue = query["state"],
            query["response_type"] == "code"
        else { throw FakeOAuthError.badURL }
        if provider == "apple", query["response_mode"] != "form_post" { throw FakeOAuthError.badURL }
        let code = "code-" + UUID().uuidString
        state.withLock {
            $0.grants[code] = Grant(
                provider: provider, identity: identity, clientID: client, redirectURI: redirect, challenge: query["code_challenge"],
                nonce: query["nonce"])
        }
        return (code, stateValue)
    }

    /// The next id_tokens carry this flaw.
    public func setFlaw(_ flaw: Flaw) { state.withLock { $0.flaw = flaw } }

    /// Signs with a new key from now on (its `kid` is unknown to a cache filled before).
    public func rotateKey() throws {
        let key = try FakeRSAKey(backing: _RSA.Signing.PrivateKey(keySize: .bits2048))
        state.withLock {
            let kid = "fake-\($0.keys.count + 1)"
            $0.keys[kid] = key
            $0.currentKid = kid
        }
    }

    public var jwksFetches: Int { state.withLock { $0.jwksFetches } }

    // MARK: Endpoints

    private func token(_ provider: String, _ form: [String: String], appleKey: P256.Signing.PublicKey) async throws -> Response {
        let failure = { (error: String) -> Response in
            // GitHub answers errors with 200; the OIDC providers with 400.
            FakeHTTP.reply(provider == "github" ? 200 : 400, ["error": .string(error)])
        }
        guard let code = form["code"], let grant = state.withLock({ $0.grants.removeValue(forKey: code) }), grant.provider == provider
        else { return failure(provider == "github" ? "bad_verification_code" : "invalid_grant") }
        guard form["client_id"] == grant.clientID, form["redirect_uri"] == grant.redirectURI else {
            return failure(provider == "github" ? "redirect_uri_mismatch" : "invalid_grant")
        }
        if provider == "apple" {
            guard let secret = form["client_secret"], await Self.appleSecretValid(secret, key: appleKey, team: appleTeamID, kid: appleKeyID, client: grant.clientID)
            else { return failure("invalid_client") }
        } else {
            guard form["client_secret"] == clientSecret else { return failure(provider == "github" ? "incorrect_client_credentials" : "invalid_client") }
            guard let challenge = grant.challenge, let verifier = form["code_verifier"],
                Self.base64URL(Data(SHA256.hash(data: Data(verifier.utf8)))) == challenge
            else { return failure("invalid_grant") }
        }
        let accessToken = "at-" + UUID().uuidString
        state.withLock { $0.grants["token:" + accessToken] = grant }
        if provider == "github" {
            return FakeHTTP.reply(200, ["access_token": .string(accessToken), "token_type": "bearer", "scope": "read:user,user:email"])
        }
        let idToken = try await idToken(grant)
        return FakeHTTP.reply(
            200, ["access_token": .string(accessToken), "token_type": "Bearer", "expires_in": 3599, "id_token": .string(idToken)])
    }

    private func idToken(_ grant: Grant) async throws -> String {
        let (flaw, kid, key) = state.withLock { ($0.flaw, $0.currentKid, $0.keys[$0.currentKid]!) }
        let signer = JWTKeyCollection()
        var signingKid = kid
        var signingKey = key
        if flaw == .unknownKey {
            signingKid = "never-published"
            signingKey = try FakeRSAKey(backing: _RSA.Signing.PrivateKey(keySize: .bits2048))
        }
        await signer.add(rsa: signingKey, digestAlgorithm: .sha256, kid: JWKIdentifier(string: signingKid))
        let now = Date()
        let issuer = grant.provider == "apple" ? "https://appleid.apple.com" : "https://accounts.google.com"
        var claims: [String: JSONValue] = [
            "iss": .string(flaw == .wrongIssuer ? "https://evil.example" : issuer),
            "aud": .string(flaw == .wrongAudience ? "someone-else" : grant.clientID),
            "sub": .string(grant.identity.subject), "iat": .int(Int64(now.timeIntervalSince1970)),
            "exp": .int(Int64(now.timeIntervalSince1970) + (flaw == .expired ? -600 : 3600)), "email": .string(grant.identity.email),
            // Apple sends the flag as a string.
            "email_verified": grant.provider == "apple" ? .string(grant.identity.emailVerified ? "true" : "false") : .bool(grant.identity.emailVerified),
        ]
        if let nonce = grant.nonce { claims["nonce"] = .string(flaw == .wrongNonce ? "not-the-nonce" : nonce) }
        if let name = grant.identity.name, grant.provider == "google" { claims["name"] = .string(name) }
        return try await signer.sign(AnyClaims(claims: claims), kid: JWKIdentifier(string: signingKid))
    }

    private func grant(forToken header: String?) -> Grant? {
        guard let header, header.hasPrefix("Bearer ") else { return nil }
        return state.withLock { $0.grants["token:" + header.dropFirst("Bearer ".count)] }
    }

    static func appleSecretValid(_ secret: String, key: P256.Signing.PublicKey, team: String, kid: String, client: String) async -> Bool {
        guard let publicKey = try? ES256PublicKey(backing: key) else { return false }
        let keys = JWTKeyCollection()
        await keys.add(ecdsa: publicKey, kid: JWKIdentifier(string: kid))
        guard let claims = try? await keys.verify(secret, as: AnyClaims.self) else { return false }
        return claims.claims["iss"]?.stringValue == team && claims.claims["sub"]?.stringValue == client
            && claims.claims["aud"]?.stringValue == "https://appleid.apple.com"
    }

    static func form(_ request: Request) async throws -> [String: String] {
        TokenEncoding.formDecode(String(buffer: try await request.body.collect(upTo: 1 << 20)))
    }

    static func base64URL(_ data: Data) -> String { TokenEncoding.base64URL(data) }
}

typealias FakeRSAKey = JWTKit.Insecure.RSA.PrivateKey

public enum FakeOAuthError: Error {
    case badURL
}

/// Any JSON object as a JWT payload (the fake checks what it needs itself).
struct AnyClaims: JWTPayload {
    var claims: [String: JSONValue]

    init(claims: [String: JSONValue]) {
        self.claims = claims
    }

    init(from decoder: any Decoder) throws {
        claims = try [String: JSONValue](from: decoder)
    }

    func encode(to encoder: any Encoder) throws {
        try claims.encode(to: encoder)
    }

    func verify(using algorithm: some JWTAlgorithm) async throws {}
}
