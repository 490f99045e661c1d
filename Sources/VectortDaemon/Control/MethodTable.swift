import Logging
import Protocol

/// What a method implementation knows about its caller.
struct CallContext: Sendable {
    var role: Role
    var peer: PeerCredentials
    var connectionID: UInt64
    var logger: Logger
}

/// Validated call parameters: every name is declared by the method and has its declared type.
struct Parameters: Sendable {
    let values: [String: JSONValue]

    func string(_ name: String) -> String? { values[name]?.stringValue }
    func int(_ name: String) -> Int64? { values[name]?.intValue }
    func bool(_ name: String) -> Bool? { values[name]?.boolValue }
}

/// Further replies of a `more` call. For a call without `more`, they are dropped: the caller
/// gets only the final reply, as PROTOCOL.md says.
struct ReplyStream: Sendable {
    /// Whether the caller asked for the further replies (`more`).
    var streaming = false
    let send: @Sendable (any Encodable & Sendable) async throws -> Void
    /// Returns once the connection takes more bytes: a stream that may run without end waits
    /// here, so a caller that stops reading stalls its own stream, not the daemon's memory.
    var writable: @Sendable () async -> Void = {}
    /// Several replies in one hop to the connection (a stream that drained a burst at once).
    var sendAll: (@Sendable ([any Encodable & Sendable]) async throws -> Void)? = nil

    func yield(_ value: some Encodable & Sendable) async throws {
        try await send(value)
    }

    func yield(all values: [any Encodable & Sendable]) async throws {
        if let sendAll { return try await sendAll(values) }
        for value in values { try await send(value) }
    }
}

enum MethodImplementation: Sendable {
    /// Runs on the connection's event loop; for quick calls that never block.
    case immediate(@Sendable (CallContext, Parameters) throws -> any Encodable & Sendable)
    /// Runs in its own task, cancelled when the caller disconnects.
    case async(@Sendable (CallContext, Parameters, ReplyStream) async throws -> any Encodable & Sendable)
    /// Like `async`, but the task runs on the connection's event loop: for calls that mostly
    /// wait (on the ledger writer, or on a provider's stream whose connection the HTTP client
    /// then picks on the same loop), where the hops to the global executor and back cost more
    /// than the work between the waits. It must not block; a step that computes long moves to
    /// the global executor itself (`withTaskExecutorPreference(globalConcurrentExecutor)`).
    /// Unstructured tasks it starts find the loop in `PreferredExecutor.current`.
    case onLoop(@Sendable (CallContext, Parameters, ReplyStream) async throws -> any Encodable & Sendable)
}

/// The one table that both routes calls and answers `Describe`, so the two cannot drift.
struct MethodTable: Sendable {
    struct Route: Sendable {
        var descriptor: MethodDescriptor
        var implementation: MethodImplementation
    }

    private(set) var routes: [String: Route] = [:]

    mutating func register(_ descriptor: MethodDescriptor, _ implementation: MethodImplementation) {
        precondition(routes[descriptor.method] == nil, "method \(descriptor.method) registered twice")
        routes[descriptor.method] = Route(descriptor: descriptor, implementation: implementation)
    }

    /// Every method, sorted by name.
    var descriptors: [MethodDescriptor] {
        routes.values.map(\.descriptor).sorted { $0.method < $1.method }
    }

    /// Interfaces served, sorted.
    var interfaces: [String] {
        Set(routes.values.map(\.descriptor.interface)).sorted()
    }

    /// Finds the method, checks the caller's role and the parameters.
    func resolve(_ request: CallRequest, role: Role) throws(WireError) -> (Route, Parameters) {
        guard let route = routes[request.method] else {
            throw .methodNotFound(request.method)
        }
        guard role >= route.descriptor.role else {
            throw .permissionDenied(method: request.method, requiredRole: route.descriptor.role)
        }
        let given = request.parameters ?? [:]
        var accepted: [String: JSONValue] = [:]
        let declared = Dictionary(uniqueKeysWithValues: route.descriptor.parameters.map { ($0.name, $0) })
        for name in given.keys.sorted() {
            guard let parameter = declared[name] else {
                throw .invalidParameter(name, "\(request.method) has no parameter \"\(name)\"")
            }
            let value = given[name]!
            if value == .null { continue }
            guard parameter.type.accepts(value) else {
                throw .invalidParameter(
                    name, "parameter \"\(name)\" must be of type \(parameter.type.rawValue), not \(value.typeName)")
            }
            // Strings name things (ids, keys, emails, titles, reasons): U+0000 is never part of
            // one, and SQLite would cut a text value at it. File contents travel in objects.
            if case .string(let text) = value, text.utf8.contains(0) {
                throw .invalidParameter(name, "parameter \"\(name)\" must not contain the NUL character (U+0000)")
            }
            accepted[name] = value
        }
        for parameter in route.descriptor.parameters where parameter.required && accepted[parameter.name] == nil {
            throw .invalidParameter(parameter.name, "parameter \"\(parameter.name)\" is required")
        }
        return (route, Parameters(values: accepted))
    }
}
