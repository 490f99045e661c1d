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
        try """
            model_list:
              - model_name: gpt-4o
                litellm_params:
                  model: openai/gpt-4o
                  api_base: "\(upstream)"
                  api_key: "\(key)"
            litellm_settings:
              telemetry: false
              drop_params: true
              turn_off_message_logging: true
            general_settings:
              disable_spend_logs: true

            """.write(toFile: config, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["--config", config, "--host", "127.0.0.1", "--port", String(port), "--num_workers", "1"]
        var environment = ProcessInfo.processInfo.environment
        environment["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
        environment["LITELLM_LOG"] = "ERROR"
        environment["LITELLM_TELEMETRY"] = "False"
        environment["NO_DOCS"] = "True"
        process.environment = environment
        let log = FileHandle(forWritingAtPath: "/dev/null")
        process.standardOutput = log
        process.standardError = log
        try process.run()
        defer {
            process.terminate()
            process.waitUntilExit()
        }
        let base = "http://127.0.0.1:\(port)"
        try await waitUntilReady(base + "/health/liveliness", process: process)
        // One call first: LiteLLM sets up its client and router lazily.
        _ = try await StreamingHTTPLoad.run(
            url: base + "/v1/chat/completions", key: key, model: "gpt-4o", concurrency: 1, rounds: 1)
        return try await StreamingHTTPLoad.run(
            url: base + "/v1/chat/completions", key: key, model: "gpt-4o", concurrency: concurrency, rounds: rounds)
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
