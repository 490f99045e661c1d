import ArgumentParser
import Foundation
import Protocol
import VectortTesting

#if canImport(Glibc)
import Glibc
#endif

struct StartupBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "startup",
        abstract: "Time from exec to READY=1 and idle RSS, against the same binary's bare process start.",
        discussion: "The floor is `vectortd --version`: exec, dynamic loading and exit, with no database or socket. Goals: READY in under 300 ms, idle RSS under 30 MB.")

    @Option(help: "Starts to measure (a fresh state directory each time).")
    var runs = 10

    @Option(help: "The vectortd binary (default: next to this benchmark).")
    var daemon: String = Binaries.vectortd

    func run() async throws {
        var ready: [Double] = []
        var rss: [Double] = []
        var privateMemory: [Double] = []
        var floor: [Double] = []
        for _ in 0..<runs {
            let start = ContinuousClock.now
            let result = try await runCommand(daemon, ["--version"])
            guard result.status == 0 else { throw BenchmarkError(description: "vectortd --version failed") }
            floor.append((ContinuousClock.now - start).seconds * 1000)
        }
        for _ in 0..<runs {
            let spawnedAt = NotifySocket.realtimeNanoseconds()
            var options = DaemonProcess.Options()
            options.binary = daemon
            options.config = "log:\n  level: warning\n"
            let process = try await DaemonProcess(options)
            let notify = try requireValue(process.notify)
            guard let message = await notify.waitFor("READY", "1", timeout: .seconds(30)),
                let readyAt = message.kernelNanoseconds
            else {
                throw BenchmarkError(description: "no READY=1; output: \(process.output)")
            }
            ready.append(Double(readyAt - spawnedAt) / 1e6)
            try await Task.sleep(for: .milliseconds(500))
            rss.append(Self.memoryMegabytes(pid: process.pid, field: "Rss"))
            privateMemory.append(Self.memoryMegabytes(pid: process.pid, field: "Anonymous"))
            process.signal(SIGTERM)
            _ = await process.waitForExit()
        }
        let readyMedian = median(ready)
        let floorMedian = median(floor)
        let rssMedian = median(rss)
        print("vectort-bench startup: \(runs) runs each, medians")
        print(String(format: "  exec → READY=1      %7.1f ms   (min %.1f, max %.1f)", readyMedian, ready.min()!, ready.max()!))
        print(String(format: "  floor: --version    %7.1f ms   exec + load + exit of the same binary", floorMedian))
        print(String(format: "  ratio to floor      %7.1f ×", readyMedian / floorMedian))
        print(String(format: "  idle RSS            %7.1f MB   (min %.1f, max %.1f)", rssMedian, rss.min()!, rss.max()!))
        print(
            String(
                format: "  of which anonymous %7.1f MB   (heap and stacks; the rest is file-backed code and data pages)",
                median(privateMemory)))
        print("  goal READY < 300 ms: \(readyMedian < 300 ? "met" : "NOT met"); goal RSS < 30 MB: \(rssMedian < 30 ? "met" : "NOT met")")
    }

    /// A field of /proc/PID/smaps_rollup, in MB.
    static func memoryMegabytes(pid: Int32, field: String) -> Double {
        guard let rollup = try? String(contentsOfFile: "/proc/\(pid)/smaps_rollup", encoding: .utf8),
            let line = rollup.split(separator: "\n").first(where: { $0.hasPrefix(field + ":") })
        else { return .nan }
        let kilobytes = Double(line.split(separator: " ").dropFirst().first ?? "") ?? .nan
        return kilobytes / 1024
    }

    private func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? .nan : sorted[sorted.count / 2]
    }

    private func requireValue<T>(_ value: T?) throws -> T {
        guard let value else { throw BenchmarkError(description: "missing value") }
        return value
    }
}
