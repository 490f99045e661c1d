import ArgumentParser
import Foundation
import Histogram
import Protocol
import VectortTesting

#if canImport(Glibc)
import Glibc
import VectortCore
#endif

struct LedgerBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger",
        abstract: "Durable hold+settle pairs through the socket, with group commit and with one transaction per operation.",
        discussion: """
            Every daemon runs with synchronous=FULL. The first runs with group commit, the second with \
            database.max_batch: 1, so each operation is its own transaction and fsync; both carry the write load \
            alone. A third runs group commit with GetBalance readers beside the writers. Goals: at least 20,000 \
            durable operations/s, at least 20 times the one-transaction figure, and 50,000 reads/s. \
            First, single-row commits straight through SQLite on the same disk show what one flush costs here: \
            the one-transaction figure cannot beat it, and the faster the disk flushes, the smaller the ratio \
            group commit can reach.
            """)

    @Option(help: "Writer connections, each doing hold then settle in a loop.")
    var connections = 64

    @Option(help: "Reader connections doing GetBalance during the write load.")
    var readers = 4

    @Option(help: "GetBalance calls each reader pipelines per round trip.")
    var readDepth = 16

    @Option(help: "Seconds per measurement.")
    var seconds = 5.0

    @Option(help: "The vectortd binary (default: next to this benchmark).")
    var daemon: String = Binaries.vectortd

    @Option(
        help: """
            sqlite (the default: group commit against one transaction per operation), or postgres: one daemon and \
            two daemons (nodes) on one private PostgreSQL with durable commits, beside SQLite, against pgbench's \
            simple-update rate on the same server.
            """)
    var database = "sqlite"

    func run() async throws {
        switch database {
        case "sqlite": break
        case "postgres", "postgresql":
            try await runPostgres()
            return
        default: throw ValidationError("--database is sqlite or postgres, not \(database)")
        }
        print(
            "vectort-bench ledger: \(connections) writer connections, \(readers) readers pipelining \(readDepth) GetBalance calls, "
                + "\(seconds) s each, synchronous=FULL")
        let disk = try DiskFloor.commitsPerSecond(seconds: 2)
        // The two write modes are compared under the same conditions, without readers: the
        // readers' load starves the one-transaction mode's serial chain of thread hops far more
        // than group commit, which would inflate the ratio. Reads are then measured under the
        // group-commit write load.
        let grouped = try await measure(maxBatch: 512, readers: 0)
        let quiet = try await measure(maxBatch: 512, readers: 0, metrics: false)
        let single = try await measure(maxBatch: 1, readers: 0)
        let loaded = try await measure(maxBatch: 512, readers: readers)
        print(row(["mode", "ops/s", "p50 µs", "p99 µs", "reads/s", "read batch p99 µs"]))
        for (name, result) in [
            ("group commit", grouped), ("group commit, no metrics", quiet), ("one tx per op", single),
            ("group commit + reads", loaded),
        ] {
            let reads = result.reads.requests > 0
            print(
                row([
                    name, String(format: "%.0f", result.writes.requestsPerSecond),
                    String(result.writes.latency.valueAtPercentile(50)), String(result.writes.latency.valueAtPercentile(99)),
                    reads ? String(format: "%.0f", result.reads.requestsPerSecond) : "-",
                    reads ? String(result.reads.latency.valueAtPercentile(99)) : "-",
                ]))
        }
        let ratio = grouped.writes.requestsPerSecond / single.writes.requestsPerSecond
        print("")
        print(
            String(format: "group commit: %.0f durable ops/s ", grouped.writes.requestsPerSecond)
                + (grouped.writes.requestsPerSecond >= 20_000 ? "(goal ≥ 20,000: met)" : "(goal ≥ 20,000: NOT met)"))
        print(String(format: "ratio to one transaction per operation: %.1f× ", ratio) + (ratio >= 20 ? "(goal ≥ 20×: met)" : "(goal ≥ 20×: NOT met)"))
        print(
            String(
                format: "this disk, SQLite alone: %.0f single-row commits/s (WAL, synchronous=FULL, one flush each); "
                    + "one tx per op through vectortd reaches %.0f%% of it, group commit %.1f× it",
                disk, 100 * single.writes.requestsPerSecond / disk, grouped.writes.requestsPerSecond / disk))
        let perOp = grouped.writerMicrosecondsPerOperation
        print(
            String(
                format: "writer CPU per durable operation: %.1f µs (the writer thread's own CPU over the run; metrics off: %.1f µs) ",
                perOp, quiet.writerMicrosecondsPerOperation) + (perOp <= 15 ? "(goal ≤ 15 µs: met)" : "(goal ≤ 15 µs: NOT met)"))
        let floorRatio = grouped.writes.requestsPerSecond / disk
        print(
            String(format: "durable group commit: %.1f× the disk floor ", floorRatio)
                + (floorRatio >= 3 ? "(goal ≥ 3×: met)" : "(goal ≥ 3×: NOT met)"))
        if readers > 0 {
            print(
                String(
                    format: "GetBalance under write load: %.0f reads/s, while group commit ran %.0f ops/s ",
                    loaded.reads.requestsPerSecond, loaded.writes.requestsPerSecond)
                    + (loaded.reads.requestsPerSecond >= 50_000 ? "(goal ≥ 50,000: met)" : "(goal ≥ 50,000: NOT met)"))
        }
    }

    /// Hold+settle through whole daemons on PostgreSQL (one node, then two sharing the load),
    /// beside one daemon on SQLite, against pgbench on the same server.
    private func runPostgres() async throws {
        print(
            "vectort-bench ledger --database postgres: \(connections) writer connections doing hold then settle, "
                + "\(seconds) s each, fsync and synchronous_commit on")
        let server = try await PostgresServer.start(durable: true)
        do {
            let floor = try await PostgresLedgerBenchmark.pgbench(server, clients: connections, seconds: seconds)
            try await server.createDatabase("one_node")
            let one = try await measure(maxBatch: 512, readers: 0, postgres: [server.url(database: "one_node")])
            try await server.createDatabase("two_nodes")
            let url = server.url(database: "two_nodes")
            let two = try await measure(maxBatch: 512, readers: 0, postgres: [url, url])
            await server.stop()
            let sqlite = try await measure(maxBatch: 512, readers: 0)
            let widths = [30, 8, 9, 9, 17, 16]
            print(row(["", "ops/s", "p50 µs", "p99 µs", "against one node", "against pgbench"], widths: widths))
            print(row(["pgbench simple-update (floor)", String(format: "%.0f", floor), "-", "-", "-", "1.00×"], widths: widths))
            for (name, result) in [("PostgreSQL, one node", one), ("PostgreSQL, two nodes", two), ("SQLite, one daemon", sqlite)] {
                let rate = result.writes.requestsPerSecond
                print(
                    row([
                        name, String(format: "%.0f", rate), String(result.writes.latency.valueAtPercentile(50)),
                        String(result.writes.latency.valueAtPercentile(99)),
                        String(format: "%.2f×", rate / one.writes.requestsPerSecond), String(format: "%.2f×", rate / floor),
                    ], widths: widths))
            }
            let ratioTwo = two.writes.requestsPerSecond / one.writes.requestsPerSecond
            let ratioFloor = one.writes.requestsPerSecond / floor
            print("")
            print(String(format: "two nodes reach %.0f %% of one node's rate ", ratioTwo * 100) + (ratioTwo >= 0.9 ? "(goal ≥ 90 %: met)" : "(goal ≥ 90 %: NOT met)"))
            print(
                String(format: "one node reaches %.0f %% of pgbench's simple-update rate ", ratioFloor * 100)
                    + (ratioFloor >= 0.5 ? "(goal ≥ 50 %: met)" : "(goal ≥ 50 %: NOT met)"))
            print("(on two cores the daemons, PostgreSQL and the load share the CPU: two nodes cannot beat one here)")
        } catch {
            await server.stop()
            throw error
        }
    }

    struct Measurement {
        var writes: LoadGenerator.Result
        var reads: LoadGenerator.Result
        /// CPU seconds of the writer thread over the load.
        var writerSeconds: Double = 0

        var writerMicrosecondsPerOperation: Double {
            writes.requests > 0 ? writerSeconds / Double(writes.requests) * 1e6 : 0
        }
    }

    /// User plus system CPU seconds of the daemon's group-commit writer thread.
    static func writerSeconds(pid: Int32) -> Double {
        let tasks = "/proc/\(pid)/task"
        for tid in (try? FileManager.default.contentsOfDirectory(atPath: tasks)) ?? [] {
            guard let comm = try? String(contentsOfFile: "\(tasks)/\(tid)/comm", encoding: .utf8),
                comm.trimmingCharacters(in: .whitespacesAndNewlines) == "vectortd-writer"
            else { continue }
            return WebhookBenchmark.cpuSeconds(statFile: "\(tasks)/\(tid)/stat")
        }
        return 0
    }

    /// One daemon on SQLite, or one daemon per URL of `postgres` (nodes sharing the database,
    /// the writer connections spread over them).
    private func measure(maxBatch: Int, readers: Int, metrics: Bool = true, postgres: [String] = []) async throws -> Measurement {
        var processes: [DaemonProcess] = []
        for (index, url) in (postgres.isEmpty ? [nil] : postgres.map(Optional.some)).enumerated() {
            var options = DaemonProcess.Options()
            options.binary = daemon
            options.config = """
                log:
                  level: warning
                control:
                  max_connections: 4096
                database:
                  max_batch: \(maxBatch)
                  url: "\(url ?? "")"
                node:
                  id: bench-\(index)
                credits:
                  free_on_signup: 0
                metrics:
                  enabled: \(metrics)
                """
            processes.append(try await DaemonProcess(options))
        }
        let process = processes[0]
        let admin = try await process.connect(timeout: .seconds(60))
        for other in processes.dropFirst() { _ = try await other.connect(timeout: .seconds(60)) }
        var users: [String] = []
        for i in 0..<connections {
            let user = try await admin.call(MethodName.usersCreate, ["email": .string("bench\(i)@example.com")])
            let id = user["id"]?.stringValue ?? ""
            users.append(id)
            _ = try await admin.call(
                MethodName.creditsGrant, ["user": .string(id), "amount": 1_000_000_000, "reason": "benchmark"])
        }
        let socket = process.socketPath
        let sockets = processes.map(\.socketPath)
        let duration = Duration.milliseconds(Int64(seconds * 1000))
        let userList = users
        let writerBefore = Self.writerSeconds(pid: process.pid)
        async let writes = Task.detached {
            try ClosedLoop.run(sockets: sockets, connections: userList.count, duration: duration) { client, index in
                let hold = try client.call(
                    MethodName.creditsHold, ["user": .string(userList[index]), "amount": 2, "reference": "bench"])
                guard let id = hold["id"]?.stringValue else { throw BenchmarkError(description: "no hold id") }
                return id
            } then: { client, id in
                _ = try client.call(MethodName.creditsSettle, ["hold": .string(id)])
            }
        }.value
        // Readers pipeline their calls, as PROTOCOL.md allows: the figure is what the daemon
        // serves, not what a client thread waiting for each reply can ask for.
        let readerUser = userList.first ?? ""
        let readPayload = Array(#"{"method":"\#(MethodName.creditsGetBalance)","parameters":{"user":"\#(readerUser)"}}"#.utf8)
        // Every reader sends this same call: it must succeed before the load starts.
        if !userList.isEmpty {
            _ = try await admin.call(MethodName.creditsGetBalance, ["user": .string(readerUser)]).decode(as: CreditBalance.self)
        }
        let readDepth = readDepth
        async let reads = Task.detached {
            guard readers > 0 else {
                return LoadGenerator.Result(requests: 0, seconds: 1, latency: Histogram<UInt64>(highestTrackableValue: 60_000_000))
            }
            return try LoadGenerator(
                socketPath: socket, connections: readers, depth: readDepth, duration: duration, payload: readPayload,
                handshake: true
            ).run()
        }.value
        var result = Measurement(writes: try await writes, reads: try await reads)
        result.writerSeconds = Self.writerSeconds(pid: process.pid) - writerBefore
        let verification = try await admin.call(MethodName.creditsVerify).decode(as: CreditVerification.self)
        guard verification.ok else { throw BenchmarkError(description: "Verify found mismatches after the load") }
        for process in processes {
            process.signal(SIGTERM)
            _ = await process.waitForExit()
        }
        return result
    }

    private func row(_ cells: [String], widths: [Int] = [26, 10, 9, 9, 10, 18]) -> String {
        zip(cells, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: " ")
    }
}

