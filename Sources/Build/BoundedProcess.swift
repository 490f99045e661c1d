import Foundation
import Subprocess
import Synchronization
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// Runs one child of a build (esbuild, or Chromium for the render check): in its own process
/// group (the deadline kills the group), with only the environment it needs, its output
/// captured up to a cap, and, for esbuild, every file it writes capped too (`prlimit --fsize`,
/// since the child inherits no limit otherwise). It is waited for by swift-subprocess's
/// monitor, holding no thread.
struct BoundedProcess: Sendable {
    struct Outcome: Sendable {
        var status: Int32
        var output: String
        var timedOut: Bool
        var outputOverLimit: Bool
    }

    let executable: String
    let timeout: Duration
    let maxOutputBytes: Int
    /// Cap each file the child writes at `maxOutputBytes`.
    var capFiles = true

    static let prlimit = "/usr/bin/prlimit"

    func run(_ arguments: [String], workingDirectory: String, environment: [String: String]) async throws -> Outcome {
        var command = [executable] + arguments
        if capFiles, FileManager.default.isExecutableFile(atPath: Self.prlimit) {
            command = [Self.prlimit, "--fsize=\(maxOutputBytes)", "--"] + command
        }
        var options = PlatformOptions()
        options.processGroupID = 0
        var values: [Environment.Key: String] = [:]
        for (key, value) in environment { values[Environment.Key(stringLiteral: key)] = value }
        let configuration = Configuration(
            executable: .path(FilePath(command[0])), arguments: Arguments(Array(command.dropFirst())),
            environment: .custom(values), workingDirectory: FilePath(workingDirectory), platformOptions: options)

        let state = RunState()
        let limit = maxOutputBytes
        let timeout = timeout
        return try await withThrowingTaskGroup(of: Outcome?.self) { group in
            group.addTask {
                do {
                    let result = try await Subprocess.run(
                        configuration, input: .none, output: .string(limit: limit), error: .string(limit: limit)
                    ) { execution in
                        state.pid.withLock { $0 = execution.processIdentifier.value }
                    }
                    let status: Int32 =
                        switch result.terminationStatus {
                        case .exited(let code): code
                        case .signaled(let signal): 128 + signal
                        }
                    return Outcome(
                        status: status, output: (result.standardError ?? "") + (result.standardOutput ?? ""),
                        timedOut: state.timedOut.load(ordering: .relaxed), outputOverLimit: false)
                } catch let error as SubprocessError where error.code == .outputLimitExceeded {
                    if let process = state.pid.withLock({ $0 }) { kill(-process, SIGKILL) }
                    return Outcome(status: 137, output: "", timedOut: false, outputOverLimit: true)
                }
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                state.timedOut.store(true, ordering: .relaxed)
                if let process = state.pid.withLock({ $0 }) { kill(-process, SIGKILL) }
                return nil
            }
            while let next = try await group.next() {
                if let outcome = next {
                    group.cancelAll()
                    return outcome
                }
            }
            throw CancellationError()
        }
    }
}

/// What the deadline and the run share: the child's pid (for its process group) and whether
/// the deadline passed.
private final class RunState: Sendable {
    let pid = Mutex<pid_t?>(nil)
    let timedOut = Atomic<Bool>(false)
}
