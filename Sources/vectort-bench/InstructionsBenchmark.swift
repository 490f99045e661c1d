import ArgumentParser
import Foundation
import Protocol
import VectortTesting

#if canImport(Glibc)
import Glibc
#endif

/// CPU per call as instructions, which repeat exactly run to run where wall time on this
/// machine varies by more than the differences that matter: each daemon runs under
/// `valgrind --tool=callgrind` twice, once with a warm-up only and once with `calls` more
/// calls, and the difference of the two totals divided by `calls` is what one call costs the
/// daemon (every thread: event loop, tasks, writer). The baseline is another build of vectortd
/// (`--base`), measured in the same run.
struct InstructionsBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "instructions",
        abstract: "Instructions per Ping and per GetBalance in vectortd, against a baseline build, under callgrind.",
        discussion: """
            bench/instructions.sh builds the baseline (by default the commit before the hostile-clients \
            issue) in .build-base and runs this. Goal of that issue: at most 5 % more instructions per call \
            with its limits on.
            """)

    @Option(help: "The baseline vectortd binary.")
    var base: String

    @Option(help: "The vectortd binary measured (default: next to this benchmark).")
    var daemon: String = Binaries.vectortd

    @Option(help: "Calls measured per method, beyond the warm-up.")
    var calls = 2000

    @Option(help: "Calls of warm-up, in both runs.")
    var warmup = 200

    @Option(help: "Allowed growth over the baseline, in percent.")
    var goal = 5.0

    func run() async throws {
        try Callgrind.requireValgrind()
        print("vectort-bench instructions: \(calls) calls per method after \(warmup) of warm-up, under callgrind")
        print("  baseline \(base)")
        print("  measured \(daemon)")
        print(row(["method", "baseline Ir/call", "measured Ir/call", "change"]))
        var verdicts: [String] = []
        for method in [MethodName.ping, MethodName.creditsGetBalance] {
            let before = try await perCall(binary: base, method: method)
            let after = try await perCall(binary: daemon, method: method)
            let change = (after / before - 1) * 100
            print(row([method, String(format: "%.0f", before), String(format: "%.0f", after), String(format: "%+.1f %%", change)]))
            verdicts.append(
                "\(method): \(String(format: "%+.1f %%", change)) instructions per call "
                    + (change <= goal ? "(goal ≤ \(goal.formatted()) %: met)" : "(goal ≤ \(goal.formatted()) %: NOT met)"))
        }
        print("")
        for verdict in verdicts { print(verdict) }
    }

    /// Instructions one call of `method` costs the daemon `binary`.
    private func perCall(binary: String, method: String) async throws -> Double {
        let idle = try await totalInstructions(binary: binary, method: method, calls: 0)
        let busy = try await totalInstructions(binary: binary, method: method, calls: calls)
        return Double(busy - idle) / Double(calls)
    }

    /// Everything the daemon executed from start to exit, with `warmup + calls` calls.
    private func totalInstructions(binary: String, method: String, calls: Int) async throws -> Int {
        let directory = try TemporaryDirectory(prefix: "vtbi")
        let profile = directory.file("callgrind.out")
        var options = DaemonProcess.Options()
        options.binary = binary
        options.config = "log:\n  level: warning\n"
        options.wrapper = Callgrind.command(profile: profile)
        let daemon = try await DaemonProcess(options, in: directory)
        let client = try await daemon.connect(timeout: .seconds(120), callTimeout: 120)
        let user = try await client.call(MethodName.usersCreate, ["email": "bench@example.com"])
        let parameters: [String: JSONValue] =
            method == MethodName.creditsGetBalance ? ["user": try user["id"].orThrow("no user id")] : [:]
        for _ in 0..<(warmup + calls) { _ = try await client.call(method, parameters) }
        client.close()
        daemon.signal(SIGTERM)
        guard await daemon.waitForExit(timeout: .seconds(120)) == 0 else {
            throw BenchmarkError(description: "the daemon under callgrind did not stop cleanly: \(daemon.output)")
        }
        return try Self.totals(profile)
    }

    /// The `totals:` (or `summary:`) line of a callgrind profile: instructions executed.
    static func totals(_ path: String) throws -> Int {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        for line in text.split(separator: "\n").reversed() {
            for prefix in ["totals:", "summary:"] where line.hasPrefix(prefix) {
                if let value = Int(line.dropFirst(prefix.count).trimmingCharacters(in: .whitespaces).split(separator: " ")[0]) {
                    return value
                }
            }
        }
        throw BenchmarkError(description: "no totals in \(path)")
    }

    private func row(_ cells: [String]) -> String {
        let widths = [30, 18, 18, 9]
        return zip(cells, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: " ")
    }
}

extension Optional {
    fileprivate func orThrow(_ message: String) throws -> Wrapped {
        guard let self else { throw BenchmarkError(description: message) }
        return self
    }
}

/// How the callgrind benchmarks run a process under valgrind.
enum Callgrind {
    static let valgrind = "/usr/bin/valgrind"

    static func requireValgrind() throws {
        guard FileManager.default.isExecutableFile(atPath: valgrind) else {
            throw BenchmarkError(description: "valgrind is not installed (apt-get install valgrind)")
        }
    }

    /// valgrind and its arguments, to put before the command measured; `separateThreads`
    /// writes one profile per thread (`profile-01`, `profile-02`, …).
    static func command(profile: String, separateThreads: Bool = false) -> [String] {
        [valgrind, "--tool=callgrind", "--callgrind-out-file=\(profile)"]
            + (separateThreads ? ["--separate-threads=yes"] : []) + ["--dump-line=no", "--compress-strings=no"]
    }

    /// This benchmark's own binary, which serves the floors (`relay-floor`, `journal-floor`).
    static var benchExecutable: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }
}
