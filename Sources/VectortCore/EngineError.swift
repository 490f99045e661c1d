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

    /// Refuses U+0000 in `values` (parameter name → value): it is never part of an identifier,
    /// key, name or reason, and a text column bound as a C string would end at it.
    public static func refuseNUL(_ values: KeyValuePairs<String, String?>) throws(EngineError) {
        for (parameter, value) in values where value?.utf8.contains(0) == true {
            throw invalid(parameter, "\(parameter) must not contain the NUL character (U+0000)")
        }
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