/// Closed-loop calls over N connections, one thread each, for a fixed time. Each iteration is
/// `first` then `then`, each timed and counted as one operation.
enum ClosedLoop {
    /// The connections are spread over `sockets` in turn (connection i on socket i mod count).
    static func run(
        sockets: [String], connections: Int, duration: Duration,
        _ first: @escaping @Sendable (VectortClient, Int) throws -> String,
        then second: @escaping @Sendable (VectortClient, String) throws -> Void
    ) throws -> LoadGenerator.Result {
        guard connections > 0 else {
            return .init(requests: 0, seconds: 1, latency: Histogram<UInt64>(highestTrackableValue: 60_000_000))
        }
        let results = Locked<[(UInt64, Histogram<UInt64>)]>([])
        let failures = Locked<[String]>([])
        let group = DispatchGroup()
        let start = ContinuousClock.now
        let end = start + duration
        for index in 0..<connections {
            group.enter()
            Thread {
                defer { group.leave() }
                var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
                var count: UInt64 = 0
                do {
                    let client = try VectortClient.connect(socketPath: sockets[index % sockets.count], timeout: 60)
                    while ContinuousClock.now < end {
                        var t0 = ContinuousClock.now
                        let token = try first(client, index)
                        _ = histogram.record(UInt64(max(1, (ContinuousClock.now - t0).microseconds)))
                        count += 1
                        if token.isEmpty { continue }
                        t0 = ContinuousClock.now
                        try second(client, token)
                        _ = histogram.record(UInt64(max(1, (ContinuousClock.now - t0).microseconds)))
                        count += 1
                    }
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
                results.withLock { $0.append((count, histogram)) }
            }.start()
        }
        group.wait()
        let elapsed = ContinuousClock.now - start
        if let failure = failures.withLock({ $0.first }) { throw BenchmarkError(description: "a connection failed: \(failure)") }
        var merged = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
        var total: UInt64 = 0
        for (count, histogram) in results.withLock({ $0 }) {
            total += count
            merged.add(histogram)
        }
        return .init(requests: total, seconds: elapsed.seconds, latency: merged)
    }
}
