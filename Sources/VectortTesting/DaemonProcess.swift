public import Foundation
public import Protocol

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
    public let process: Process
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

    public init(_ options: Options = Options(), in existing: TemporaryDirectory? = nil) throws {
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
        ]
        if let notify { environment["NOTIFY_SOCKET"] = notify.path }
        environment.merge(options.environment) { _, new in new }

        let process = Process()
        if options.wrapper.isEmpty {
            process.executableURL = URL(fileURLWithPath: options.binary)
            process.arguments = arguments
        } else {
            process.executableURL = URL(fileURLWithPath: options.wrapper[0])
            process.arguments = Array(options.wrapper.dropFirst()) + [options.binary] + arguments
        }
        process.environment = environment
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
        process.standardError = log
        process.standardOutput = log
        process.standardInput = FileHandle.nullDevice
        startedAt = .now
        try ProcessLaunch.run(process)
        self.process = process
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        notify?.stop()
    }

    public var pid: Int32 { process.processIdentifier }

    /// What the daemon printed so far.
    public var output: String {
        (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
    }

    /// Connects, retrying while the socket is not there yet.
    public func connect(timeout: Duration = .seconds(20), callTimeout: Double = 10) async throws -> VectortClient {
        let deadline = ContinuousClock.now + timeout
        while true {
            do {
                return try VectortClient.connect(socketPath: socketPath, timeout: callTimeout)
            } catch {
                switch error {
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
        kill(process.processIdentifier, signal)
    }

    /// Waits for the process to exit; its exit status, or nil on timeout.
    public func waitForExit(timeout: Duration = .seconds(30)) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            guard ContinuousClock.now < deadline else { return nil }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return process.terminationStatus
    }
}

/// Runs a command to completion and captures its output.
public struct CommandResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

public func runCommand(
    _ executable: String, _ arguments: [String], environment: [String: String]? = nil, input: String? = nil
) throws -> CommandResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let environment { process.environment = environment }
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    if let input {
        let inPipe = Pipe()
        process.standardInput = inPipe
        try ProcessLaunch.run(process)
        inPipe.fileHandleForWriting.write(Data(input.utf8))
        try inPipe.fileHandleForWriting.close()
    } else {
        process.standardInput = FileHandle.nullDevice
        try ProcessLaunch.run(process)
    }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return CommandResult(
        status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
        stderr: String(decoding: errData, as: UTF8.self))
}
