import ArgumentParser
import Foundation
import Protocol

@main
struct VectortCtl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vectortctl",
        abstract: "Control and inspect a running vectortd.",
        discussion: """
            Talks to vectortd over its control socket: --socket, else $VECTORTD_SOCKET, else /run/vectortd.sock.
            Read commands print a table, or exactly one JSON document with --json.

            Exit codes: 0 ok; 1 failure (status: degraded or failing); 2 vectortd answered with an error; \
            3 vectortd not reachable; 4 permission denied; 5 timeout; 64 usage error.
            """,
        version: vectortVersion,
        subcommands: [Status.self, Ping.self, Describe.self, Reload.self, Call.self])
}

/// Options every command takes.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "Control socket path (default: $VECTORTD_SOCKET, else /run/vectortd.sock).")
    var socket: String?

    @Flag(name: .long, help: "Print exactly one JSON document on stdout (errors as JSON on stderr).")
    var json = false

    @Option(name: .long, help: "Seconds to wait for each reply.")
    var timeout: Double = 10

    var socketPath: String {
        SocketPath.forClient(explicit: socket, environment: ProcessInfo.processInfo.environment)
    }

    func validate() throws {
        guard timeout > 0, timeout.isFinite else { throw ValidationError("--timeout must be a positive number of seconds") }
    }

    func connect() throws -> VectortClient {
        try VectortClient.connect(socketPath: socketPath, timeout: timeout)
    }

    /// Runs `body`, turning client errors into a message and the exit code of the one table.
    func run(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch let error as VectortClientError {
            Output.error(error, json: json)
            throw ExitCode(ExitCodes.code(for: error))
        }
    }
}
