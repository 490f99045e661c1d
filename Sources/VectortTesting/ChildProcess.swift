import Foundation
import Subprocess
import SystemPackage
import VectortCore

#if canImport(Glibc)
import Glibc
#endif

/// A long-running child process (a daemon, a browser) whose output goes to a file, started and
/// waited for by swift-subprocess: no thread is held while it runs, and no child is ever
/// started through Foundation's `Process`, whose `run()` crashed in CI while other threads of
/// the test process started children too.
public final class ChildProcess: Sendable {
    public let pid: Int32
    private let exitStatus: Locked<Int32?>
    private let finished: Task<Void, Never>

    private init(pid: Int32, exitStatus: Locked<Int32?>, finished: Task<Void, Never>) {
        self.pid = pid
        self.exitStatus = exitStatus
        self.finished = finished
    }

    /// Starts `executable` with exactly `environment`, its standard output appended to
    /// `outputPath` and its standard error to `errorPath` (default: the same file), both created
    /// if missing; standard input is empty.
    public static func start(
        _ executable: String, _ arguments: [String], environment: [String: String], outputPath: String,
        errorPath: String? = nil, workingDirectory: String? = nil
    ) async throws -> ChildProcess {
        func open(_ path: String) throws -> FileDescriptor {
            try FileDescriptor.open(
                FilePath(path), .writeOnly, options: [.append, .create, .closeOnExec],
                permissions: [.ownerReadWrite, .groupRead, .otherRead])
        }
        let stdout = try open(outputPath)
        let stderr: FileDescriptor
        do {
            stderr = try errorPath.map(open) ?? stdout.duplicate()
        } catch {
            try? stdout.close()
            throw error
        }
        let configuration = Configuration(
            executable: .path(FilePath(executable)), arguments: Arguments(arguments),
            environment: subprocessEnvironment(environment),
            workingDirectory: workingDirectory.map { FilePath($0) })
        let (started, starting) = AsyncThrowingStream.makeStream(of: Int32.self)
        let exitStatus = Locked<Int32?>(nil)
        let finished = Task {
            do {
                let result = try await Subprocess.run(
                    configuration, input: .none,
                    output: .fileDescriptor(stdout, closeAfterSpawningProcess: true),
                    error: .fileDescriptor(stderr, closeAfterSpawningProcess: true)
                ) { execution in
                    starting.yield(execution.processIdentifier.value)
                    starting.finish()
                }
                exitStatus.value = exitCode(result.terminationStatus)
            } catch {
                starting.finish(throwing: error)
                exitStatus.value = 127
            }
        }
        for try await pid in started {
            return ChildProcess(pid: pid, exitStatus: exitStatus, finished: finished)
        }
        throw CocoaError(.executableLoad)
    }

    deinit {
        if exitStatus.value == nil { kill(pid, SIGKILL) }
    }

    public var isRunning: Bool { exitStatus.value == nil }

    /// The exit status (128 + the signal for a process a signal ended); nil while it runs.
    public var terminationStatus: Int32? { exitStatus.value }

    public func signal(_ signal: Int32) {
        if isRunning { kill(pid, signal) }
    }

    /// Waits for the process to exit; its exit status, or nil on timeout.
    public func waitForExit(timeout: Duration = .seconds(30)) async -> Int32? {
        await Polling.until(timeout: timeout, every: .milliseconds(10)) { exitStatus.value }
    }

    /// Waits for the process to exit, however long it takes.
    public func waitForExit() async -> Int32 {
        await finished.value
        return exitStatus.value ?? 127
    }
}

/// Exactly these variables, as swift-subprocess takes them.
func subprocessEnvironment(_ values: [String: String]) -> Environment {
    .custom(Dictionary(uniqueKeysWithValues: values.map { (Environment.Key(stringLiteral: $0.key), $0.value) }))
}

/// The exit status as a shell reports it: the code, or 128 + the signal.
func exitCode(_ status: TerminationStatus) -> Int32 {
    switch status {
    case .exited(let code): code
    case .signaled(let signal): 128 + signal
    }
}
