import Hummingbird
import NIOCore
import Protocol

/// One request's context: the peer's address and, once the session checked out, its user.
struct APIContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    /// The TCP peer's address (a trusted proxy's own address when behind one).
    let peer: String
    /// The signed-in user, set by `SessionMiddleware` on routes that need one.
    var user: User?
    /// The session's id and expiry, for logout.
    var session: SessionInfo?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        peer = source.channel.remoteAddress?.ipAddress ?? ""
    }

    /// Bodies are read by the routes with their own limit (`api.max_body_bytes`).
    var maxUploadSize: Int { Int.max }

    /// The signed-in user; routes behind `SessionMiddleware` always have one.
    func requireUser() throws -> User {
        guard let user else { throw APIError.unauthenticated("sign in first: send Authorization: Bearer <token>") }
        return user
    }
}

struct SessionInfo: Sendable {
    var id: String
    var expiresAt: Double
}
