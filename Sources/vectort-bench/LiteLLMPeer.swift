import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import VectortTesting

#if canImport(Glibc)
import Glibc
#endif

/// The LiteLLM proxy as the peer: configured with the same fake upstream, measured with the
/// same streaming load as the floor.
enum LiteLLMPeer {
    static func measure(
        executable: String, upstream: String, key: String, concurrency: Int, rounds: Int
    ) async throws -> Latencies {
        let directory = try TemporaryDirectory(prefix: "vtlitellm")
        let port = try freePort()
        let config = directory.path + "/litellm.yaml"
        let masterKey = "sk-bench-master-\(UUID().uuidString.prefix(8))"
        // No database, no callbacks, no retries of its own: the proxy path alone, as fair as it gets.
        try """
            model_list:
              - model_name: gpt-4o
                litellm_params:
                  model: openai/gpt-4o
                  api_base: "\(upstream)"
                  api_key: "\(key)"
            litellm_settings:
              num_retries: 0
              request_timeout: 600
              callbacks: []
              success_callback: []
              failure_callback: []
            general_settings:
              master_key: "\(masterKey)"
              disable_spend_logs: true
              disable_error_logs: true
              background_health_checks: false

            """.write(toFile: config, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["--config", config, "--host", "127.0.0.1", "--port", String(port), "--num_workers", "1"]
        // A clean environment (an inherited DATABASE_URL would change what it does) and a scratch
        // working directory (it is put on Python's import path).
        process.environment = [
            "PATH": "/usr/bin:/bin", "HOME": NSHomeDirectory(), "LITELLM_MODE": "PRODUCTION",
            "LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_TELEMETRY_DISABLED": "true", "LITELLM_LOG": "ERROR",
        ]
        process.currentDirectoryURL = URL(fileURLWithPath: directory.path)
        let log = FileHandle(forWritingAtPath: "/dev/null")
        process.standardOutput = log
        process.standardError = log
        try process.run()
        defer { stop(process) }
        let base = "http://127.0.0.1:\(port)"
        try await waitUntilReady(base + "/health/readiness", process: process)
        // Warm-up: LiteLLM sets up its clients and router on the first calls.
        _ = try await StreamingHTTPLoad.run(
            url: base + "/v1/chat/completions", key: masterKey, model: "gpt-4o", concurrency: 4, rounds: 3)
        return try await StreamingHTTPLoad.run(
            url: base + "/v1/chat/completions", key: masterKey, model: "gpt-4o", concurrency: concurrency,
            rounds: rounds)
    }

    /// SIGTERM, and SIGKILL when the proxy has not exited 10 s later (it can ignore SIGTERM).
    static func stop(_ process: Process) {
        process.terminate()
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline { usleep(50_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    static func waitUntilReady(_ url: String, process: Process) async throws {
        let client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton)
        defer { Task { try? await client.shutdown() } }
        let deadline = ContinuousClock.now + .seconds(180)
        while ContinuousClock.now < deadline {
            guard process.isRunning else { throw BenchmarkError(description: "litellm exited during start-up") }
            if let response = try? await client.execute(HTTPClientRequest(url: url), timeout: .seconds(2)),
                response.status == .ok
            {
                return
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        throw BenchmarkError(description: "litellm did not answer \(url) within 180 s")
    }

    /// A port that was free a moment ago.
    static func freePort() throws -> Int {
        let channel = try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).wait()
        let port = channel.localAddress?.port ?? 0
        try channel.close().wait()
        return port
    }
}
