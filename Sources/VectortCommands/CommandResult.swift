/// What a command prints: one Codable value that `--json` encodes as it is, and the text people
/// read instead. `Output.render` is the one place that chooses between the two.
protocol CommandResult: Encodable {
    /// Written to standard output exactly as it is: lines that each end with a line break (see
    /// `Output.lines`), or a file's contents, which may not.
    var text: String { get }
}
