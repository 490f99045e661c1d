import Foundation
import Protocol
import Subprocess
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// A real `vectortd` process in its own temporary directory, for black-box tests and benchmarks.
///
/// State, runtime and credentials directories and the socket live under one temporary
/// directory. The environment is minimal and explicit: nothing leaks in from the test runner.
public final class DaemonProcess {
    public let directory: TemporaryDirectory
    public let socketPath: String
    public let process: ChildProcess
    public let stderrPath: String
    public let notify: NotifySocket?
    public let startedAt: ContinuousClock.Instant

    public struct Options {
        /// YAML written to `vectortd.yaml` and passed with `--config`.
        public var config: String?
        public var environment: [String: String] = [:]
        public var arguments: [String] = []
        /// A command the daemon is started through (`systemd-socket-activate …`, `unshare …`).
        public var wrapper: [String] = []
        /// Set `NOTIFY_SOCKET` to a fake notify socket.
        public var withNotifySocket = true
        /// Secrets written as credential files.
        public var credentials: [String: String] = [:]
        /// Pass `--socket` (off when the socket comes from the wrapper).
        public var passSocketFlag = true
        public var binary: String = Binaries.vectortd

        public init() {}
    }

    public init(_ options: Options = Options(), in existing: TemporaryDirectory? = nil) async throws {
        let directory = try existing ?? TemporaryDirectory(prefix: "vtd")
        self.directory = directory
        socketPath = directory.file("run/vectortd.sock")
        stderrPath = directory.file("stderr.log")
        notify = options.withNotifySocket ? try NotifySocket(path: directory.file("notify.sock")) : nil

        var arguments = [
            "--state-directory", directory.file("state"), "--runtime-directory", directory.file("run"),
        ]
        if options.passSocketFlag { arguments += ["--socket", socketPath] }
        if let config = options.config {
            arguments += ["--config", try directory.write("vectortd.yaml", config)]
        }
        if !options.credentials.isEmpty {
            for (name, value) in options.credentials { try directory.write("credentials/\(name)", value, mode: 0o600) }
            arguments += ["--credentials-directory", directory.file("credentials")]
        }
        arguments += options.arguments

        var environment = [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
            "HOME": directory.path,
            "VECTORTD_LOG_TARGET": "stderr",
            // Daemons of parallel tests must not all take the webhook's default port.
            "VECTORTD_WEBHOOK_LISTEN": "127.0.0.1:0", "VECTORTD_API_LISTEN": "127.0.0.1:0", "VECTORTD_METRICS_LISTEN": "127.0.0.1:0", "VECTORTD_API_PREVIEW_LISTEN": "127.0.0.1:0",
        ]
        if let notify { environment["NOTIFY_SOCKET"] = notify.path }
        environment.merge(options.environment) { _, new in new }

        let command = options.wrapper.isEmpty ? [options.binary] + arguments : options.wrapper + [options.binary] + arguments
        startedAt = .now
        process = try await ChildProcess.start(
            command[0], Array(command.dropFirst()), environment: environment, outputPath: stderrPath)
    }

    deinit {
        process.signal(SIGKILL)
        notify?.stop()
    }

    public var pid: Int32 { process.pid }

    public var isRunning: Bool { process.isRunning }

    /// What the daemon printed so far.
    public var output: String {
        (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
    }

    /// Connects, retrying while the socket is not there yet.
    public func connect(timeout: Duration = .seconds(20), callTimeout: Double = 10) async throws -> AsyncVectortClient {
        let deadline = ContinuousClock.now + timeout
        while true {
            do {
                return try await AsyncVectortClient.connect(socketPath: socketPath, timeout: callTimeout)
            } catch {
                switch error.code {
                case .notRunning, .connectionClosed:
                    guard ContinuousClock.now < deadline, process.isRunning else { throw error }
                    try await Task.sleep(for: .milliseconds(20))
                default:
                    throw error
                }
            }
        }
    }

    public func signal(_ signal: Int32) {
        process.signal(signal)
    }

    /// Waits for the process to exit; its exit status, or nil on timeout.
    public func waitForExit(timeout: Duration = .seconds(30)) async -> Int32? {
        await process.waitForExit(timeout: timeout)
    }
}

/// What a command printed and how it ended.
public struct CommandResult: Sendable {
    /// The exit status, or 128 + the signal that ended the command.
    public var status: Int32
    public var stdoutBytes: [UInt8]
    public var stderr: String
    public var stdout: String { String(decoding: stdoutBytes, as: UTF8.self) }
}

/// Runs a command to completion and captures its output, without blocking a thread: the child
/// is waited for by swift-subprocess's process monitor.
public func runCommand(
    _ executable: String, _ arguments: [String], environment: [String: String]? = nil, input: String? = nil,
    workingDirectory: String? = nil
) async throws -> CommandResult {
    let environment = environment.map(subprocessEnvironment) ?? .inherit
    let configuration = Configuration(
        executable: .path(FilePath(executable)), arguments: Arguments(arguments), environment: environment,
        workingDirectory: workingDirectory.map { FilePath($0) })
    let limit = 256 * 1024 * 1024
    let result =
        if let input {
            try await Subprocess.run(
                configuration, input: .string(input), output: .bytes(limit: limit), error: .string(limit: limit))
        } else {
            try await Subprocess.run(configuration, input: .none, output: .bytes(limit: limit), error: .string(limit: limit))
        }
    return CommandResult(status: exitCode(result.terminationStatus), stdoutBytes: result.standardOutput, stderr: result.standardError)
}
