public import Protocol

/// A domain error with its protocol name and structured parameters, mapped to a reply in one
/// place by the daemon.
public struct EngineError: WireConvertibleError, Equatable, CustomStringConvertible {
    public let wireError: WireError

    public init(_ wireError: WireError) {
        self.wireError = wireError
    }

    public var description: String { wireError.description }

    public static func notFound(_ kind: String, _ id: String) -> EngineError {
        EngineError(WireError(.notFound, "no \(kind) \(id)", ["kind": .string(kind), "id": .string(id)]))
    }

    public static func alreadyExists(_ kind: String, _ id: String) -> EngineError {
        EngineError(WireError(.alreadyExists, "\(kind) \(id) already exists", ["kind": .string(kind), "id": .string(id)]))
    }

    public static func invalid(_ parameter: String, _ message: String) -> EngineError {
        EngineError(.invalidParameter(parameter, message))
    }

    public static func conflict(_ reason: String) -> EngineError {
        EngineError(WireError(.conflict, reason, ["reason": .string(reason)]))
    }

    public static func insufficientCredits(required: Int, available: Int) -> EngineError {
        EngineError(
            WireError(
                .insufficientCredits, "\(required) credits needed, \(available) available",
                ["required": .int(Int64(required)), "available": .int(Int64(available))]))
    }
}
