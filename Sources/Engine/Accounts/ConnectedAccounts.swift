public import AsyncHTTPClient
public import Foundation
public import Logging
import NIOCore
import NIOHTTP1
public import Protocol
import VectortCore
package import Storage

/// Users' own accounts on GitHub, Vercel, Netlify and Render (`Users.ConnectAccount`): a token
/// is checked with the platform's user endpoint, sealed under the `data-key` credential and
/// stored; exports and deploy jobs of that user then use it instead of the operator's token. A
/// token is never returned, logged or stored in clear text.
public final class ConnectedAccounts: Sendable {
    public static let platforms = ["github", "vercel", "netlify", "render"]

    package let repository: any AccountRepository
    let users: Users
    let http: HTTPClient
    let keyring: @Sendable () -> DataKeyring
    /// API base URLs by platform name (configuration: `github.api_base`, `deploy.*.api_base`).
    let bases: @Sendable () -> [String: String]
    let now: @Sendable () -> Date
    let logger: Logger

    package init(
        repository: any AccountRepository, users: Users, http: HTTPClient, keyring: @escaping @Sendable () -> DataKeyring,
        bases: @escaping @Sendable () -> [String: String], now: @escaping @Sendable () -> Date, logger: Logger
    ) {
        self.repository = repository
        self.users = users
        self.http = http
        self.keyring = keyring
        self.bases = bases
        self.now = now
        self.logger = logger
    }

    /// Checks `token` with the platform and stores it sealed; replaces an account already
    /// connected on that platform.
    public func connect(user: String, platform: String, token: String) async throws -> ConnectedAccount {
        try EngineError.refuseNUL(["user": user, "platform": platform, "token": token])
        try Self.validate(platform: platform)
        let token = token.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty, token.utf8.count <= 4096, !token.contains(where: { $0.isWhitespace || $0.isNewline }) else {
            throw EngineError.invalid("token", "token must be 1 to 4096 bytes without spaces or line breaks")
        }
        let keyring = keyring()
        guard let keyID = keyring.currentID else {
            throw EngineError(
                WireError(
                    .unavailable, "connected accounts need the data-key credential, which encrypts their tokens at rest",
                    ["reason": "data_key_missing"]))
        }
        let owner = try await users.get(user)
        guard owner.status == .active else { throw EngineError.conflict("user \(user) is disabled") }
        let name = try await identify(platform: platform, token: token)
        guard let sealed = keyring.seal(token, context: Self.context(user: user, platform: platform)) else {
            throw EngineError(WireError(.internal, "the token could not be encrypted", [:]))
        }
        let stamp = Timestamps.string(now())
        let account = try await repository.connect(
            user: user, ConnectedAccount(platform: platform, account: name, connectedAt: stamp, checkedAt: stamp),
            sealedToken: sealed, keyID: keyID)
        logger.info("account connected", metadata: ["user": "\(user)", "platform": "\(platform)", "account": "\(name)"])
        return account
    }

    public func list(user: String) async throws -> ConnectedAccountList {
        try EngineError.refuseNUL(["user": user])
        _ = try await users.get(user)
        return ConnectedAccountList(accounts: try await repository.list(user: user))
    }

    /// Forgets the account; returns it as it was.
    public func disconnect(user: String, platform: String) async throws -> ConnectedAccount {
        try EngineError.refuseNUL(["user": user, "platform": platform])
        try Self.validate(platform: platform)
        _ = try await users.get(user)
        guard let removed = try await repository.disconnect(user: user, platform: platform) else {
            throw EngineError.notFound("account", "\(platform) of \(user)")
        }
        logger.info("account disconnected", metadata: ["user": "\(user)", "platform": "\(platform)"])
        return removed
    }

