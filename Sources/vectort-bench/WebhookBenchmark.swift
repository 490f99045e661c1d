import ArgumentParser
import AsyncHTTPClient
import Foundation
import Histogram
import NIOCore
import NIOPosix
import Protocol
import VectortCore
import VectortTesting

#if canImport(Glibc)
import Glibc
#endif

struct WebhookBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webhook",
        abstract: "Verified, durable ingestion of signed Stripe events, each a grant, against FastAPI + uvicorn + stripe.",
        discussion: """
            A fake Stripe creates one Checkout Session per event through the daemon's Credits.Purchase; each \
            session's signed `checkout.session.completed` is then posted to the webhook listener by --concurrency \
            clients at once. Each event is verified, recorded and its credits granted in one durable transaction \
            (synchronous=FULL) before the 200. The same events go, in the same run, to the baseline such \
            platforms run today: a FastAPI handler under uvicorn (2 workers) verifying with the official stripe \
            library and writing the event and its grant to SQLite in WAL with synchronous=FULL \
            (bench/webhook-baseline.sh install). Prints events/s, p50 and p99, and the ratio; goal ≥ 10×.
            """)

    @Option(help: "Events posted (each a distinct payment).")
    var events = 2000

    @Option(help: "Concurrent clients.")
    var concurrency = 64

    @Option(help: "The vectortd binary (default: next to this benchmark).")
    var daemon: String = Binaries.vectortd

    @Option(help: "The baseline venv's python; default $VECTORT_WEBHOOK_BASELINE, else skipped.")
    var baselinePython: String?

    static let secret = "whsec_bench_\(UUID().uuidString.prefix(12))"

    struct Run {
        var latencies = Histogram<UInt64>(highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: .three)
        var seconds = 0.0
        var count = 0
        var perSecond: Double { Double(count) / max(seconds, 1e-9) }
    }

    func run() async throws {
        print("vectort-bench webhook: \(events) signed events, \(concurrency) concurrent clients")
        let stripe = try await FakeStripe.start()
        var options = DaemonProcess.Options()
        options.binary = daemon
        options.config = """
            log:
              level: warning
            credits:
              free_on_signup: 0
            stripe:
              api_base: "\(stripe.baseURL)"
            payments:
              success_url: "https://app.example/billing/done"
              reconcile_minutes: 10000
            webhook:
              max_connections: 4096

            """
        options.credentials["stripe-secret-key"] = stripe.secretKey
        options.credentials["stripe-webhook-secret"] = Self.secret
        let process = try await DaemonProcess(options)
        let client = try await process.connect(callTimeout: 60)
        let user = try await client.call(MethodName.usersCreate, ["email": "bench@example.com"])["id"]?.stringValue ?? ""
        let total = events + concurrency
        var bodies: [[UInt8]] = []
        for _ in 0..<total {
            let purchase = try await client.call(MethodName.creditsPurchase, ["user": .string(user), "package": "starter"])
            guard let session = purchase["payment"]?["checkout_session"]?.stringValue else {
                throw BenchmarkError(description: "no session: \(purchase)")
            }
            bodies.append(stripe.complete(session))
        }
        var address: String?
        for _ in 0..<200 where address == nil {
            address = try await client.call(MethodName.getInfo)["listeners"]?["webhook"]?.stringValue
            if address == nil { try await Task.sleep(for: .milliseconds(20)) }
        }
        guard let address else { throw BenchmarkError(description: "the webhook listener did not start") }
        let cpuBefore = Self.cpuSeconds(pid: process.pid)
        let ours = try await Self.load(url: "http://\(address)/api/webhook/stripe", bodies: bodies, warmUp: concurrency, concurrency: concurrency)
        let daemonCPU = (Self.cpuSeconds(pid: process.pid) - cpuBefore) / Double(total)
        let balance = try await client.call(MethodName.creditsGetBalance, ["user": .string(user)])
        guard balance["total"] == .int(Int64(total * 80)) else {
            throw BenchmarkError(description: "vectortd granted \(balance["total"] ?? .null), not \(total * 80)")
        }
        process.signal(SIGTERM)
        _ = await process.waitForExit()
        await stripe.shutdown()

        var baseline: Run?
        if let python = baselinePython ?? ProcessInfo.processInfo.environment["VECTORT_WEBHOOK_BASELINE"], !python.isEmpty {
            baseline = try await Self.baseline(python: python, bodies: bodies, concurrency: concurrency)
        }
        print("")
        print(Self.row(["handler", "events/s", "p50 ms", "p99 ms"]))
        print(Self.row(["vectortd", String(format: "%.0f", ours.perSecond), Self.ms(ours, 50), Self.ms(ours, 99)]))
        print(String(format: "  vectortd's own CPU: %.0f µs per event (user + system, from /proc), the clients sharing the 2 cores", daemonCPU * 1e6))
        if let baseline {
            print(Self.row(["FastAPI + uvicorn + stripe", String(format: "%.0f", baseline.perSecond), Self.ms(baseline, 50), Self.ms(baseline, 99)]))
            let ratio = ours.perSecond / max(baseline.perSecond, 1e-9)
            print("")
            print(String(format: "vectortd ingests %.1f× the baseline's events/s ", ratio) + "(goal ≥ 10×: \(ratio >= 10 ? "met" : "NOT met"))")
        } else {
            print("baseline: skipped (run bench/webhook-baseline.sh install, then pass --baseline-python or set VECTORT_WEBHOOK_BASELINE)")
        }
    }

    /// Posts every body once, `concurrency` at a time; the first `warmUp` are not counted.
    static func load(url: String, bodies: [[UInt8]], warmUp: Int, concurrency: Int) async throws -> Run {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = concurrency
        let http = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
        defer { Task { try? await http.shutdown() } }
        let now = Int(Date().timeIntervalSince1970)
        let signed = bodies.map { ($0, FakeStripe.signatureHeader(body: $0, secrets: [secret], timestamp: now)) }
        func post(_ range: Range<Int>) async throws -> Run {
            let next = Locked(range.lowerBound)
            let started = ContinuousClock.now
            let merged = try await withThrowingTaskGroup(of: Histogram<UInt64>.self) { group in
                for _ in 0..<concurrency {
                    group.addTask {
                        var mine = Histogram<UInt64>(highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: .three)
                        while true {
                            let index = next.withLock { value -> Int in
                                defer { value += 1 }
                                return value
                            }
                            guard index < range.upperBound else { return mine }
                            let (body, signature) = signed[index]
                            let start = ContinuousClock.now
                            let answer = try await FakeStripe.deliver(body, to: url, signature: signature, client: http)
                            guard answer.status == 200 else {
                                throw BenchmarkError(description: "\(url) answered \(answer.status): \(answer.text)")
                            }
                            mine.record(UInt64(max(0, (ContinuousClock.now - start).microseconds)))
                        }
                    }
                }
                var all = Run().latencies
                for try await part in group { all.add(part) }
                return all
            }
            return Run(latencies: merged, seconds: (ContinuousClock.now - started).seconds, count: range.count)
        }
        _ = try await post(0..<warmUp)
        return try await post(warmUp..<bodies.count)
    }

    static func baseline(python: String, bodies: [[UInt8]], concurrency: Int) async throws -> Run {
        let directory = try TemporaryDirectory(prefix: "vtwebhookbase")
        let database = directory.path + "/baseline.sqlite"
        let app = try baselineDirectory()
        let schema = Process()
        schema.executableURL = URL(fileURLWithPath: python)
        schema.arguments = [app + "/app.py", database]
        schema.environment = ["BASELINE_DB": database, "STRIPE_WEBHOOK_SECRET": secret, "PATH": "/usr/bin:/bin"]
        schema.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        try schema.run()
        schema.waitUntilExit()
        let port = try LiteLLMPeer.freePort()
        let server = Process()
        server.executableURL = URL(fileURLWithPath: python)
        server.arguments = [
            "-m", "uvicorn", "app:app", "--app-dir", app, "--host", "127.0.0.1", "--port", String(port), "--workers", "2",
            "--log-level", "warning", "--no-access-log",
        ]
        server.environment = [
            "BASELINE_DB": database, "STRIPE_WEBHOOK_SECRET": secret, "PATH": "/usr/bin:/bin", "HOME": NSHomeDirectory(),
        ]
        let log = FileHandle(forWritingAtPath: "/dev/null")
        server.standardOutput = log
        server.standardError = log
        try server.run()
        defer { LiteLLMPeer.stop(server) }
        let base = "http://127.0.0.1:\(port)"
        try await LiteLLMPeer.waitUntilReady(base + "/docs", process: server)
        let run = try await load(url: base + "/api/webhook/stripe", bodies: bodies, warmUp: concurrency, concurrency: concurrency)
        let check = Process()
        check.executableURL = URL(fileURLWithPath: python)
        check.arguments = ["-c", "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT COUNT(*) FROM entries').fetchone()[0])", database]
        let pipe = Pipe()
        check.standardOutput = pipe
        try check.run()
        check.waitUntilExit()
        let granted = Int(String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
        guard granted == bodies.count else {
            throw BenchmarkError(description: "the baseline granted \(granted) of \(bodies.count) events")
        }
        return run
    }

    /// bench/webhook-baseline, found from the repository the benchmark runs in.
    static func baselineDirectory() throws -> String {
        var candidates = [FileManager.default.currentDirectoryPath + "/bench/webhook-baseline", FileManager.default.currentDirectoryPath + "/webhook-baseline"]
        if let bin = ProcessInfo.processInfo.environment["VECTORT_BIN_DIR"] {
            candidates.append(URL(fileURLWithPath: bin).deletingLastPathComponent().deletingLastPathComponent().path + "/bench/webhook-baseline")
        }
        guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0 + "/app.py") }) else {
            throw BenchmarkError(description: "bench/webhook-baseline/app.py not found; run from the repository")
        }
        return found
    }

    /// User plus system CPU time of a process so far, from /proc/PID/stat.
    static func cpuSeconds(pid: Int32) -> Double {
        cpuSeconds(statFile: "/proc/\(pid)/stat")
    }

    /// The same for a process or thread's `stat` file (`/proc/PID/task/TID/stat`).
    static func cpuSeconds(statFile: String) -> Double {
        guard let stat = try? String(contentsOfFile: statFile, encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return 0 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After the command: state is field 3, utime 14 and stime 15 (1-based, whole line).
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    static func row(_ cells: [String]) -> String {
        zip(cells, [28, 10, 10, 10]).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: " ")
    }

    static func ms(_ run: Run, _ percentile: Double) -> String {
        String(format: "%.2f", Double(run.latencies.valueAtPercentile(percentile)) / 1000)
    }
}
