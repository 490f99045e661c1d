/// A failure on this side of the socket (a file that cannot be read or written): exit 1, with
/// the message on stderr (as JSON with `--json`, like daemon errors).
struct CommandFailure: Error, CustomStringConvertible {
    var message: String

    init(_ message: String) { self.message = message }

    var description: String { message }
}
