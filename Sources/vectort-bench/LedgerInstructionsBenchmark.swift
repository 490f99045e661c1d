import ArgumentParser
import Foundation
import GRDB
import Protocol
import VectortCore
import VectortTesting

#if canImport(Glibc)
import Glibc
#endif

/// Instructions per durable credit operation, which repeat run to run where the writer
/// thread's CPU time from `/proc` (10 ms ticks, a busy machine) does not. The daemon runs under
/// `valgrind --tool=callgrind --separate-threads=yes` twice, once with a warm-up of hold+settle
/// pairs and once with `pairs` more per connection; the difference, divided by the operations,
/// is what one costs the writer thread and the whole daemon.
///
/// The floor is the rows alone: the hold, the three journal entries and the balance a pair
/// writes, through the same library's prepared statements in transactions of the batch size
/// the writer reached, under callgrind too (`journal-floor`). What the writer spends beyond it is decisions, balances, savepoints and the
/// library between Swift and SQLite.
struct LedgerInstructionsBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger-instructions",
        abstract: "Instructions per durable hold or settle in vectortd's writer thread under callgrind, against SQLite writing the same rows.",
        discussion: """
            bench/ledger-instructions.sh builds the binaries valgrind can run and runs this. Under callgrind \
            the daemon's threads take turns, so batches are smaller than on the machine: the figure is an upper \
            bound of what group commit costs per operation. Goal (issue 21): 15 µs of writer CPU per operation.
            """)

    @Option(help: "Client connections, each doing hold then settle on its own user.")
    var connections = 16

    @Option(help: "Hold+settle pairs measured per connection, beyond the warm-up.")
    var pairs = 100

    @Option(help: "Pairs of warm-up per connection, in both runs.")
    var warmup = 10

    @Option(help: "The vectortd binary (default: next to this benchmark).")
    var daemon: String = Binaries.vectortd

    func run() async throws {
        try Callgrind.requireValgrind()
        let operations = Double(connections * pairs * 2)
        print(
            "vectort-bench ledger-instructions: \(connections) connections × \(pairs) hold+settle pairs after \(warmup) "
                + "of warm-up, under callgrind")
        let idle = try await measure(pairs: warmup)
        let busy = try await measure(pairs: warmup + pairs)
        let writer = Double(busy.writer - idle.writer) / operations
        let whole = Double(busy.total - idle.total) / operations
        // Operations per transaction in the measured part (grants and user creations are a few
        // requests of the warm-up, in both runs).
        let batchSize = Double(busy.requests - idle.requests) / Double(max(1, busy.batches - idle.batches))
        let floor = try await journalFloor(operations: Int(operations), batchSize: max(1, Int(batchSize.rounded())))
        print(
            String(
                format: "writer thread: %.0f instructions per operation; whole daemon: %.0f (the rest is the event loops: "
                    + "framing, JSON, replies)", writer, whole))
        print(
            String(
                format: "floor, SQLite writing the same rows in batches of %.1f operations (the writer's): %.0f instructions per "
                    + "operation; the writer is %.1f× the floor", batchSize, floor, writer / max(floor, 1)))
    }

    struct Totals {
        var writer = 0
        var total = 0
        var batches = 0
        var requests = 0
    }

    /// Instructions of the writer thread and of every thread, and the writer's batches, over
    /// a run with `pairs` hold+settle pairs per connection.
    private func measure(pairs: Int) async throws -> Totals {
        let directory = try TemporaryDirectory(prefix: "vtli")
        let profile = directory.file("callgrind.out")
        var options = DaemonProcess.Options()
        options.binary = daemon
        options.wrapper = Callgrind.command(profile: profile, separateThreads: true)
        options.config = "log:\n  level: warning\ncredits:\n  free_on_signup: 0\n"
        let process = try await DaemonProcess(options, in: directory)
        let admin: AsyncVectortClient
        do {
            admin = try await process.connect(timeout: .seconds(180), callTimeout: 600)
        } catch {
            throw BenchmarkError(description: "vectortd under callgrind did not start: \(error)\n\(process.output)")
        }
        var users: [String] = []
        for i in 0..<connections {
            let user = try await admin.call(MethodName.usersCreate, ["email": .string("li\(i)@example.com")])
            let id = user["id"]?.stringValue ?? ""
            users.append(id)
            _ = try await admin.call(MethodName.creditsGrant, ["user": .string(id), "amount": 1_000_000, "reason": "bench"])
        }
        let socket = process.socketPath
        let list = users
        try await Task.detached {
            let failures = Locked<[String]>([])
            let group = DispatchGroup()
            for user in list {
                group.enter()
                Thread {
                    defer { group.leave() }
                    do {
                        let client = try VectortClient.connect(socketPath: socket, timeout: 600)
                        defer { client.close() }
                        for _ in 0..<pairs {
                            let hold = try client.call(
                                MethodName.creditsHold, ["user": .string(user), "amount": 2, "reference": "bench"])
                            _ = try client.call(MethodName.creditsSettle, ["hold": hold["id"] ?? .null])
                        }
                    } catch {
                        failures.withLock { $0.append("\(error)") }
                    }
                }.start()
            }
            group.wait()
            if let failure = failures.value.first { throw BenchmarkError(description: failure) }
        }.value
        // Batches and the requests in them, as the daemon counts them.
        let stats = try await admin.call(MethodName.getStats)
        let samples = stats["metrics"]?.arrayValue?.first { $0["name"] == "vectortd_ledger_batch_size" }?["samples"]?
            .arrayValue ?? []
        func sample(_ name: String) -> Int {
            Int(samples.first { $0["name"] == .string(name) }?["value"]?.intValue ?? 0)
        }
        admin.close()
        process.signal(SIGTERM)
        guard await process.waitForExit(timeout: .seconds(180)) == 0 else {
            throw BenchmarkError(description: "vectortd under callgrind did not stop cleanly: \(process.output)")
        }
        var totals = Totals()
        totals.batches = sample("vectortd_ledger_batch_size_count")
        totals.requests = sample("vectortd_ledger_batch_size_sum")
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasPrefix("callgrind.out") }
        for file in files {
            let text = try String(contentsOfFile: directory.file(file), encoding: .utf8)
            // With --separate-threads, the file without a thread suffix holds no costs of its own.
            guard let instructions = try? InstructionsBenchmark.totals(directory.file(file)) else { continue }
            totals.total += instructions
            // The writer thread is the one that runs the thread body of `LedgerWriter.run()`, an
            // @Sendable () -> () closure (the loop inside it is inlined).
            if text.contains("fn=$s7Storage12LedgerWriterC3runyyYaFyyYbcfU") {
                totals.writer = instructions
            }
        }
        guard totals.writer > 0 else { throw BenchmarkError(description: "no profile of the writer thread in \(files)") }
        return totals
    }

    /// Instructions per operation of `journal-floor` (this benchmark's binary under callgrind)
    /// writing a pair's rows for `operations / 2` pairs in batches of `batchSize` operations.
    private func journalFloor(operations: Int, batchSize: Int) async throws -> Double {
        func instructions(pairs: Int) async throws -> Int {
            let directory = try TemporaryDirectory(prefix: "vtlf")
            let profile = directory.file("callgrind.out")
            let result = try await runCommand(
                Callgrind.valgrind,
                Array(Callgrind.command(profile: profile).dropFirst()) + [
                    Callgrind.benchExecutable, "journal-floor", "--database", directory.file("floor.sqlite"), "--pairs", String(pairs),
                    "--batch", String(max(1, batchSize / 2)), "--users", String(connections),
                ], environment: ProcessInfo.processInfo.environment)
            guard result.status == 0 else {
                throw BenchmarkError(description: "journal-floor under callgrind failed: \(result.stderr.suffix(2000))")
            }
            return try InstructionsBenchmark.totals(profile)
        }
        let few = try await instructions(pairs: warmup)
        let many = try await instructions(pairs: warmup + operations / 2)
        return Double(many - few) / Double(operations)
    }
}

