import ArgumentParser
import AsyncHTTPClient
import Foundation
import Histogram
import NIOCore
import NIOHTTP1
import NIOPosix
import Protocol
import VectortTesting

#if canImport(Glibc)
import Glibc
import VectortCore
#endif

struct GenerateBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Streaming generations through the daemon against a fake OpenAI, compared with the fake called directly.",
        discussion: """
            A fake OpenAI streams a fixed 30-file answer at fixed pacing. The same requests run directly against \
            the fake (the floor), then through vectortd (parse, validate, store, charge), then through vectortd \
            with a failing primary provider whose breaker is open, then, when it is installed \
            (bench/litellm.sh install), through the LiteLLM proxy configured with the same fake. \
            "First file" is when the client sees the first complete file: the fake's text holding the first \
            </file> when called directly, the first `file` event through the daemon. Goals at 64 concurrent: \
            added first-file latency under 2 ms at p50 and 10 ms at p99, added total under 20 ms at p99, and \
            at least 10 times less added latency than LiteLLM's proxy.
            """)

    @Option(help: "Concurrent streams.")
    var concurrency = 64

    @Option(help: "Generations per stream (each on its own project).")
    var rounds = 4

    @Option(help: "Files in the fake's answer.")
    var files = 30

    @Option(help: "Chunks the answer is streamed in.")
    var chunks = 120

    @Option(help: "Milliseconds between chunks (and before the first).")
    var intervalMs = 2.0

    @Option(help: "The vectortd binary (default: next to this benchmark).")
    var daemon: String = Binaries.vectortd

    @Option(help: "The litellm executable; default $VECTORT_LITELLM, else skipped.")
    var litellm: String?

    static let key = "sk-bench-\(UUID().uuidString.prefix(12))"

    func run() async throws {
        let answer = BenchApp.answer(files: files)
        let interval = Duration.microseconds(Int64(intervalMs * 1000))
        print(
            "vectort-bench generate: \(concurrency) concurrent × \(rounds) rounds, \(files) files (\(answer.utf8.count / 1024) KB) "
                + "in \(chunks) chunks \(intervalMs) ms apart")
        let fake = try await FakeLLMServer.start(
            .openai, apiKey: Self.key, defaultScript: .paced(answer, chunks: chunks, interval: interval),
            recordsRequests: false)
        let down = try await FakeLLMServer.start(
            .openai, apiKey: Self.key, defaultScript: .serverError, recordsRequests: false)
        defer {
            Task { try? await fake.shutdown() }
            Task { try? await down.shutdown() }
        }

        let direct = try await StreamingHTTPLoad.run(
            url: fake.baseURL + "/chat/completions", key: Self.key, model: "gpt-4o", concurrency: concurrency,
            rounds: rounds)
        let through = try await measureDaemon(chain: "openai", fake: fake, down: nil).latencies
        let breakerOpen = try await measureDaemon(chain: "down, openai", fake: fake, down: down)
        var rows: [(String, Latencies)] = [("direct to fake (floor)", direct), ("vectortd", through)]
        rows.append(("vectortd, primary down", breakerOpen.latencies))
        var peer: Latencies?
        if let path = litellm ?? ProcessInfo.processInfo.environment["VECTORT_LITELLM"], !path.isEmpty {
            peer = try await LiteLLMPeer.measure(
                executable: path, upstream: fake.baseURL, key: Self.key, concurrency: concurrency, rounds: rounds)
            if let peer { rows.append(("LiteLLM proxy", peer)) }
        }

        print("")
        print(row(["path", "first p50 ms", "first p99 ms", "total p50 ms", "total p99 ms", "+first p50", "+first p99", "+total p99"]))
        for (name, latencies) in rows {
            print(
                row([
                    name, ms(latencies.firstFile, 50), ms(latencies.firstFile, 99), ms(latencies.total, 50),
                    ms(latencies.total, 99), added(latencies.firstFile, direct.firstFile, 50),
                    added(latencies.firstFile, direct.firstFile, 99), added(latencies.total, direct.total, 99),
                ]))
        }
        print("")
        let firstP50 = addedMs(through.firstFile, direct.firstFile, 50)
        let firstP99 = addedMs(through.firstFile, direct.firstFile, 99)
        let totalP99 = addedMs(through.total, direct.total, 99)
        // CPU per unit from outside: the daemon's own CPU over the same generations streamed in
        // few and in many chunks, builds off (the build step is reported by `vectort-bench build`).
        let few = try await cpuPerGeneration(answer: answer, chunks: 20, metrics: true, subscriber: true).micros
        let many = try await cpuPerGeneration(answer: answer, chunks: 800, metrics: true, subscriber: true).micros
        // Metrics and events cost: the same generations with metrics off and nobody subscribed.
        let (on, events) = try await cpuPerGeneration(answer: answer, chunks: chunks, metrics: true, subscriber: true)
        let off = try await cpuPerGeneration(answer: answer, chunks: chunks, metrics: false, subscriber: false).micros
        let metricsOnly = try await cpuPerGeneration(answer: answer, chunks: chunks, metrics: true, subscriber: false).micros
        print(
            String(
                format: "metrics and one event subscriber: %.0f µs daemon CPU per generation against %.0f µs with both off: %+.1f%% ",
                on, off, (on / off - 1) * 100) + goal(on / off <= 1.05, "≤ +5 %")
                + " (builds off, \(events) events to the subscriber)"
                + String(format: "; metrics alone: %.0f µs (%+.1f%%)", metricsOnly, (metricsOnly / off - 1) * 100))
        let perChunk = max(0, (many - few) / 780)
        let fixed = few - 20 * perChunk
        print(
            String(format: "daemon CPU per streamed chunk: %.2f µs ", perChunk) + goal(perChunk <= 2, "≤ 2 µs")
                + String(format: "; fixed CPU per generation (25 KB, 30 files, builds off): %.0f µs ", fixed)
                + goal(fixed <= 1000, "≤ 1 ms") + String(format: " (%.0f µs at 20 chunks, %.0f µs at 800)", few, many))
        print(String(format: "added first-file latency p50 %+.2f ms ", firstP50) + goal(firstP50 < 2, "< 2 ms"))
        print(String(format: "added first-file latency p99 %+.2f ms ", firstP99) + goal(firstP99 < 10, "< 10 ms"))
        print(String(format: "added total latency p99 %+.2f ms ", totalP99) + goal(totalP99 < 20, "< 20 ms"))
        print(
            "primary down, breaker open: \(breakerOpen.callsToDown) calls to it during the measurement "
                + goal(breakerOpen.callsToDown == 0, "0") + String(
                    format: "; added total p50 %+.2f ms against the healthy chain",
                    addedMs(breakerOpen.latencies.total, through.total, 50)))
        if let peer {
            let theirs = addedMs(peer.total, direct.total, 50)
            let ours = max(addedMs(through.total, direct.total, 50), 0.01)
            let theirsFirst = addedMs(peer.firstFile, direct.firstFile, 50)
            let oursFirst = max(firstP50, 0.01)
            print(
                String(
                    format: "LiteLLM proxy adds %.2f ms (first file) and %.2f ms (total) at p50; vectortd adds %.2f and %.2f: %.1f× and %.1f× less ",
                    theirsFirst, theirs, firstP50, addedMs(through.total, direct.total, 50), theirsFirst / oursFirst,
                    theirs / ours) + goal(theirsFirst / oursFirst >= 10 && theirs / ours >= 10, "≥ 10×"))
        } else {
            print("LiteLLM proxy: skipped (run bench/litellm.sh install, then pass --litellm or set VECTORT_LITELLM)")
        }
    }

    struct BreakerRun {
        var latencies: Latencies
        var callsToDown: Int
    }

    private func measureDaemon(chain: String, fake: FakeLLMServer, down: FakeLLMServer?) async throws -> BreakerRun {
        var options = DaemonProcess.Options()
        options.binary = daemon
        var config = """
            log:
              level: warning
            control:
              max_connections: 4096
            credits:
              free_on_signup: 100000
            generation:
              chain: [\(chain)]
            providers:
              openai:
                base_url: "\(fake.baseURL)"

            """
        if let down {
            config += """
                  down:
                    kind: openai-compatible
                    model: gpt-4o
                    base_url: "\(down.baseURL)"
                    retries: {max: 0}
                    breaker: {failures: 2, cooldown_seconds: 600, max_cooldown_seconds: 600}

                """
            options.credentials["down-api-key"] = Self.key
        }
        options.config = config
        options.credentials["openai-api-key"] = Self.key
        let process = try await DaemonProcess(options)
        let admin = try await process.connect(callTimeout: 60)
        let projects = try await Self.userProjects(process, count: concurrency)
        if down != nil {
            // Open the breaker of the failing primary before measuring.
            for _ in 0..<2 {
                _ = try await admin.call(
                    MethodName.projectsGenerate,
                    ["user": .string(projects[0].0), "project": .string(projects[0].1), "prompt": "warm up", "fresh": true], timeout: 60)
            }
            let providers = try await admin.call(MethodName.providersList)
            let state = providers["providers"]?.arrayValue?.first { $0["name"] == .string("down") }?["state"]
            guard state == .string("open") else {
                throw BenchmarkError(description: "the failing provider's breaker did not open: \(String(describing: state))")
            }
        }
        let before = down?.callCount ?? 0
        let socket = process.socketPath
        let rounds = rounds
        let projectList = projects
        let latencies = try await Task.detached {
            try DaemonGenerationLoad.run(socket: socket, projects: projectList, rounds: rounds)
        }.value
        let calls = (down?.callCount ?? 0) - before
        process.signal(SIGTERM)
        _ = await process.waitForExit()
        return BreakerRun(latencies: latencies, callsToDown: calls)
    }

    /// Microseconds of the daemon's CPU per generation of `answer` in `chunks` chunks, without
    /// pauses between them and without builds; with `metrics` on or off and, when `subscriber`,
    /// one `Events.Subscribe` reader, whose events are counted.
    private func cpuPerGeneration(answer: String, chunks: Int, metrics: Bool, subscriber: Bool) async throws
        -> (micros: Double, events: Int)
    {
        let fake = try await FakeLLMServer.start(
            .openai, apiKey: Self.key, defaultScript: .paced(answer, chunks: chunks, interval: .zero), recordsRequests: false)
        defer { Task { try? await fake.shutdown() } }
        let options = DaemonProcess.Options.generating(
            binary: daemon, fake: fake, key: Self.key, extra: "metrics:\n  enabled: \(metrics)\n")
        let process = try await DaemonProcess(options)
        let projects = try await Self.userProjects(process, count: concurrency)
        let received = Locked(0)
        var reader: Task<Void, any Error>?
        if subscriber {
            let watcher = try await process.connect(callTimeout: 3600)
            reader = Task {
                _ = try await watcher.callStreaming(MethodName.eventsSubscribe, [:], timeout: 3600) { _ in received.value += 1 }
            }
            while received.value == 0 { try await Task.sleep(for: .milliseconds(5)) }
        }
        defer { reader?.cancel() }
        // One warm-up round: caches and connections stay out of the figure.
        let socket = process.socketPath
        let list = projects
        _ = try await Task.detached { try DaemonGenerationLoad.run(socket: socket, projects: list, rounds: 1) }.value
        let before = WebhookBenchmark.cpuSeconds(pid: process.pid)
        let rounds = rounds
        _ = try await Task.detached { try DaemonGenerationLoad.run(socket: socket, projects: list, rounds: rounds) }.value
        let cpu = WebhookBenchmark.cpuSeconds(pid: process.pid) - before
        let events = received.value
        process.signal(SIGTERM)
        _ = await process.waitForExit()
        return (cpu / Double(concurrency * (rounds + 1)) * 1e6, events)
    }

    /// `count` users, each with a project: what the load generates into.
    static func userProjects(_ process: DaemonProcess, count: Int) async throws -> [(String, String)] {
        let admin = try await process.connect(callTimeout: 60)
        var projects: [(String, String)] = []
        for i in 0..<count {
            let user = try await admin.call(MethodName.usersCreate, ["email": .string("gen\(i)@example.com")])
            let id = user["id"]?.stringValue ?? ""
            let project = try await admin.call(MethodName.projectsCreate, ["user": .string(id), "title": .string("Bench \(i)")])
            projects.append((id, project["id"]?.stringValue ?? ""))
        }
        return projects
    }

    private func row(_ cells: [String]) -> String {
        let widths = [24, 13, 13, 13, 13, 11, 11, 11]
        return zip(cells, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: " ")
    }

    private func ms(_ histogram: Histogram<UInt64>, _ percentile: Double) -> String {
        String(format: "%.2f", Double(histogram.valueAtPercentile(percentile)) / 1000)
    }

    private func addedMs(_ a: Histogram<UInt64>, _ b: Histogram<UInt64>, _ percentile: Double) -> Double {
        (Double(a.valueAtPercentile(percentile)) - Double(b.valueAtPercentile(percentile))) / 1000
    }

    private func added(_ a: Histogram<UInt64>, _ b: Histogram<UInt64>, _ percentile: Double) -> String {
        String(format: "%+.2f", addedMs(a, b, percentile))
    }

    private func goal(_ met: Bool, _ text: String) -> String {
        "(goal \(text): \(met ? "met" : "NOT met"))"
    }
}

