/// A stable, reverse-domain error name (PROTOCOL.md "Errors"). Clients branch on the name only.
///
/// A struct rather than an enum so that names can be added without breaking clients that
/// switch over the known ones.
public struct ErrorName: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }

    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }

    public var description: String { rawValue }

    public static let invalidMessage = ErrorName(rawValue: "io.vectort.InvalidMessage")
    public static let messageTooLarge = ErrorName(rawValue: "io.vectort.MessageTooLarge")
    public static let methodNotFound = ErrorName(rawValue: "io.vectort.MethodNotFound")
    public static let invalidParameter = ErrorName(rawValue: "io.vectort.InvalidParameter")
    public static let permissionDenied = ErrorName(rawValue: "io.vectort.PermissionDenied")
    public static let notFound = ErrorName(rawValue: "io.vectort.NotFound")
    public static let alreadyExists = ErrorName(rawValue: "io.vectort.AlreadyExists")
    public static let conflict = ErrorName(rawValue: "io.vectort.Conflict")
    public static let insufficientCredits = ErrorName(rawValue: "io.vectort.InsufficientCredits")
    public static let rateLimited = ErrorName(rawValue: "io.vectort.RateLimited")
    public static let unavailable = ErrorName(rawValue: "io.vectort.Unavailable")
    public static let timeout = ErrorName(rawValue: "io.vectort.Timeout")
    public static let `internal` = ErrorName(rawValue: "io.vectort.Internal")
    /// An extension of version 1: a generation whose answers never became a valid app
    /// (no files, still truncated, or files failing validation). Parameters: `reason`, `issues?`.
    public static let generationFailed = ErrorName(rawValue: "io.vectort.GenerationFailed")
    /// An extension of version 1: a change that would make a version identical to the current one
    /// (a Restore of the current version). Nothing is stored or charged.
    public static let nothingChanged = ErrorName(rawValue: "io.vectort.NothingChanged")
    /// An extension of version 1: the generation was cancelled by `Projects.CancelGeneration`
    /// (the end of its `Generate` stream). Parameters: `generation`.
    public static let cancelled = ErrorName(rawValue: "io.vectort.Cancelled")

    /// Every name of protocol version 1, in the order of PROTOCOL.md's table.
    public static let allVersion1: [ErrorName] = [
        .invalidMessage, .messageTooLarge, .methodNotFound, .invalidParameter, .permissionDenied,
        .notFound, .alreadyExists, .conflict, .insufficientCredits, .rateLimited, .unavailable,
        .timeout, .internal,
    ]
}

/// An error as it travels on the wire: a name, a human message and structured parameters.
///
/// Engine and daemon errors are turned into this in exactly one place; clients receive it as
/// `VectortClientError.remote`.
public struct WireError: Error, Sendable, Hashable, CustomStringConvertible {
    public var name: ErrorName
    public var message: String
    /// Structured parameters besides `message`.
    public var details: [String: JSONValue]

    public init(_ name: ErrorName, _ message: String, _ details: [String: JSONValue] = [:]) {
        self.name = name
        self.message = message
        self.details = details
    }

    /// `parameters` of the error reply: `details` plus `message`.
    public var parameters: [String: JSONValue] {
        var p = details
        p["message"] = .string(message)
        return p
    }

    public init(name: ErrorName, parameters: [String: JSONValue]) {
        var details = parameters
        let message = details.removeValue(forKey: "message")?.stringValue ?? name.rawValue
        self.init(name, message, details)
    }

    public var description: String { "\(name.rawValue): \(message)" }

    public static func invalidMessage(_ reason: String) -> WireError {
        WireError(.invalidMessage, "invalid message: \(reason)", ["reason": .string(reason)])
    }

    public static func messageTooLarge(limit: Int) -> WireError {
        WireError(.messageTooLarge, "message is larger than the limit of \(limit) bytes", ["limit": .int(Int64(limit))])
    }

    public static func methodNotFound(_ method: String) -> WireError {
        WireError(.methodNotFound, "unknown method \(method)", ["method": .string(method)])
    }

    public static func invalidParameter(_ parameter: String, _ message: String) -> WireError {
        WireError(.invalidParameter, message, ["parameter": .string(parameter)])
    }

    public static func permissionDenied(method: String, requiredRole: Role) -> WireError {
        WireError(
            .permissionDenied, "\(method) requires the \(requiredRole.rawValue) role",
            ["method": .string(method), "required_role": .string(requiredRole.rawValue)])
    }

    /// `retry_after_seconds` as the wire carries it: whole seconds, rounded up, at least 1.
    public static func retryAfter(_ seconds: Double) -> JSONValue {
        guard seconds.isFinite else { return .int(1) }
        return .int(Int64(max(1, min(seconds.rounded(.up), 86_400 * 365))))
    }

    public static func unavailable(_ reason: String, retryAfterSeconds: Int? = nil) -> WireError {
        var details: [String: JSONValue] = ["reason": .string(reason)]
        if let retryAfterSeconds { details["retry_after_seconds"] = retryAfter(Double(retryAfterSeconds)) }
        return WireError(.unavailable, reason, details)
    }

    /// A frame that did not arrive whole within `control.frame_timeout_seconds` of its first byte.
    public static func frameTimeout(seconds: Double) -> WireError {
        WireError(
            .timeout, "no complete message arrived within \(seconds) s of its first byte",
            ["seconds": .double(seconds), "reason": "frame"])
    }

    public static func timeout(seconds: Double) -> WireError {
        WireError(.timeout, "the call ran past its deadline of \(seconds) s", ["seconds": .double(seconds)])
    }

    public static func `internal`(reference: String) -> WireError {
        WireError(
            .internal, "internal error; see the journal for reference \(reference)",
            ["reference": .string(reference)])
    }
}
