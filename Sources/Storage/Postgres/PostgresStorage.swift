package import Logging

/// The PostgreSQL backend: a connection pool per node, its group-commit writer, and the
/// repositories over them. The database decides everything that must hold across nodes (see
/// docs/architecture.md, "PostgreSQL").
package struct PostgresStorage: StorageBackend {
    package let database: PostgresDatabase
    package let writer: PostgresWriter
    package let users: any UserRepository
    package let projects: any ProjectRepository
    package let versions: any VersionRepository
    package let ledger: any LedgerRepository
    package let generations: any GenerationRepository
    package let payments: any PaymentRepository
    package let deployments: any DeploymentRepository
    package let accounts: any AccountRepository

    /// Connects to the database at `location` (migrating it); at most `maxBatch` writes of this
    /// node commit in one transaction.
    package static func open(
        _ location: PostgresLocation, password: String?, maxBatch: Int = 256, logger: Logger
    ) async throws -> PostgresStorage {
        let database = try await PostgresDatabase.open(location, password: password, logger: logger)
        return PostgresStorage(database: database, writer: PostgresWriter(database: database, maxBatch: maxBatch))
    }

    init(database: PostgresDatabase, writer: PostgresWriter) {
        self.database = database
        self.writer = writer
        users = PostgresUsers(writer: writer, database: database)
        projects = PostgresProjects(writer: writer, database: database)
        versions = PostgresVersions(writer: writer, database: database)
        ledger = PostgresLedger(writer: writer, database: database)
        generations = PostgresGenerations(writer: writer, database: database)
        payments = PostgresPayments(writer: writer, database: database)
        deployments = PostgresDeployments(writer: writer, database: database)
        accounts = PostgresAccounts(writer: writer, database: database)
    }

    package func run() async {
        await writer.run()
        database.close()
    }

    package func stop() {
        writer.stop()
    }

    package func ping() async throws {
        try await database.ping()
    }
}
