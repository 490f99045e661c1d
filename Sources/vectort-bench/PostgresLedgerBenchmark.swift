import ArgumentParser
import Foundation
import Logging
import Protocol
import Storage
import VectortCore
import VectortTesting

/// Durable hold+settle operations on the PostgreSQL ledger with one node and with two nodes
/// sharing one private server (fsync and synchronous_commit on), beside the SQLite ledger on
/// the same machine, against pgbench's own simple-update rate on the same server. Measured at
/// the storage seam (the repositories every daemon uses), without the control socket;
/// `vectort-bench ledger --database postgres` measures the same through whole daemons.
struct PostgresLedgerBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger-postgres",
        abstract: "Hold+settle on the PostgreSQL ledger with one and two nodes, beside SQLite, against pgbench.",
        discussion: """
            Each node is its own connection pool and group-commit writer, as a daemon has. On this 2-core machine \
            the nodes, PostgreSQL and the load share the cores, so two nodes cannot be faster than one here; the \
            goals (issue 22) are that coordination costs little: two nodes reach at least 90 % of one node's rate, \
            and one node at least 50 % of pgbench's simple-update rate on the same server.
            """)

    @Option(help: "Concurrent clients, each doing hold then settle on its own user, spread over the nodes.")
    var clients = 64

    @Option(help: "Seconds per measurement.")
    var seconds = 5.0

    @Option(help: "Transactions each node commits at once (its writer's lanes).")
    var lanes = 4

    func run() async throws {
        print(
            "vectort-bench ledger-postgres: \(clients) clients doing hold then settle, \(seconds) s each, durable commits")
        var logger = Logger(label: "ledger-postgres")
        logger.logLevel = .error
        let server = try await PostgresServer.start(durable: true)
        do {
            let floor = try await Self.pgbench(server, clients: clients, seconds: seconds)
            let one = try await measure(server, database: "one_node", nodes: 1, logger: logger)
            let two = try await measure(server, database: "two_nodes", nodes: 2, logger: logger)
            await server.stop()
            let sqlite = try await measureSQLite(logger: logger)
            print(row(["", "ops/s", "against one node", "against pgbench"]))
            for (name, rate) in [
                ("pgbench simple-update (floor)", floor), ("PostgreSQL, one node", one), ("PostgreSQL, two nodes", two),
                ("SQLite, one daemon", sqlite),
            ] {
                print(row([name, String(format: "%.0f", rate), String(format: "%.2f×", rate / one), String(format: "%.2f×", rate / floor)]))
            }
            print("")
            print(
                String(format: "two nodes reach %.0f %% of one node's rate ", two / one * 100)
                    + goal(two / one >= 0.9, "≥ 90 %"))
            print(
                String(format: "one node reaches %.0f %% of pgbench's simple-update rate ", one / floor * 100)
                    + goal(one / floor >= 0.5, "≥ 50 %"))
        } catch {
            await server.stop()
            throw error
        }
    }

    /// pgbench's simple-update transactions per second (`-N`: one account update, a select and
    /// a history insert per transaction) with as many clients, on the same server.
    static func pgbench(_ server: PostgresServer, clients: Int, seconds: Double) async throws -> Double {
        try await server.createDatabase("pgbench")
        let common = ["-h", server.socketDirectory, "-p", String(PostgresServer.port), "-U", PostgresServer.superuser]
        let binary = PostgresServer.binaries + "/pgbench"
        let initialized = try await runCommand(binary, ["-i", "-q", "-s", "4"] + common + ["pgbench"])
        guard initialized.status == 0 else { throw BenchmarkError(description: "pgbench -i failed: \(initialized.stderr)") }
        let result = try await runCommand(
            binary,
            ["-N", "-c", String(clients), "-j", "2", "-T", String(Int(seconds.rounded(.up)))] + common + ["pgbench"])
        guard result.status == 0,
            let line = result.stdout.split(separator: "\n").first(where: { $0.hasPrefix("tps = ") }),
            let tps = Double(line.dropFirst(6).split(separator: " ")[0])
        else { throw BenchmarkError(description: "pgbench failed: \(result.stderr)\(result.stdout)") }
        return tps
    }

    /// Operations per second (a hold or a settle each) with `nodes` nodes on a fresh database.
    private func measure(_ server: PostgresServer, database: String, nodes: Int, logger: Logger) async throws -> Double {
        try await server.createDatabase(database)
        let location = try PostgresLocation(url: server.url(database: database))
        var ledgers: [PostgresLedger] = []
        var writers: [PostgresWriter] = []
        var databases: [PostgresDatabase] = []
        var running: [Task<Void, Never>] = []
        for index in 0..<nodes {
            let opened = try await PostgresDatabase.open(location, password: nil, logger: logger)
            let writer = PostgresWriter(database: opened, lanes: lanes)
            databases.append(opened)
            writers.append(writer)
            ledgers.append(PostgresLedger(writer: writer, database: opened, node: PostgresNode(id: "bench-\(index)")))
            running.append(Task { await writer.run() })
        }
        defer {
            for writer in writers { writer.stop() }
        }
        var values: [String] = []
        for index in 0..<clients {
            values.append("('u\(index)', 'u\(index)@example.com', 'u\(index)@example.com', 'active', '2027-01-15T08:00:00.000Z')")
        }
        try await server.psql(
            "INSERT INTO users(id, email, email_key, status, created_at) VALUES " + values.joined(separator: ", "),
            database: database)
        for index in 0..<clients {
            _ = try await ledgers[0].grant(
                CreditGrantRequest(
                    user: "u\(index)", amount: 1_000_000_000, bucket: .topup, reason: "bench", expiresAt: nil, expiry: nil,
                    idempotencyKey: nil), now: Date())
        }
        let perNode = ledgers
        let rate = try await Self.closedLoop(clients: clients, seconds: seconds) { index in perNode[index % nodes] }
        for writer in writers { writer.stop() }
        for task in running { await task.value }
        for database in databases { database.close() }
        return rate
    }

    /// The same load on the SQLite ledger (group commit, synchronous=FULL) in a temporary directory.
    private func measureSQLite(logger: Logger) async throws -> Double {
        let directory = try TemporaryDirectory(prefix: "vtlps")
        let storage = try SQLiteStorage.open(path: directory.file("vectortd.sqlite"), logger: logger)
        let running = Task { await storage.run() }
        var users: [String] = []
        for index in 0..<clients {
            let user = try await storage.users.create(
                email: "u\(index)@example.com", emailKey: "u\(index)@example.com", fullName: nil, passwordHash: nil,
                freeCredits: 0, now: Date())
            users.append(user.id)
            _ = try await storage.ledger.grant(
                CreditGrantRequest(
                    user: user.id, amount: 1_000_000_000, bucket: .topup, reason: "bench", expiresAt: nil, expiry: nil,
                    idempotencyKey: nil), now: Date())
        }
        let ids = users
        let rate = try await Self.closedLoop(clients: clients, seconds: seconds, users: { ids[$0] }) { _ in storage.ledger }
        storage.stop()
        await running.value
        return rate
    }

    /// Each client holds 2 credits then settles, until the time is up; operations per second.
    static func closedLoop(
        clients: Int, seconds: Double, users: @escaping @Sendable (Int) -> String = { "u\($0)" },
        ledger: @escaping @Sendable (Int) -> any LedgerRepository
    ) async throws -> Double {
        let clock = ContinuousClock()
        let start = clock.now
        let end = start + .milliseconds(Int64(seconds * 1000))
        let operations = try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<clients {
                let ledger = ledger(index)
                let user = users(index)
                group.addTask {
                    var done = 0
                    while clock.now < end {
                        let hold = try await ledger.hold(user: user, amount: 2, reference: "bench", idempotencyKey: nil, now: Date())
                        _ = try await ledger.settle(hold: hold.id, charged: nil, now: Date())
                        done += 2
                    }
                    return done
                }
            }
            return try await group.reduce(0, +)
        }
        return Double(operations) / (clock.now - start).seconds
    }

    private func row(_ cells: [String]) -> String {
        let widths = [32, 10, 18, 16]
        return zip(cells, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: " ")
    }

    private func goal(_ met: Bool, _ text: String) -> String {
        "(goal \(text): \(met ? "met" : "NOT met"))"
    }
}
