package import Logging
package import Protocol
package import Observability

/// The SQLite backend: one database file, its group-commit writer, and the repositories over
/// them. Every write of every repository goes through the one writer, so the repositories'
/// transactions share its batches and its balance cache stays the committed truth.
package struct SQLiteStorage: StorageBackend {
    package let database: Database
    package let writer: LedgerWriter
    package let users: any UserRepository
    package let projects: any ProjectRepository
    package let versions: any VersionRepository
    package let ledger: any LedgerRepository
    package let generations: any GenerationRepository
    package let payments: any PaymentRepository
    package let deployments: any DeploymentRepository
    package let accounts: any AccountRepository

    /// Opens (creating and migrating) the database at `path`; at most `maxBatch` writes commit
    /// in one transaction.
    package static func open(
        path: String, maxBatch: Int = 512, metrics: Telemetry = Telemetry(enabled: false), logger: Logger
    ) throws -> SQLiteStorage {
        let database = try Database.open(path: path, logger: logger)
        return SQLiteStorage(database: database, writer: LedgerWriter(pool: database.pool, maxBatch: maxBatch, metrics: metrics))
    }

    init(database: Database, writer: LedgerWriter) {
        let pool = database.pool
        self.database = database
        self.writer = writer
        users = SQLiteUsers(writer: writer, pool: pool)
        projects = SQLiteProjects(writer: writer, pool: pool)
        versions = SQLiteVersions(writer: writer, pool: pool)
        ledger = SQLiteLedger(writer: writer, pool: pool)
        generations = SQLiteGenerations(writer: writer, pool: pool)
        payments = SQLitePayments(writer: writer, pool: pool)
        deployments = SQLiteDeployments(writer: writer, pool: pool)
        accounts = SQLiteAccounts(writer: writer, pool: pool)
    }

    package func run() async {
        await writer.run()
    }

    package func stop() {
        writer.stop()
    }

    package func ping() async throws {
        try await database.ping()
    }

    package func describe() -> ServiceInfo.Storage {
        ServiceInfo.Storage(backend: "sqlite")
    }

    /// One node owns a SQLite file: there is no one to publish to.
    package func publishProviders(_ document: String) async throws {}

    package func publishedProviders() async throws -> [PublishedProviders]? { nil }
}
