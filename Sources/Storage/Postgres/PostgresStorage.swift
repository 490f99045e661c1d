package import Foundation
package import Logging
package import Protocol

/// The PostgreSQL backend: a connection pool per node, its group-commit writer, and the
/// repositories over them. The database decides everything that must hold across nodes (see
/// docs/architecture.md, "PostgreSQL").
package struct PostgresStorage: StorageBackend {
    package let database: PostgresDatabase
    package let writer: PostgresWriter
    package let node: PostgresNode
    package let users: any UserRepository
    package let projects: any ProjectRepository
    package let versions: any VersionRepository
    package let ledger: any LedgerRepository
    package let generations: any GenerationRepository
    package let payments: any PaymentRepository
    package let deployments: any DeploymentRepository
    package let accounts: any AccountRepository

    /// Connects to the database at `location` (migrating it) as `node`, registered in `nodes`;
    /// at most `maxBatch` writes of this node commit in one transaction; a deploy job stays
    /// leased to this node for `leaseDuration` after each poll.
    package static func open(
        _ location: PostgresLocation, password: String?, node: PostgresNode, maxBatch: Int = 256,
        leaseDuration: Duration = .seconds(120), maxConnections: Int = 16, logger: Logger
    ) async throws -> PostgresStorage {
        let database = try await PostgresDatabase.open(location, password: password, maxConnections: maxConnections, logger: logger)
        do {
            try await node.register(database, now: Date())
        } catch {
            database.close()
            throw error
        }
        return PostgresStorage(
            database: database, writer: PostgresWriter(database: database, maxBatch: maxBatch), node: node,
            leaseDuration: leaseDuration)
    }

    package init(
        database: PostgresDatabase, writer: PostgresWriter, node: PostgresNode, leaseDuration: Duration = .seconds(120)
    ) {
        self.database = database
        self.writer = writer
        self.node = node
        users = PostgresUsers(writer: writer, database: database)
        projects = PostgresProjects(writer: writer, database: database)
        versions = PostgresVersions(writer: writer, database: database)
        ledger = PostgresLedger(writer: writer, database: database, node: node)
        generations = PostgresGenerations(writer: writer, database: database, node: node)
        payments = PostgresPayments(writer: writer, database: database, node: node)
        deployments = PostgresDeployments(writer: writer, database: database, node: node, leaseDuration: leaseDuration)
        accounts = PostgresAccounts(writer: writer, database: database)
    }

    /// Commits this node's writes and writes its heartbeat until `stop()`.
    package func run() async {
        let heartbeat = Task { [node, database] in await node.beat(database) }
        await writer.run()
        heartbeat.cancel()
        await heartbeat.value
        database.close()
    }

    package func stop() {
        writer.stop()
    }

    package func ping() async throws {
        try await database.ping()
    }

    package func describe() -> ServiceInfo.Storage {
        ServiceInfo.Storage(backend: "postgresql", node: node.id, nodes: node.liveNodes)
    }

    package func publishProviders(_ document: String) async throws {
        try await node.publishProviders(document, database)
    }

    package func publishedProviders() async throws -> [PublishedProviders]? {
        try await node.publishedProviders(database)
    }
}
