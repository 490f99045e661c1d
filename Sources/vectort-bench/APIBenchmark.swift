import ArgumentParser
import AsyncHTTPClient
import Foundation
import Histogram
import NIOCore
import NIOHTTP1
import NIOPosix
import Protocol
import VectortCore
import VectortTesting

#if canImport(Glibc)
import Glibc
#endif

struct APIBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "api",
        abstract: "The web API: login and authenticated balance reads, against FastAPI + uvicorn + python-jose.",
        discussion: """
            Users with scrypt passwords and credits are made through the socket; then --concurrency clients \
            log in (POST /api/auth/login: an scrypt check and a signed JWT) and read GET /api/credits/balance \
            with their bearer tokens (a JWT check, one query for the session and the user, the balance). The \
            same requests go, in the same run, to the baseline such platforms run today: FastAPI under uvicorn \
            (2 workers) with python-jose, over a copy of the daemon's database (the same users, hashes and \
            balances; bench/api-baseline.sh install). Prints requests/s, p50, p99 and the ratios; the goal is \
            ≥ 10× the baseline for authenticated reads (logins are bound by the KDF both sides run).
            """)

    @Option(help: "Users (each logs in and reads with its own token).")
    var users = 64

    @Option(help: "Logins measured.")
    var logins = 256

    @Option(help: "Balance reads measured.")
    var reads = 20_000

    @Option(help: "Concurrent clients.")
    var concurrency = 64

    @Option(help: "The vectortd binary (default: next to this benchmark).")
    var daemon: String = Binaries.vectortd

    @Option(help: "The baseline venv's python; default $VECTORT_API_BASELINE, else skipped.")
    var baselinePython: String?

    static let secret = "bench-jwt-secret-\(UUID().uuidString)"

    struct Result {
        var login: WebhookBenchmark.Run
        var reads: WebhookBenchmark.Run
    }

    func run() async throws {
        print("vectort-bench api: \(users) users, \(logins) logins and \(reads) balance reads, \(concurrency) concurrent clients")
        var options = DaemonProcess.Options()
        options.binary = daemon
        options.config = """
            log:
              level: warning
            credits:
              free_on_signup: 10
            api:
              max_connections: 4096
              rate_limit: {burst: 1000000, per_minute: 1000000}

            """
        options.credentials["jwt-secret"] = Self.secret
        let process = try await DaemonProcess(options)
        let client = try await process.connect(callTimeout: 120)
        var emails: [String] = []
        for index in 0..<users {
            let email = "bench\(index)@example.com"
            let user = try await client.call(MethodName.usersCreate, ["email": .string(email), "password": .string(Self.password(index))])
            _ = try await client.call(MethodName.creditsGrant, ["user": user["id"] ?? .null, "amount": 500, "reason": "bench"])
            emails.append(email)
        }
        var address: String?
        for _ in 0..<200 where address == nil {
            address = try await client.call(MethodName.getInfo)["listeners"]?["api"]?.stringValue
            if address == nil { try await Task.sleep(for: .milliseconds(20)) }
        }
        guard let address else { throw BenchmarkError(description: "the web API did not start") }
        let ours = try await Self.measure(
            base: "http://" + address, emails: emails, logins: logins, reads: reads, concurrency: concurrency, pid: process.pid)
        process.signal(SIGTERM)
        _ = await process.waitForExit()
        let databaseCopy = try TemporaryDirectory(prefix: "vtapibase")
        for suffix in ["", "-wal", "-shm"] {
            let source = process.directory.file("state/vectortd.sqlite" + suffix)
            if FileManager.default.fileExists(atPath: source) {
                try FileManager.default.copyItem(atPath: source, toPath: databaseCopy.path + "/data.sqlite" + suffix)
            }
        }

        var baseline: Result?
        if let python = baselinePython ?? ProcessInfo.processInfo.environment["VECTORT_API_BASELINE"], !python.isEmpty {
            baseline = try await Self.baseline(
                python: python, database: databaseCopy.path + "/data.sqlite", emails: emails, logins: logins, reads: reads,
                concurrency: concurrency)
        }
        print("")
        print(WebhookBenchmark.row(["", "requests/s", "p50 ms", "p99 ms"]))
        print(WebhookBenchmark.row(["vectortd login", String(format: "%.0f", ours.result.login.perSecond), WebhookBenchmark.ms(ours.result.login, 50), WebhookBenchmark.ms(ours.result.login, 99)]))
        print(WebhookBenchmark.row(["vectortd balance", String(format: "%.0f", ours.result.reads.perSecond), WebhookBenchmark.ms(ours.result.reads, 50), WebhookBenchmark.ms(ours.result.reads, 99)]))
        print(String(format: "  vectortd's own CPU: %.0f µs per balance read, %.1f ms per login (user + system, from /proc)",
                     ours.readCPU * 1e6 / Double(reads), ours.loginCPU * 1e3 / Double(logins)))
        if let baseline {
            print(WebhookBenchmark.row(["FastAPI login", String(format: "%.0f", baseline.login.perSecond), WebhookBenchmark.ms(baseline.login, 50), WebhookBenchmark.ms(baseline.login, 99)]))
            print(WebhookBenchmark.row(["FastAPI balance", String(format: "%.0f", baseline.reads.perSecond), WebhookBenchmark.ms(baseline.reads, 50), WebhookBenchmark.ms(baseline.reads, 99)]))
            let readRatio = ours.result.reads.perSecond / max(baseline.reads.perSecond, 1e-9)
            let loginRatio = ours.result.login.perSecond / max(baseline.login.perSecond, 1e-9)
            print("")
            print(String(format: "authenticated reads: %.1f× the baseline's requests/s ", readRatio) + "(goal ≥ 10×: \(readRatio >= 10 ? "met" : "NOT met"))")
            print(String(format: "logins: %.2f× (both run scrypt N=16384, r=8, p=1 per login)", loginRatio))
        } else {
            print("baseline: skipped (run bench/api-baseline.sh install, then pass --baseline-python or set VECTORT_API_BASELINE)")
        }
    }

    static func password(_ index: Int) -> String { "bench-password-\(index)" }

    /// Logins, then reads with the tokens the logins gave; the daemon's CPU for each phase.
    static func measure(base: String, emails: [String], logins: Int, reads: Int, concurrency: Int, pid: Int32? = nil) async throws
        -> (result: Result, loginCPU: Double, readCPU: Double)
    {
        let cpu = { pid.map(WebhookBenchmark.cpuSeconds) ?? 0 }
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = concurrency
        configuration.redirectConfiguration = .disallow
        let http = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
        defer { Task { try? await http.shutdown() } }
        let tokens = Locked<[Int: String]>([:])
        let loginRequest: @Sendable (Int) -> HTTPClientRequest = { index in
            var request = HTTPClientRequest(url: base + "/api/auth/login")
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            let user = index % emails.count
            request.body = .bytes(ByteBuffer(string: #"{"email":"\#(emails[user])","password":"\#(password(user))"}"#))
            return request
        }
        // Warm up and collect one token per user.
        _ = try await load(http, count: emails.count, concurrency: concurrency, make: loginRequest) { index, body in
            guard let token = (try? JSONDecoder().decode(JSONValue.self, from: body))?["token"]?.stringValue else {
                throw BenchmarkError(description: "login answered \(String(decoding: body, as: UTF8.self))")
            }
            tokens.withLock { $0[index % emails.count] = token }
        }
        let known = tokens.value
        let readRequest: @Sendable (Int) -> HTTPClientRequest = { index in
            var request = HTTPClientRequest(url: base + "/api/credits/balance")
            request.headers.add(name: "Authorization", value: "Bearer \(known[index % known.count] ?? "")")
            return request
        }
        _ = try await load(http, count: concurrency * 4, concurrency: concurrency, make: readRequest) { _, _ in }
        let beforeLogins = cpu()
        let login = try await load(http, count: logins, concurrency: concurrency, make: loginRequest) { _, _ in }
        let beforeReads = cpu()
        let read = try await load(http, count: reads, concurrency: concurrency, make: readRequest) { _, body in
            guard body.count > 10 else { throw BenchmarkError(description: "balance answered \(String(decoding: body, as: UTF8.self))") }
        }
        let after = cpu()
        return (Result(login: login, reads: read), beforeReads - beforeLogins, after - beforeReads)
    }

    /// Sends `count` requests, `concurrency` at a time; each 200 body goes to `check`.
    static func load(
        _ http: HTTPClient, count: Int, concurrency: Int, make: @escaping @Sendable (Int) -> HTTPClientRequest,
        check: @escaping @Sendable (Int, Data) throws -> Void
    ) async throws -> WebhookBenchmark.Run {
        let next = Locked(0)
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
                        guard index < count else { return mine }
                        let start = ContinuousClock.now
                        let response = try await http.execute(make(index), timeout: .seconds(60))
                        let body = Data((try await response.body.collect(upTo: 1 << 20)).readableBytesView)
                        guard response.status == .ok else {
                            throw BenchmarkError(description: "answered \(response.status.code): \(String(decoding: body, as: UTF8.self))")
                        }
                        try check(index, body)
                        mine.record(UInt64(max(0, (ContinuousClock.now - start).microseconds)))
                    }
                }
            }
            var all = WebhookBenchmark.Run().latencies
            for try await part in group { all.add(part) }
            return all
        }
        return WebhookBenchmark.Run(latencies: merged, seconds: (ContinuousClock.now - started).seconds, count: count)
    }

    static func baseline(python: String, database: String, emails: [String], logins: Int, reads: Int, concurrency: Int) async throws
        -> Result
    {
        let app = try appDirectory()
        let port = try LiteLLMPeer.freePort()
        let server = Process()
        server.executableURL = URL(fileURLWithPath: python)
        server.arguments = [
            "-m", "uvicorn", "app:app", "--app-dir", app, "--host", "127.0.0.1", "--port", String(port), "--workers", "2",
            "--log-level", "warning", "--no-access-log",
        ]
        server.environment = ["BASELINE_DB": database, "JWT_SECRET": secret, "PATH": "/usr/bin:/bin", "HOME": NSHomeDirectory()]
        let log = FileHandle(forWritingAtPath: "/dev/null")
        server.standardOutput = log
        server.standardError = log
        try server.run()
        defer { LiteLLMPeer.stop(server) }
        let base = "http://127.0.0.1:\(port)"
        try await LiteLLMPeer.waitUntilReady(base + "/healthz", process: server)
        return try await measure(base: base, emails: emails, logins: logins, reads: reads, concurrency: concurrency).result
    }

    static func appDirectory() throws -> String {
        var candidates = [FileManager.default.currentDirectoryPath + "/bench/api-baseline", FileManager.default.currentDirectoryPath + "/api-baseline"]
        if let bin = ProcessInfo.processInfo.environment["VECTORT_BIN_DIR"] {
            candidates.append(URL(fileURLWithPath: bin).deletingLastPathComponent().deletingLastPathComponent().path + "/bench/api-baseline")
        }
        guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0 + "/app.py") }) else {
            throw BenchmarkError(description: "bench/api-baseline/app.py not found; run from the repository")
        }
        return found
    }
}
