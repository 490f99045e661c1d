import Foundation
import NIOHTTP1
import Protocol
import Testing
import VectortTesting

extension DaemonSuite {
    @Suite("sign-in with Google, GitHub and Apple against loopback fakes")
    struct WebOAuthDaemonTests {
        struct Harness {
            let api: WebAPI
            let fake: FakeOAuth

            /// Runs the browser's part: login, consent, callback. Returns the callback's fragment.
            func signIn(
                _ provider: String, as identity: FakeOAuth.Identity, sendCookie: Bool = true, replay: Bool = false,
                code override: String? = nil
            ) async throws -> [String: String] {
                let login = try await api.call(.GET, "/api/auth/\(provider)/login")
                try #require(login.status == 302, "\(login.json)")
                let location = try #require(login.headers.first(name: "Location"))
                let setCookie = try #require(login.headers.first(name: "Set-Cookie"))
                #expect(setCookie.hasPrefix("__Host-vectortd-oauth=") && setCookie.contains("HttpOnly") && setCookie.contains("Secure"))
                #expect(setCookie.contains(provider == "apple" ? "SameSite=None" : "SameSite=Lax"))
                let cookie = String(setCookie.split(separator: ";")[0])
                var (code, state) = try fake.approve(location, as: identity)
                if let override { code = override }
                let headers = sendCookie ? [("Cookie", cookie)] : []
                var answer: WebAPI.Answer
                if provider == "apple" {
                    let user = #"{"name":{"firstName":"Ada","lastName":"Lovelace"},"email":"\#(identity.email)"}"#
                    let form = "code=\(code)&state=\(state)&user=\(user.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")"
                    answer = try await api.call(
                        .POST, "/api/auth/apple/callback", raw: Data(form.utf8),
                        headers: headers + [("Content-Type", "application/x-www-form-urlencoded")])
                } else {
                    answer = try await api.call(.GET, "/api/auth/\(provider)/callback?code=\(code)&state=\(state)", headers: headers)
                    if replay {
                        answer = try await api.call(.GET, "/api/auth/\(provider)/callback?code=\(code)&state=\(state)", headers: headers)
                    }
                }
                try #require(answer.status == 302)
                let target = try #require(answer.headers.first(name: "Location"))
                #expect(target.hasPrefix("https://app.example.com/auth/callback#"), "\(target)")
                #expect(!target.contains("?"), "the session travels in the fragment, never the query")
                var fields: [String: String] = [:]
                for pair in target.split(separator: "#", maxSplits: 1).last!.split(separator: "&") {
                    let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? "" }
                    if parts.count == 2 { fields[parts[0]] = parts[1] }
                }
                return fields
            }

