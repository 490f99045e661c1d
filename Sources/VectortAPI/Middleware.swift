import Auth
import Engine
import Foundation
import Logging
import HTTPTypes
import Hummingbird
import Protocol
import VectortCore

/// Security headers on every answer, and CORS for the configured origins only (none by default).
struct HeadersMiddleware: RouterMiddleware {
    typealias Context = APIContext
    let corsOrigins: Set<String>

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let origin = request.headers[.origin]
        let allowed = origin.map { corsOrigins.contains($0) } ?? false
        var response: Response
        if request.method == .options, request.headers[.accessControlRequestMethod] != nil {
            // A preflight: answered here, whatever the route.
            response = Response(status: allowed ? .noContent : .forbidden)
            if allowed {
                response.headers[.accessControlAllowMethods] = "GET, POST, PUT, DELETE, OPTIONS"
                response.headers[.accessControlAllowHeaders] = "Authorization, Content-Type, Accept, Idempotency-Key"
                response.headers[.accessControlMaxAge] = "600"
            }
        } else {
            response = try await next(request, context)
        }
        if allowed, let origin {
            response.headers[.accessControlAllowOrigin] = origin
            response.headers[.accessControlExposeHeaders] = "Retry-After"
        }
        if !corsOrigins.isEmpty { response.headers[.vary] = "Origin" }
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        response.headers[.contentSecurityPolicy] = "default-src 'none'; frame-ancestors 'none'"
        response.headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        response.headers[.cacheControl] = response.headers[.cacheControl] ?? "no-store"
        return response
    }
}

/// `Authorization: Bearer <token>`: a session this daemon signed that still counts (its user is
/// active, it was not revoked by logout nor voided by a password change). Anything else is 401.
struct SessionMiddleware: RouterMiddleware {
    typealias Context = APIContext
    let keys: @Sendable () -> SessionKeys?
    let users: Users

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else {
            throw APIError.unauthenticated("sign in first: send Authorization: Bearer <token>")
        }
        guard let keys = keys(), keys.signingKID != nil else {
            throw APIError(WireError(.unavailable, "sessions are off: the daemon has no jwt-secret", ["reason": "sessions_not_configured"]))
        }
        let token = String(header.dropFirst("bearer ".count)).trimmingCharacters(in: .whitespaces)
        let claims: SessionClaims
        do {
            claims = try await keys.verify(token)
        } catch SessionError.expired {
            throw APIError.unauthenticated("the session has expired; sign in again")
        } catch {
            throw APIError.unauthenticated("the session token is not valid")
        }
        guard let user = try await users.sessionUser(user: claims.user, session: claims.id, issuedAt: claims.issuedAt) else {
            throw APIError.unauthenticated("the session has ended; sign in again")
        }
        var context = context
        context.user = user
        context.session = SessionInfo(id: claims.id, expiresAt: claims.expiresAt.timeIntervalSince1970)
        context.logger[metadataKey: "user"] = "\(user.id)"
        return try await next(request, context)
    }
}

/// Token buckets by key (a client address, an account): `burst` at once, refilled at
/// `perMinute`. Bounded: past 50,000 keys the full buckets are forgotten.
final class RateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var at: Double
    }

    private let buckets = Locked<[String: Bucket]>([:])
    let burst: Double
    let perSecond: Double

    init(burst: Int, perMinute: Double) {
        self.burst = Double(max(1, burst))
        perSecond = max(perMinute, 0.001) / 60
    }

    /// Takes one token for each key; nil when allowed, else the seconds until it would be.
    func take(_ keys: [String], now: Double = Date().timeIntervalSince1970) -> Int? {
        buckets.withLock { buckets in
            if buckets.count > 50_000 {
                buckets = buckets.filter { min(burst, $0.value.tokens + (now - $0.value.at) * perSecond) < burst }
            }
            var wait = 0.0
            var refilled: [String: Bucket] = [:]
            for key in keys {
                var bucket = buckets[key] ?? Bucket(tokens: burst, at: now)
                bucket.tokens = min(burst, bucket.tokens + (now - bucket.at) * perSecond)
                bucket.at = now
                if bucket.tokens < 1 { wait = max(wait, (1 - bucket.tokens) / perSecond) }
                refilled[key] = bucket
            }
            guard wait == 0 else {
                for (key, bucket) in refilled { buckets[key] = bucket }
                return max(1, Int(wait.rounded(.up)))
            }
            for (key, var bucket) in refilled {
                bucket.tokens -= 1
                buckets[key] = bucket
            }
            return nil
        }
    }
}

/// The client's address: the peer, or behind a trusted proxy the right-most `X-Forwarded-For`
/// entry that is not itself a trusted proxy.
func clientAddress(_ request: Request, peer: String, trustedProxies: Set<String>) -> String {
    guard trustedProxies.contains(peer), let forwarded = request.headers[HTTPField.Name("X-Forwarded-For")!] else { return peer }
    let hops = forwarded.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    return hops.reversed().first { !trustedProxies.contains($0) } ?? peer
}
