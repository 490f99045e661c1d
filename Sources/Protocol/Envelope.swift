import Foundation

/// A call, as a client sends it.
public struct CallRequest: Sendable, Hashable, Codable {
    public var method: String
    public var parameters: [String: JSONValue]?
    public var more: Bool?
    public var oneway: Bool?

    public init(method: String, parameters: [String: JSONValue]? = nil, more: Bool? = nil, oneway: Bool? = nil) {
        self.method = method
        self.parameters = parameters
        self.more = more
        self.oneway = oneway
    }

    public var wantsMore: Bool { more ?? false }
    public var isOneway: Bool { oneway ?? false }

    /// Reads a request payload with the envelope rules of PROTOCOL.md: the payload must be a JSON
    /// object with a string `method`; `parameters` an object; `more` and `oneway` booleans.
    /// Unknown envelope keys are ignored so that later protocol additions stay compatible.
    public static func parse(payload: some Collection<UInt8>) throws(WireError) -> CallRequest {
        // Fast paths: a well-formed envelope read from its bytes, else decoded straight into its
        // fields. Anything else takes the slow path below, which says exactly what is wrong.
        if let request = parseQuickly(payload: payload) { return request }
        switch JSONStructureCheck.problem(in: payload) {
        case .duplicateKey(let key)?: throw .invalidMessage("duplicate key \"\(key)\"")
        case .tooDeep?: throw .invalidMessage("nesting too deep")
        case .numberOutOfRange(let number, let path)?:
            let problem = "the number \(number) does not fit in a 64-bit floating point value"
            if path.count >= 2, path[0] == "parameters" { throw .invalidParameter(path[1], problem) }
            throw .invalidMessage(problem)
        case .equivalentKeys(let first, let second, let path)?:
            let problem = "keys \"\(first)\" and \"\(second)\" differ only in Unicode normalization"
            if path.count >= 2, path[0] == "parameters" { throw .invalidParameter(path[1], problem) }
            throw .invalidMessage(problem)
        case nil: break
        }
        let data = Data(payload)
        if let envelope = try? WireCoding.decoder.decode(WellFormedEnvelope.self, from: data) {
            return envelope.request
        }
        let value: JSONValue
        do {
            value = try WireCoding.decoder.decode(JSONValue.self, from: data)
        } catch {
            throw .invalidMessage("payload is not valid JSON")
        }
        guard case .object(let object) = value else {
            throw .invalidMessage("payload is not a JSON object")
        }
        guard let methodValue = object["method"] else {
            throw .invalidMessage("no method")
        }
        guard case .string(let method) = methodValue else {
            throw .invalidMessage("method is not a string")
        }
        var request = CallRequest(method: method)
        switch object["parameters"] {
        case nil, .null?: break
        case .object(let p)?: request.parameters = p
        case .some: throw .invalidMessage("parameters is not an object")
        }
        switch object["more"] {
        case nil, .null?: break
        case .bool(let b)?: request.more = b
        case .some: throw .invalidMessage("more is not a boolean")
        }
        switch object["oneway"] {
        case nil, .null?: break
        case .bool(let b)?: request.oneway = b
        case .some: throw .invalidMessage("oneway is not a boolean")
        }
        return request
    }
}

extension CallRequest {
    /// The request when the fast parser takes the payload (a well-formed envelope of plain JSON),
    /// in time linear in its size; nil for anything `parse` must look at more closely.
    public static func parseQuickly(payload: some Collection<UInt8>) -> CallRequest? {
        wellFormed(JSONValue.parse(payload))
    }

    /// The request in an envelope whose fields all have their documented types (null standing
    /// for absent, unknown keys ignored, as `WellFormedEnvelope` decodes them); nil otherwise.
    static func wellFormed(_ value: JSONValue?) -> CallRequest? {
        guard case .object(let object)? = value, case .string(let method)? = object["method"],
            let parameters = optionalField(object["parameters"], \.objectValue),
            let more = optionalField(object["more"], \.boolValue),
            let oneway = optionalField(object["oneway"], \.boolValue)
        else { return nil }
        return CallRequest(method: method, parameters: parameters, more: more, oneway: oneway)
    }
}

extension CallReply {
    /// The reply in a payload whose fields all have their documented types (null standing for
    /// absent, unknown keys ignored, as its `Decodable` reads them); nil otherwise.
    public static func wellFormed(_ payload: some Collection<UInt8>) -> CallReply? {
        guard case .object(let object)? = JSONValue.parse(payload),
            let parameters = optionalField(object["parameters"], \.objectValue),
            let continues = optionalField(object["continues"], \.boolValue),
            let error = optionalField(object["error"], \.stringValue)
        else { return nil }
        return CallReply(parameters: parameters, continues: continues, error: error.map(ErrorName.init(rawValue:)))
    }
}

/// An optional envelope field: `.some(nil)` when absent or null, `.some(value)` when `read`
/// accepts it, nil when it has another type.
private func optionalField<T>(_ value: JSONValue?, _ read: (JSONValue) -> T?) -> T?? {
    switch value {
    case nil, .null?: return .some(nil)
    case let value?: return read(value).map { .some($0) }
    }
}

/// A request envelope whose fields all have their documented types.
private struct WellFormedEnvelope: Decodable {
    var request: CallRequest

    private enum Keys: String, CodingKey {
        case method, parameters, more, oneway
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        request = CallRequest(
            method: try container.decode(String.self, forKey: .method),
            parameters: try container.decodeIfPresent([String: JSONValue].self, forKey: .parameters),
            more: try container.decodeIfPresent(Bool.self, forKey: .more),
            oneway: try container.decodeIfPresent(Bool.self, forKey: .oneway))
    }
}

/// One reply: parameters, or an error name with parameters; `continues` on all but the last
/// reply of a `more` call.
public struct CallReply: Sendable, Hashable, Codable {
    public var parameters: [String: JSONValue]?
    public var continues: Bool?
    public var error: ErrorName?

    public init(parameters: [String: JSONValue]? = nil, continues: Bool? = nil, error: ErrorName? = nil) {
        self.parameters = parameters
        self.continues = continues
        self.error = error
    }

    public init(error: WireError) {
        self.init(parameters: error.parameters, error: error.name)
    }

    public var isContinued: Bool { continues ?? false }

    /// The error this reply carries, if it is an error reply.
    public var wireError: WireError? {
        error.map { WireError(name: $0, parameters: parameters ?? [:]) }
    }
}