            func me(_ fields: [String: String]) async throws -> JSONValue {
                let token = try #require(fields["token"], "signed in: \(fields)")
                let me = try await api.call(.GET, "/api/auth/me", token: token)
                #expect(me.status == 200)
                return me.json
            }
        }

        static func withHarness(_ body: (Harness) async throws -> Void) async throws {
            let fake = try await FakeOAuth.start()
            defer { Task { await fake.shutdown() } }
            let api = try await WebAPI.start(
                config: fake.configuration(publicURL: "https://api.example.com"), credentials: fake.credentials,
                environment: ["VECTORTD_API_RATE_LIMIT_BURST": "100"])
            try await body(Harness(api: api, fake: fake))
        }

        @Test func googleSignsUpThenSignsInTheSameUserAndGitHubLinksToIt() async throws {
            try await Self.withHarness { h in
                let ada = FakeOAuth.Identity(subject: "1087", email: "ada@example.com", name: "Ada L")
                let first = try await h.me(try await h.signIn("google", as: ada))
                #expect(first["email"] == "ada@example.com" && first["full_name"] == "Ada L")
                let second = try await h.me(try await h.signIn("google", as: ada))
                #expect(second["id"] == first["id"], "the same provider subject is the same user")
                let balance = try await h.api.call(.GET, "/api/credits/balance", token: try await h.signIn("google", as: ada)["token"])
                #expect(balance.json["total"] == 10, "signup credits once")

                // GitHub with the same, verified, address: linked to the same account.
                let github = try await h.me(try await h.signIn("github", as: FakeOAuth.Identity(subject: "583231", email: "ada@example.com")))
                #expect(github["id"] == first["id"])
                let users = try await h.api.client.call(MethodName.usersList)["users"]?.arrayValue?.count
                #expect(users == 1)
            }
        }

        @Test func appleSignsInThroughFormPostWithAnES256ClientSecret() async throws {
            try await Self.withHarness { h in
                let fields = try await h.signIn("apple", as: FakeOAuth.Identity(subject: "001234.abcd", email: "x1@privaterelay.appleid.com"))
                let me = try await h.me(fields)
                #expect(me["email"] == "x1@privaterelay.appleid.com")
                #expect(me["full_name"] == "Ada Lovelace", "the name Apple sends once is kept")
            }
        }

        @Test func forgedReplayedAndUnverifiedSignInsAreRefused() async throws {
            try await Self.withHarness { h in
                let eve = FakeOAuth.Identity(subject: "666", email: "eve@example.com")
                #expect(try await h.signIn("google", as: eve, sendCookie: false)["error"] == "invalid_state")
                #expect(try await h.signIn("google", as: eve, replay: true)["error"] == "invalid_state", "a state works once")
                for flaw in [FakeOAuth.Flaw.wrongAudience, .wrongIssuer, .expired, .wrongNonce, .unknownKey] {
                    h.fake.setFlaw(flaw)
                    let fields = try await h.signIn("google", as: eve)
                    #expect(fields["error"] == "invalid_token", "\(flaw): \(fields)")
                    #expect(fields["token"] == nil)
                }
                h.fake.setFlaw(.none)
                // GitHub answers a bad code with HTTP 200 and an `error` field.
                let bad = try await h.signIn("github", as: eve, code: "not-a-code")
                #expect(bad["error"] == "provider_error" && bad["error_description"]?.contains("bad_verification_code") == true, "\(bad)")
                let unverified = FakeOAuth.Identity(subject: "667", email: "mallory@example.com", emailVerified: false)
                #expect(try await h.signIn("google", as: unverified)["error"] == "email_not_verified")
                #expect(try await h.signIn("github", as: unverified)["error"] == "email_not_verified")
                let emails = try await h.api.client.call(MethodName.usersList)["users"]?.arrayValue?.compactMap { $0["email"]?.stringValue }
                #expect(emails == ["eve@example.com"], "only the replayed sign-in's first use made an account")

                // A key rotated in at the provider: the cache fetches the keys once more and signs in.
                let before = h.fake.jwksFetches
                try h.fake.rotateKey()
                #expect(try await h.signIn("google", as: eve)["token"] != nil)
                #expect(h.fake.jwksFetches == before + 1)
            }
        }

        @Test func anUnverifiedPasswordAccountIsTakenOverByTheProvidersVerifiedOwner() async throws {
            try await Self.withHarness { h in
                // Someone registered the address first, without proving it is theirs.
                let (squatter, session) = try await h.api.signUp("owner@example.com")
                let fields = try await h.signIn("google", as: FakeOAuth.Identity(subject: "42", email: "owner@example.com"))
                #expect(try await h.me(fields)["id"]?.stringValue == squatter)
                #expect(try await h.api.call(.GET, "/api/auth/me", token: session).status == 401, "the squatter's session ended")
                let login = try await h.api.call(.POST, "/api/auth/login", ["email": "owner@example.com", "password": "correct horse battery"])
                #expect(login.status == 401, "the squatter's password no longer works")
            }
        }

        @Test func providersThatAreNotConfiguredAnswer503() async throws {
            let api = try await WebAPI.start()
            let answer = try await api.call(.GET, "/api/auth/google/login")
            #expect(answer.status == 503 && answer.json["error"]?["parameters"]?["reason"] == "oauth_not_configured")
            #expect(try await api.call(.GET, "/api/auth/myspace/login").status == 404)
        }
    }
}
