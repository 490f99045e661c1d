/// Why a client call failed, typed so that callers never match on message text.
///
/// A struct over a private representation (as async-http-client's `HTTPClientError`), so that
/// kinds can be added without breaking callers: build and compare values with the static
/// members (`error == .connectionClosed`, `error == .timeout(seconds: 1)`), and branch on
/// `code` (`switch error.code { case .notRunning: … }`).
public struct VectortClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of failure.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Kind: String {
            case notRunning = "not_running", permissionDenied = "permission_denied"
            case protocolMismatch = "protocol_mismatch", timeout, connectionClosed = "connection_closed"
            case invalidReply = "invalid_reply", io, remote
        }

        private let kind: Kind
        private init(_ kind: Kind) { self.kind = kind }

        /// Nothing listens on the socket (ENOENT, ECONNREFUSED).
        public static let notRunning = Code(.notRunning)
        /// The socket refused us: EACCES on connect, or the daemon refused our role.
        public static let permissionDenied = Code(.permissionDenied)
        /// The daemon speaks another protocol version.
        public static let protocolMismatch = Code(.protocolMismatch)
        /// No complete reply before the deadline.
        public static let timeout = Code(.timeout)
        /// The daemon closed the connection before replying.
        public static let connectionClosed = Code(.connectionClosed)
        /// A reply that is not a valid frame or JSON reply.
        public static let invalidReply = Code(.invalidReply)
        /// Any other system call failure.
        public static let io = Code(.io)
        /// The daemon answered with an error reply.
        public static let remote = Code(.remote)

        /// The code's name as the CLI prints it in `{"error": …}` (`not_running`, `timeout`, …).
        public var description: String { kind.rawValue }
    }

    private enum Detail: Equatable, Sendable {
        case socket(path: String, reason: String)
        case versions(client: Int, server: Int)
        case seconds(Double)
        case text(String)
        case wire(WireError)
        case none
    }

    public let code: Code
    private let detail: Detail

    private init(_ code: Code, _ detail: Detail) {
        self.code = code
        self.detail = detail
    }

    public static func notRunning(path: String, reason: String) -> Self {
        Self(.notRunning, .socket(path: path, reason: reason))
    }

    public static func permissionDenied(path: String, reason: String) -> Self {
        Self(.permissionDenied, .socket(path: path, reason: reason))
    }

    public static func protocolMismatch(client: Int, server: Int) -> Self {
        Self(.protocolMismatch, .versions(client: client, server: server))
    }

    public static func timeout(seconds: Double) -> Self { Self(.timeout, .seconds(seconds)) }

    public static let connectionClosed = Self(.connectionClosed, .none)

    public static func invalidReply(_ detail: String) -> Self { Self(.invalidReply, .text(detail)) }

    public static func io(_ detail: String) -> Self { Self(.io, .text(detail)) }

    public static func remote(_ error: WireError) -> Self { Self(.remote, .wire(error)) }

    /// The daemon's error reply, when `code` is `.remote`.
    public var remoteError: WireError? {
        if case .wire(let error) = detail { return error }
        return nil
    }

    /// What went wrong in the system's or the reply's own words (`invalidReply`, `io`).
    public var detailText: String? {
        if case .text(let text) = detail { return text }
        return nil
    }

    public var description: String {
        switch (code, detail) {
        case (.notRunning, .socket(let path, let reason)):
            "vectortd is not running (socket \(path): \(reason)): start it with `systemctl start vectortd`"
        case (.permissionDenied, .socket(let path, let reason)):
            "permission denied on \(path) (\(reason)): join the vectortd-admin group (or the configured client group), "
                + "then log in again: `sudo usermod -aG vectortd-admin $USER`"
        case (.protocolMismatch, .versions(let client, let server)):
            "protocol mismatch: this client speaks version \(client), vectortd speaks version \(server); "
                + "install matching versions (restart vectortd after an upgrade: `systemctl restart vectortd`)"
        case (.timeout, .seconds(let seconds)):
            "no reply from vectortd within \(seconds) s"
        case (.connectionClosed, _):
            "vectortd closed the connection"
        case (.invalidReply, .text(let detail)):
            "invalid reply from vectortd: \(detail)"
        case (_, .wire(let error)):
            error.description
        case (_, .text(let detail)):
            detail
        default:
            code.description
        }
    }
}
