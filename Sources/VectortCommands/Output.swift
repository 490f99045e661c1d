import Foundation
import Protocol

/// Printing: a command's result as text for people or as JSON for scripts.
enum Output {
    enum Format {
        /// The result's `text`.
        case text
        /// The result as one pretty-printed JSON document.
        case json
        /// The result as one compact JSON document on one line, a line of a JSON-lines stream.
        case jsonLine
    }

    /// The one renderer of command results (and, on standard error, of failures).
    static func render(_ result: some CommandResult, as format: Format, to output: FileHandle = .standardOutput) {
        let text =
            switch format {
            case .text: result.text
            case .json: json(result, pretty: true) + "\n"
            case .jsonLine: json(result, pretty: false) + "\n"
            }
        output.write(Data(text.utf8))
    }

    /// A value as JSON text: pretty-printed, or compact on one line.
    static func json(_ value: some Encodable, pretty: Bool) -> String {
        let encoder = pretty ? WireCoding.prettyEncoder : WireCoding.encoder
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "null"
    }
}