/// Microsecond latencies of a set of generations.
struct Latencies: Sendable {
    var firstFile = Histogram<UInt64>(highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: .three)
    var total = Histogram<UInt64>(highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: .three)

    mutating func merge(_ other: Latencies) {
        firstFile.add(other.firstFile)
        total.add(other.total)
    }
}

/// Generations through the daemon: one thread and connection per project, `rounds` each.
enum DaemonGenerationLoad {
    static func run(socket: String, projects: [(String, String)], rounds: Int) throws -> Latencies {
        let results = Locked<Latencies>(Latencies())
        let failures = Locked<[String]>([])
        let group = DispatchGroup()
        for (user, project) in projects {
            group.enter()
            Thread {
                defer { group.leave() }
                var mine = Latencies()
                do {
                    let client = try VectortClient.connect(socketPath: socket, timeout: 120)
                    defer { client.close() }
                    // Round 0 warms the connections (daemon → fake included) and is not counted.
                    for round in 0...rounds {
                        let start = ContinuousClock.now
                        var firstFile: Duration?
                        let result = try client.callStreaming(
                            MethodName.projectsGenerate,
                            ["user": .string(user), "project": .string(project), "prompt": .string("bench round \(round)"), "fresh": true]
                        ) { reply in
                            if firstFile == nil, reply.parameters?["event"] == .string("file") {
                                firstFile = ContinuousClock.now - start
                            }
                        }
                        let total = ContinuousClock.now - start
                        guard result["credits_charged"] != nil, let firstFile else {
                            throw BenchmarkError(description: "a generation ended without files: \(result)")
                        }
                        if round == 0 { continue }
                        mine.firstFile.record(UInt64(max(0, firstFile.microseconds)))
                        mine.total.record(UInt64(max(0, total.microseconds)))
                    }
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
                results.withLock { $0.merge(mine) }
            }.start()
        }
        group.wait()
        if let failure = failures.withLock({ $0.first }) { throw BenchmarkError(description: failure) }
        return results.withLock { $0 }
    }
}

/// Streaming chat completions over HTTP (to the fake directly, or through a proxy): first
/// complete file and end of stream.
enum StreamingHTTPLoad {
    static func run(
        url: String, key: String, model: String, concurrency: Int, rounds: Int
    ) async throws -> Latencies {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = HTTPClient.Configuration.ConnectionPool(
            idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 1024)
        let client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
        do {
            let body = try JSONSerialization.data(withJSONObject: [
                "model": model, "stream": true, "stream_options": ["include_usage": true],
                "messages": [["role": "user", "content": "bench"]],
            ])
            let latencies = try await withThrowingTaskGroup(of: Latencies.self) { group in
                for _ in 0..<concurrency {
                    group.addTask {
                        var mine = Latencies()
                        // Round 0 opens the connection and is not counted.
                        for round in 0...rounds {
                            var request = HTTPClientRequest(url: url)
                            request.method = .POST
                            request.headers.add(name: "Authorization", value: "Bearer \(key)")
                            request.headers.add(name: "Content-Type", value: "application/json")
                            request.body = .bytes(ByteBuffer(bytes: body))
                            let start = ContinuousClock.now
                            let response = try await client.execute(request, timeout: .seconds(120))
                            guard response.status == .ok else {
                                throw BenchmarkError(description: "\(url) answered \(response.status)")
                            }
                            var firstFile: Duration?
                            var tail: [UInt8] = []
                            for try await chunk in response.body {
                                if firstFile == nil {
                                    let bytes = tail + Array(chunk.readableBytesView)
                                    if Self.containsClosingTag(bytes) { firstFile = ContinuousClock.now - start }
                                    tail = Array(bytes.suffix(8))
                                }
                            }
                            let total = ContinuousClock.now - start
                            if round == 0 { continue }
                            mine.firstFile.record(UInt64(max(0, (firstFile ?? total).microseconds)))
                            mine.total.record(UInt64(max(0, total.microseconds)))
                        }
                        return mine
                    }
                }
                var all = Latencies()
                for try await part in group { all.merge(part) }
                return all
            }
            try await client.shutdown()
            return latencies
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    /// `file>` ends a closing tag (`</file>`, or `<\/file>` in JSON): opening tags read `<file path=`.
    static func containsClosingTag(_ bytes: [UInt8]) -> Bool {
        let needle = Array("file>".utf8)
        guard bytes.count >= needle.count else { return false }
        for index in 0...(bytes.count - needle.count) where bytes[index] == needle[0] {
            if Array(bytes[index..<index + needle.count]) == needle { return true }
        }
        return false
    }
}

/// The fixed answer: a static app whose 30 files all pass the daemon's validators.
enum BenchApp {
    static func answer(files count: Int) -> String {
        "Here is the app.\n" + blocks(files(count))
    }

    static func blocks(_ files: [(String, String)]) -> String {
        files.map { "<file path=\"\($0.0)\">\n\($0.1)</file>\n" }.joined()
    }

    /// A static catalogue: a page, a stylesheet, a script and JSON items up to `count` files.
    static func files(_ count: Int) -> [(String, String)] {
        var files: [(String, String)] = [
            (
                "index.html",
                // A fragment (browsers render it; the validators accept it): the page, not a document.
                #"<link rel="stylesheet" href="styles.css"><main id="app"><h1>Catalogue</h1><ul id="items"></ul></main>"#
                    + #"<script src="app.js"></script>"# + "\n"
            ),
            ("styles.css", "body { font-family: system-ui, sans-serif; margin: 2rem; }\nli { margin: 0.25rem 0; }\n"),
            (
                "app.js",
                """
                const items = document.getElementById('items');
                for (let i = 1; i <= 27; i++) {
                  const li = document.createElement('li');
                  li.textContent = `Item ${i}`;
                  items.appendChild(li);
                }

                """
            ),
        ]
        var index = 1
        while files.count < count {
            let words = (0..<120).map { "word\(($0 * 7 + index) % 97)" }.joined(separator: " ")
            files.append(
                (
                    "data/item-\(index).json",
                    "{\n  \"id\": \(index),\n  \"name\": \"Item \(index)\",\n  \"description\": \"\(words)\",\n  \"tags\": [\"a\", \"b\", \"c\"]\n}\n"
                ))
            index += 1
        }
        return files
    }
}
