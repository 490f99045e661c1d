import ArgumentParser
import Protocol
import Testing

@testable import VectortCommands

/// The CLI's pure parts: the exit-code table, the error names it prints, and where global
/// options may stand. The commands themselves run against real daemons in DaemonTests.
@Suite("vectortctl without a daemon")
struct CommandLineTests {
    @Test(arguments: [
        (VectortClientError.notRunning(path: "/run/x.sock", reason: "No such file or directory"), ExitCodes.notReachable),
        (.permissionDenied(path: "/run/x.sock", reason: "Permission denied"), ExitCodes.permissionDenied),
        (.timeout(seconds: 1), ExitCodes.timeout),
        (.connectionClosed, ExitCodes.failure),
        (.invalidReply("not JSON"), ExitCodes.failure),
        (.protocolMismatch(client: 1, server: 2), ExitCodes.failure),
        (.io("read: boom"), ExitCodes.failure),
        (.remote(WireError(.insufficientCredits, "not enough credits", [:])), ExitCodes.daemonError),
        (.remote(WireError(.permissionDenied, "admin only", [:])), ExitCodes.permissionDenied),
        (.remote(WireError(.timeout, "too slow", [:])), ExitCodes.timeout),
    ])
    func everyClientErrorHasItsExitCode(error: VectortClientError, code: Int32) {
        #expect(ExitCodes.code(for: error) == code)
    }

    @Test func theErrorNamePrintedIsTheCodeOrTheDaemonsErrorName() {
        #expect(FailureReport(.connectionClosed).error == "connection_closed")
        #expect(FailureReport(.notRunning(path: "/s", reason: "r")).error == "not_running")
        let remote = FailureReport(.remote(WireError(.conflict, "settled", ["reason": "settled"])))
        #expect(remote.error == ErrorName.conflict.rawValue)
        #expect(remote.parameters?["reason"] == "settled")
    }

    @Test(arguments: [
        (["--json", "status"], ["status", "--json"]),
        (["--socket", "/s", "--json", "ping"], ["ping", "--socket", "/s", "--json"]),
        (["--timeout=5", "users", "list"], ["users", "list", "--timeout=5"]),
        (["status", "--json"], ["status", "--json"]),
        (["--json"], ["--json"]),
    ])
    func globalOptionsBeforeTheCommandMoveAfterIt(arguments: [String], expected: [String]) {
        #expect(GlobalOptions.movedAfterCommand(arguments, commands: VectortCtl.configuration.subcommands) == expected)
    }
}
