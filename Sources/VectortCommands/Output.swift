import Foundation
import Protocol

/// Printing: a command's result as text for people or as JSON for scripts, and its errors.
enum Output {
    enum Format {
        /// The result's `text`.
        case text
        /// The result as one pretty-printed JSON document.
        case json
        /// The result as one compact JSON document on one line, a line of a JSON-lines stream.
        case jsonLine
    }

    /// The one renderer of command results.
    static func render(_ result: some CommandResult, as format: Format) {
        switch format {
        case .text: write(result.text)
        case .json: write(json(result, pretty: true) + "\n")
        case .jsonLine: write(json(result, pretty: false) + "\n")
        }
    }

    static func error(_ error: VectortClientError, json: Bool) {
        if json {
            var object: [String: JSONValue] = ["message": .string(error.description)]
            switch error {
            case .remote(let wire):
                object["error"] = .string(wire.name.rawValue)
                object["parameters"] = .object(wire.parameters)
            case .notRunning: object["error"] = "not_running"
            case .permissionDenied: object["error"] = "permission_denied"
            case .protocolMismatch: object["error"] = "protocol_mismatch"
            case .timeout: object["error"] = "timeout"
            case .connectionClosed: object["error"] = "connection_closed"
            case .invalidReply: object["error"] = "invalid_reply"
            case .io: object["error"] = "io"
            }
            let data = (try? WireCoding.encoder.encode(JSONValue.object(object))) ?? Data()
            FileHandle.standardError.write(data + Data("\n".utf8))
        } else {
            FileHandle.standardError.write(Data("vectortctl: \(error.description)\n".utf8))
        }
    }

    /// A value as JSON text: pretty-printed, or compact on one line.
    static func json(_ value: some Encodable, pretty: Bool) -> String {
        let encoder = pretty ? WireCoding.prettyEncoder : WireCoding.encoder
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "null"
    }

    private static func write(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}
