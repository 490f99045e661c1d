import Foundation
public import Protocol

/// One request a fake received, as it arrived.
public struct FakeLLMRequest: Sendable {
    public var method: String
    /// The request target: path and query.
    public var uri: String
    /// The path without the query.
    public var path: String
    /// Query parameters (`alt=sse`, `key=`).
    public var query: [String: String]
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    /// The body decoded as JSON, when it is JSON.
    public var json: JSONValue?

    /// The first value of a header, by case-insensitive name.
    public func header(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }

    public var bodyText: String { String(decoding: body, as: UTF8.self) }

    init(method: String, uri: String, headers: [(name: String, value: String)], body: [UInt8]) {
        self.method = method
        self.uri = uri
        self.headers = headers
        self.body = body
        let parts = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        path = String(parts.first ?? "")
        var query: [String: String] = [:]
        if parts.count > 1 {
            for pair in parts[1].split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let key = String(kv[0]).removingPercentEncoding ?? String(kv[0])
                let value = kv.count > 1 ? (String(kv[1]).removingPercentEncoding ?? String(kv[1])) : ""
                query[key] = value
            }
        }
        self.query = query
        json = body.isEmpty ? nil : try? JSONDecoder().decode(JSONValue.self, from: Data(body))
    }
}

/// What a fake has seen so far.
public struct FakeLLMCounters: Sendable, Equatable {
    /// Requests received (every one, including those the fake rejected itself).
    public var calls = 0
    /// Responses the script played to the end.
    public var completed = 0
    /// Responses the client abandoned (closed the connection) before the script ended.
    public var clientDisconnects = 0
    public var openConnections = 0
    /// Connections accepted since the start (keep-alive reuses one for many calls).
    public var acceptedConnections = 0
    /// Connections closed since the start, by either side.
    public var closedConnections = 0
    /// Responses being played right now, and the most at any one time.
    public var activeResponses = 0
    public var peakActiveResponses = 0
}
