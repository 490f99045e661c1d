import ArgumentParser
import Protocol

struct Ping: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check that vectortd answers; prints the round trip time.")

    @OptionGroup var global: GlobalOptions

    /// The round trip; the socket it went through is shown to people only.
    struct Result: CommandResult {
        var ok = true
        var roundTripUs: Int64
        var socketPath: String

        enum CodingKeys: String, CodingKey {
            case ok
            case roundTripUs = "round_trip_us"
        }

        var text: String { Output.lines("pong from \(socketPath) in \(roundTripUs) µs") }
    }

    func run() throws {
        try global.run {
            let client = try global.connect()
            let start = ContinuousClock.now
            _ = try client.call(MethodName.ping)
            let elapsed = ContinuousClock.now - start
            let microseconds = elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000
            Output.render(Result(roundTripUs: microseconds, socketPath: client.socketPath), as: global.format)
        }
    }
}