/// `vectort-bench journal-floor`: the rows a hold and its settle write (the hold, its journal
/// entry and balance, then the release and usage entries and the hold's new state), through
/// prepared statements with no decisions, reads or savepoints, in transactions of `batch`
/// pairs on a WAL database with synchronous=FULL. The floor of `ledger-instructions`.
struct JournalFloorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "journal-floor", abstract: "Write hold+settle rows straight through SQLite.", shouldDisplay: false)

    @Option(help: "The database file (created).")
    var database: String

    @Option(help: "Hold+settle pairs.")
    var pairs: Int

    @Option(help: "Pairs per transaction.")
    var batch: Int

    @Option(help: "Users the pairs take turns on.")
    var users: Int

    func run() throws {
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        let queue = try DatabaseQueue(path: database, configuration: configuration)
        try queue.write { db in
            try db.execute(
                sql: """
                    CREATE TABLE holds(id TEXT PRIMARY KEY, user_id TEXT NOT NULL, amount INTEGER NOT NULL,
                        status TEXT NOT NULL, charged INTEGER, created_at TEXT NOT NULL);
                    CREATE TABLE entries(id INTEGER PRIMARY KEY, user_id TEXT NOT NULL, bucket TEXT NOT NULL,
                        amount INTEGER NOT NULL, kind TEXT NOT NULL, reference TEXT, created_at TEXT NOT NULL);
                    CREATE INDEX entries_by_user ON entries(user_id, id);
                    CREATE TABLE balances(user_id TEXT NOT NULL, bucket TEXT NOT NULL, balance INTEGER NOT NULL,
                        PRIMARY KEY (user_id, bucket)) WITHOUT ROWID;
                    """)
        }
        let stamp = "2026-12-06T00:00:00.000Z"
        try queue.inDatabase { db in
            let hold = try db.makeStatement(sql: "INSERT INTO holds VALUES (?, ?, ?, 'held', NULL, ?)")
            let entry = try db.makeStatement(
                sql: "INSERT INTO entries(user_id, bucket, amount, kind, reference, created_at) VALUES (?, 'topup', ?, ?, ?, ?)")
            let balance = try db.makeStatement(
                sql: """
                    INSERT INTO balances VALUES (?, 'topup', ?)
                    ON CONFLICT(user_id, bucket) DO UPDATE SET balance = balance + excluded.balance
                    """)
            let settle = try db.makeStatement(sql: "UPDATE holds SET status = 'settled', charged = ? WHERE id = ?")
            var pair = 0
            while pair < pairs {
                try db.inTransaction(.immediate) {
                    for _ in 0..<min(batch, pairs - pair) {
                        let user = "u\(pair % max(1, users))"
                        let id = "h\(pair)"
                        try hold.execute(arguments: [id, user, 2, stamp])
                        try entry.execute(arguments: [user, -2, "hold", id, stamp])
                        try balance.execute(arguments: [user, -2])
                        try entry.execute(arguments: [user, 2, "release", id, stamp])
                        try entry.execute(arguments: [user, -2, "usage", "bench", stamp])
                        try settle.execute(arguments: [2, id])
                        pair += 1
                    }
                    return .commit
                }
            }
        }
    }
}
