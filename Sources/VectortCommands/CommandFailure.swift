import Foundation
import Protocol

/// A failure on this side of the socket (a file that cannot be read or written): exit 1, with
/// the message on stderr (as JSON with `--json`, like daemon errors).
struct CommandFailure: Error, CustomStringConvertible {
    var message: String

    init(_ message: String) { self.message = message }

    var description: String { message }

    func report(json: Bool) {
        if json {
            let object: JSONValue = ["error": "failure", "message": .string(message)]
            let data = (try? WireCoding.encoder.encode(object)) ?? Data()
            FileHandle.standardError.write(data + Data("\n".utf8))
        } else {
            FileHandle.standardError.write(Data("vectortctl: \(message)\n".utf8))
        }
    }
}
