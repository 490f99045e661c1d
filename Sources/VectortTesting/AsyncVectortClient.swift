public import Protocol

/// The blocking `VectortClient` for async tests: every call runs on a thread of its own
/// (`Blocking`), so a test waiting on the daemon never holds a cooperative-pool thread.
///
/// Like the client it wraps, one instance is one connection, used by one task at a time.
public final class AsyncVectortClient: @unchecked Sendable {
    private let client: VectortClient

    public var socketPath: String { client.socketPath }

    /// Default deadline of each call, `nil` for none.
    public var timeout: Double? {
        get { client.timeout }
        set { client.timeout = newValue }
    }

    public init(_ client: VectortClient) {
        self.client = client
    }

    public static func connect(
        socketPath: String, timeout: Double? = 10, handshake: Bool = true,
        maxMessageBytes: Int = Framing.defaultMaxMessageBytes
    ) async throws(VectortClientError) -> AsyncVectortClient {
        let client = try await Blocking.run { () throws(VectortClientError) in
            Unchecked(
                try VectortClient.connect(
                    socketPath: socketPath, timeout: timeout, handshake: handshake, maxMessageBytes: maxMessageBytes))
        }
        return AsyncVectortClient(client.value)
    }

    /// Closes the connection (does not block).
    public func close() {
        client.close()
    }

    public func call(
        _ method: String, _ parameters: [String: JSONValue] = [:], timeout: Double? = nil
    ) async throws(VectortClientError) -> JSONValue {
        try await onItsThread { client throws(VectortClientError) in try client.call(method, parameters, timeout: timeout) }
    }

    /// `onReply` runs on the call's thread while this task waits for the call.
    public func callStreaming(
        _ method: String, _ parameters: [String: JSONValue] = [:], timeout: Double? = nil,
        onReply: @escaping (CallReply) -> Void
    ) async throws(VectortClientError) -> JSONValue {
        let onReply = Unchecked(onReply)
        return try await onItsThread { client throws(VectortClientError) in
            try client.callStreaming(method, parameters, timeout: timeout, onReply: onReply.value)
        }
    }

    public func send(_ request: CallRequest, deadline: ContinuousClock.Instant? = nil) async throws(VectortClientError) {
        try await onItsThread { client throws(VectortClientError) in try client.send(request, deadline: deadline) }
    }

    public func sendFrame(_ payload: [UInt8], deadline: ContinuousClock.Instant? = nil) async throws(VectortClientError) {
        try await onItsThread { client throws(VectortClientError) in try client.sendFrame(payload, deadline: deadline) }
    }

    public func sendRaw(_ bytes: [UInt8]) async throws(VectortClientError) {
        try await onItsThread { client throws(VectortClientError) in try client.sendRaw(bytes) }
    }

    public func receive(deadline: ContinuousClock.Instant? = nil) async throws(VectortClientError) -> CallReply {
        try await onItsThread { client throws(VectortClientError) in try client.receive(deadline: deadline) }
    }

    public func receiveFrame(deadline: ContinuousClock.Instant?) async throws(VectortClientError) -> [UInt8] {
        try await onItsThread { client throws(VectortClientError) in try client.receiveFrame(deadline: deadline) }
    }

    /// Runs one blocking call of the wrapped client on a thread of its own.
    private func onItsThread<T>(
        _ body: @escaping @Sendable (VectortClient) throws(VectortClientError) -> T
    ) async throws(VectortClientError) -> T {
        let client = Unchecked(client)
        let result = try await Blocking.run { () throws(VectortClientError) in Unchecked(try body(client.value)) }
        return result.value
    }
}
