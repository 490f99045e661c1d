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

    /// Global options may come before the command (`vectortctl --json status`): they are moved
    /// after it, where every command declares them.
    static func main() {
        main(GlobalOptions.movedAfterCommand(Array(CommandLine.arguments.dropFirst())))
    }
}

/// Options every command takes.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "Control socket path (default: $VECTORTD_SOCKET, else /run/vectortd.sock).")
    var socket: String?

    @Flag(name: .long, help: "Print exactly one JSON document on stdout (errors as JSON on stderr).")
    var json = false

    @Option(name: .long, help: "Seconds to wait for each reply.")
    var timeout: Double = 10

    /// `[--socket P, --json, status, x]` → `[status, --socket P, --json, x]`.
    static func movedAfterCommand(_ arguments: [String]) -> [String] {
        var leading: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--json" {
                leading.append(argument)
            } else if argument == "--socket" || argument == "--timeout" {
                guard index + 1 < arguments.count else { return arguments }
                leading += [argument, arguments[index + 1]]
                index += 1
            } else if argument.hasPrefix("--socket=") || argument.hasPrefix("--timeout=") {
                leading.append(argument)
            } else {
                break
            }
            index += 1
        }
        guard !leading.isEmpty, index < arguments.count, !arguments[index].hasPrefix("-") else { return arguments }
        return [arguments[index]] + leading + arguments[(index + 1)...]
    }

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
