public import ArgumentParser
import Foundation
import Protocol

/// The control client's command line; `vectortctl`'s main runs it.
public struct VectortCtl: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "vectortctl",
        abstract: "Control and inspect a running vectortd.",
        discussion: """
            Talks to vectortd over its control socket: --socket, else $VECTORTD_SOCKET, else /run/vectortd.sock.
            Read commands print a table, or exactly one JSON document with --json.

            users, projects and credits manage accounts, their projects and versions, and the credit \
            ledger (balances, history, grants, holds, verification); `vectortctl users --help` and so on \
            list their commands.

            Exit codes: 0 ok; 1 failure (status: degraded or failing; credits verify: a mismatch; a local \
            file that cannot be read or written); 2 vectortd answered with an error; \
            3 vectortd not reachable; 4 permission denied; 5 timeout; 64 usage error.
            """,
        version: vectortVersion,
        subcommands: [
            Status.self, Ping.self, Describe.self, Reload.self, Call.self, Users.self, Projects.self, Credits.self,
            Generate.self, Generations.self, CodeCommand.self, BuildCommand.self, DiffCommand.self, RestoreCommand.self, Projects.Versions.self, CancelCommand.self, Providers.self, PaymentsCommand.self, ExportCommand.self, DeployCommand.self, Deployments.self,
            Stats.self, Events.self, Usage.self,
        ])

    public init() {}

    /// Global options may come before the command (`vectortctl --json status`,
    /// `vectortctl --json users list`): they are moved after it, where every command declares them.
    public static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        main(GlobalOptions.movedAfterCommand(arguments, commands: configuration.subcommands))
    }
}

/// Options every command takes.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "Control socket path (default: $VECTORTD_SOCKET, else /run/vectortd.sock).")
    var socket: String?

    @Flag(name: .long, help: "Print exactly one JSON document on stdout (errors as JSON on stderr).")
    var json = false

    @Option(name: .long, help: "Seconds to wait for each reply (default 10; generate waits 300 for the whole generation).")
    var timeout: Double?

    /// The `--timeout` of commands that do not say otherwise.
    static let defaultTimeout: Double = 10

    /// `[--socket P, --json, status, x]` → `[status, --socket P, --json, x]`; through groups,
    /// `[--json, users, list]` → `[users, list, --json]`.
    static func movedAfterCommand(_ arguments: [String], commands: [any ParsableCommand.Type] = []) -> [String] {
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
        var end = index + 1
        var group = commands.first { $0._commandName == arguments[index] }
        while end < arguments.count,
            let sub = group?.configuration.subcommands.first(where: { $0._commandName == arguments[end] })
        {
            group = sub
            end += 1
        }
        return Array(arguments[index..<end]) + leading + arguments[end...]
    }

    /// How a command's result is printed.
    var format: Output.Format { json ? .json : .text }

    /// How each result of a stream is printed: its text, or one JSON document per line.
    var streamFormat: Output.Format { json ? .jsonLine : .text }

    var socketPath: String {
        SocketPath.forClient(explicit: socket, environment: ProcessInfo.processInfo.environment)
    }

    func validate() throws {
        if let timeout, !(timeout > 0 && timeout.isFinite) {
            throw ValidationError("--timeout must be a positive number of seconds")
        }
    }

    func connect() throws -> VectortClient {
        try VectortClient.connect(socketPath: socketPath, timeout: timeout ?? Self.defaultTimeout)
    }

    /// Runs `body`, turning client errors into a message and the exit code of the one table.
    func run(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch let error as VectortClientError {
            report(FailureReport(error))
            throw ExitCode(ExitCodes.code(for: error))
        } catch let failure as CommandFailure {
            report(FailureReport(failure))
            throw ExitCode(ExitCodes.failure)
        }
    }

    /// Prints a failure on standard error: one line of JSON with `--json`, else its text.
    func report(_ failure: FailureReport) {
        Output.render(failure, as: json ? .jsonLine : .text, to: .standardError)
    }
}
