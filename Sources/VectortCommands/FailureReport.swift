import Protocol

/// A command's failure as printed on standard error: one line of JSON (`error`, `message` and,
/// for a daemon's error, its `parameters`) with `--json`, else `vectortctl: message` and details.
struct FailureReport: CommandResult {
    /// The daemon's error name (`io.vectort.NotFound`), or this side's (`not_running`, `failure`, …).
    var error: String
    var message: String
    var parameters: [String: JSONValue]?
    /// Lines people read after the message, such as a failed generation's issues; not in the JSON.
    var details: [String] = []

    enum CodingKeys: String, CodingKey {
        case error, message, parameters
    }

    init(_ error: VectortClientError) {
        message = error.description
        switch error {
        case .remote(let wire):
            self.error = wire.name.rawValue
            parameters = wire.parameters
        case .notRunning: self.error = "not_running"
        case .permissionDenied: self.error = "permission_denied"
        case .protocolMismatch: self.error = "protocol_mismatch"
        case .timeout: self.error = "timeout"
        case .connectionClosed: self.error = "connection_closed"
        case .invalidReply: self.error = "invalid_reply"
        case .io: self.error = "io"
        }
    }

    init(_ failure: CommandFailure) {
        error = "failure"
        message = failure.message
    }

    var text: String { Output.lines(["vectortctl: \(message)"] + details) }
}
