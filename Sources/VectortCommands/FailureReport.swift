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
        if let wire = error.remoteError {
            self.error = wire.name.rawValue
            parameters = wire.parameters
        } else {
            self.error = error.code.description
        }
    }

    init(_ failure: CommandFailure) {
        error = "failure"
        message = failure.message
    }

    var text: String { Output.lines(["vectortctl: \(message)"] + details) }
}