    /// The user's own token for `platform`, or nil when none is connected. A token that cannot
    /// be opened (its key left `data-key`) is an error that says to reconnect, never a silent
    /// fall back to the operator's account.
    public func token(user: String, platform: String) async throws -> String? {
        guard let sealed = try await repository.sealedToken(user: user, platform: platform) else { return nil }
        do {
            return try keyring().open(sealed, context: Self.context(user: user, platform: platform))
        } catch {
            throw EngineError(
                WireError(
                    .conflict,
                    "the connected \(platform) account of \(user) cannot be used: \(error); connect it again",
                    ["reason": "account_unreadable"]))
        }
    }

    /// Re-seals every token under the first `data-key` key (at start and on reload, after a key
    /// rotation). Tokens under a key that `data-key` no longer holds are left as they are and
    /// counted. Returns (re-sealed, unreadable).
    public func reencrypt() async throws -> (resealed: Int, unreadable: Int) {
        let keyring = keyring()
        guard let current = keyring.currentID else { return (0, 0) }
        var resealed = 0
        var unreadable = 0
        for row in try await repository.sealed(notUnder: current) {
            let context = Self.context(user: row.user, platform: row.platform)
            guard let plain = try? keyring.open(row.sealed, context: context), let new = keyring.seal(plain, context: context) else {
                unreadable += 1
                continue
            }
            if try await repository.reseal(user: row.user, platform: row.platform, old: row.sealed, new: new, keyID: current) {
                resealed += 1
            }
        }
        if resealed > 0 || unreadable > 0 {
            logger.notice(
                "connected account tokens re-encrypted under the first data key",
                metadata: ["accounts.resealed": "\(resealed)", "accounts.unreadable": "\(unreadable)", "data_key.id": "\(current)"])
        }
        return (resealed, unreadable)
    }

    // MARK: Checking a token

    /// The account the platform says the token belongs to.
    func identify(platform: String, token: String) async throws -> String {
        let base = bases()[platform] ?? ""
        let path =
            switch platform {
            case "github": "/user"
            case "vercel": "/v2/user"
            case "netlify": "/user"
            default: "/owners?limit=20"
            }
        var request = HTTPClientRequest(url: base + path)
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "User-Agent", value: "vectortd")
        request.headers.add(name: "Accept", value: platform == "github" ? "application/vnd.github+json" : "application/json")
        let status: Int
        let value: JSONValue
        do {
            (status, value, _) = try await PlatformHTTP.execute(http, request, platform: platform)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw EngineError(
                WireError(
                    .unavailable, "cannot reach \(platform) to check the token", ["reason": "platform_unavailable", "retry_after_seconds": 30]))
        }
        switch status {
        case 200..<300:
            break
        case 401, 403:
            throw EngineError.invalid("token", "\(platform) refused the token (HTTP \(status)): connect a valid one")
        default:
            throw EngineError(
                WireError(
                    .unavailable, "\(platform) answered HTTP \(status) while checking the token",
                    ["reason": "platform_unavailable", "retry_after_seconds": 30]))
        }
        let name: String? =
            switch platform {
            case "github": value["login"]?.stringValue
            case "vercel": value["user"]?["username"]?.stringValue ?? value["user"]?["email"]?.stringValue
            case "netlify": value["email"]?.stringValue ?? value["full_name"]?.stringValue
            default:
                // Render: the token's personal workspace, else its first one.
                (value.arrayValue?.compactMap { $0["owner"] }.first { $0["type"]?.stringValue == "user" }
                    ?? value.arrayValue?.first?["owner"]).flatMap { $0["email"]?.stringValue ?? $0["name"]?.stringValue }
            }
        guard let name, !name.isEmpty else {
            throw EngineError(
                WireError(.unavailable, "\(platform) did not say whose token this is", ["reason": "platform_unavailable"]))
        }
        return String(name.prefix(200))
    }

    static func validate(platform: String) throws {
        guard platforms.contains(platform) else {
            throw EngineError.invalid("platform", "platform must be github, vercel, netlify or render, not \"\(platform)\"")
        }
    }

    /// What a sealed token is bound to.
    static func context(user: String, platform: String) -> String { "connected-account\u{0}\(user)\u{0}\(platform)" }
}
