import ArgumentParser
import Foundation
import Histogram
import Protocol
import VectortTesting

struct IPCBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ipc",
        abstract: "Ping and GetInfo through vectortd's socket against a bare echo server on the same framing.",
        discussion: "Goals: at least 50 % of the floor's throughput; p99 under 1 ms at 16 connections without pipelining.")

    @Option(help: "Connection counts to measure.")
    var connections: [Int] = [1, 16, 64]

    @Option(help: "Calls sent before reading replies, when pipelining.")
    var depth = 16

    @Option(help: "Seconds per measurement.")
    var seconds = 3.0

    @Option(help: "The vectortd binary (default: next to this benchmark).")
    var daemon: String = Binaries.vectortd

    func run() async throws {
        let directory = try TemporaryDirectory(prefix: "vtb")
        var options = DaemonProcess.Options()
        options.binary = daemon
        options.config = "log:\n  level: warning\ncontrol:\n  max_connections: 4096\n"
        let daemonProcess = try await DaemonProcess(options, in: directory)
        _ = try await daemonProcess.connect()
        // The floor runs in its own process, as the daemon does, so both sides of every
        // comparison pay the same cross-process wake-ups.
        let floorPath = directory.file("floor.sock")
        let floor = Process()
        floor.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        floor.arguments = ["echo-server", "--path", floorPath]
        try floor.run()
        defer {
            floor.terminate()
            floor.waitUntilExit()
        }
        try await Self.waitForSocket(floorPath)

        let ping = Array(try WireCoding.encoder.encode(CallRequest(method: MethodName.ping)))
        let getInfo = Array(try WireCoding.encoder.encode(CallRequest(method: MethodName.getInfo)))
        print("vectort-bench ipc: \(seconds) s per row, \(ProcessInfo.processInfo.activeProcessorCount) cores, daemon \(daemon)")
        print(row(["target", "conns", "pipeline", "req/s", "p50 µs", "p99 µs", "vs floor"]))
        var verdicts: [String] = []
        for count in connections {
            for pipelined in [false, true] {
                let depth = pipelined ? self.depth : 1
                let floorResult = try await measure(path: floorPath, count: count, depth: depth, payload: ping, handshake: false)
                print(describe("echo floor", count, depth, floorResult, floor: nil))
                for (name, payload) in [("Ping", ping), ("GetInfo", getInfo)] {
                    let result = try await measure(
                        path: daemonProcess.socketPath, count: count, depth: depth, payload: payload, handshake: true)
                    print(describe("vectortd \(name)", count, depth, result, floor: floorResult))
                    if name == "Ping" {
                        let ratio = result.requestsPerSecond / floorResult.requestsPerSecond
                        verdicts.append(
                            "Ping \(count) conns\(pipelined ? " pipelined" : ""): \(percent(ratio)) of floor "
                                + (ratio >= 0.5 ? "(goal ≥ 50 %: met)" : "(goal ≥ 50 %: NOT met)"))
                        if count == 16 && !pipelined {
                            let p99 = result.latency.valueAtPercentile(99)
                            verdicts.append("Ping p99 at 16 conns: \(p99) µs " + (p99 < 1000 ? "(goal < 1 ms: met)" : "(goal < 1 ms: NOT met)"))
                        }
                    }
                }
            }
        }
        print("")
        for verdict in verdicts { print(verdict) }
    }

    static func waitForSocket(_ path: String) async throws {
        for _ in 0..<500 {
            if (try? VectortClient.connect(socketPath: path, timeout: 1, handshake: false)) != nil { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw BenchmarkError(description: "the echo floor did not start at \(path)")
    }

    private func measure(path: String, count: Int, depth: Int, payload: [UInt8], handshake: Bool) async throws
        -> LoadGenerator.Result
    {
        let generator = LoadGenerator(
            socketPath: path, connections: count, depth: depth, duration: .milliseconds(Int64(seconds * 1000)),
            payload: payload, handshake: handshake)
        return try await Task.detached { try generator.run() }.value
    }

    private func describe(_ target: String, _ count: Int, _ depth: Int, _ result: LoadGenerator.Result, floor: LoadGenerator.Result?) -> String {
        // Pipelined latencies are per batch of `depth` calls.
        row([
            target, String(count), depth == 1 ? "no" : "\(depth)", String(format: "%.0f", result.requestsPerSecond),
            String(result.latency.valueAtPercentile(50)), String(result.latency.valueAtPercentile(99)),
            floor.map { percent(result.requestsPerSecond / $0.requestsPerSecond) } ?? "—",
        ])
    }

    private func percent(_ ratio: Double) -> String { String(format: "%.0f %%", ratio * 100) }

    private func row(_ cells: [String]) -> String {
        let widths = [18, 6, 9, 10, 8, 8, 9]
        return zip(cells, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: " ")
    }
}
