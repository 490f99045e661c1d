package import Foundation
package import Logging
package import PostgresNIO
import VectortCore

/// Where a PostgreSQL database is, from a `postgres://` URL: `postgres://USER@HOST:PORT/DB`, or
/// `postgres://USER@/DB?host=/run/postgresql` for a Unix socket directory. A password in the
/// URL is refused: it would sit in the configuration file, which is not a secret; the password
/// comes from the `database-password` credential.
package struct PostgresLocation: Sendable, Equatable {
    package var user: String
    package var database: String
    /// A host name or address; nil with a socket directory.
    package var host: String?
    package var port: Int
    /// The directory holding `.s.PGSQL.PORT`, when connecting over a Unix socket.
    package var socketDirectory: String?

    package struct Invalid: Error, CustomStringConvertible {
        package let description: String
    }

    package init(url text: String) throws {
        guard let components = URLComponents(string: text), ["postgres", "postgresql"].contains(components.scheme ?? "")
        else { throw Invalid(description: "database.url must be a postgres:// URL") }
        if components.password != nil {
            throw Invalid(
                description: "database.url must not hold a password: put it in the database-password credential")
        }
        guard let user = components.user, !user.isEmpty else {
            throw Invalid(description: "database.url names no user (postgres://USER@HOST/DATABASE)")
        }
        let database = String(components.path.drop { $0 == "/" })
        guard !database.isEmpty, !database.contains("/") else {
            throw Invalid(description: "database.url names no database (postgres://USER@HOST/DATABASE)")
        }
        let socket = components.queryItems?.first { $0.name == "host" }?.value
        if let unknown = components.queryItems?.first(where: { $0.name != "host" }) {
            throw Invalid(description: "database.url: unknown parameter \(unknown.name)")
        }
        if let socket, !socket.hasPrefix("/") {
            throw Invalid(description: "database.url: host= must be an absolute socket directory")
        }
        let host = components.host.flatMap { $0.isEmpty ? nil : $0 }
        guard (host == nil) != (socket == nil) else {
            throw Invalid(
                description: "database.url needs either a host (postgres://USER@HOST/DB) or a socket directory "
                    + "(postgres://USER@/DB?host=/run/postgresql), not both")
        }
        self.user = user
        self.database = database
        self.host = host
        self.port = components.port ?? 5432
        self.socketDirectory = socket
    }

    /// The client configuration; TLS is not used (loopback and socket deployments).
    package func configuration(password: String?, maxConnections: Int = 16) -> PostgresClient.Configuration {
        var configuration =
            if let socketDirectory {
                PostgresClient.Configuration(
                    unixSocketPath: socketDirectory + "/.s.PGSQL.\(port)", username: user, password: password,
                    database: database)
            } else {
                PostgresClient.Configuration(
                    host: host ?? "localhost", port: port, username: user, password: password, database: database,
                    tls: .disable)
            }
        configuration.options.maximumConnections = maxConnections
        return configuration
    }
}

/// A connection pool to one PostgreSQL database, running while `run()` does, with the schema
/// migrated on `open`.
package final class PostgresDatabase: Sendable {
    package let client: PostgresClient
    package let logger: Logger
    private let running: Task<Void, Never>

    private init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
        running = Task { await client.run() }
    }

    /// Connects and brings the schema up to date. Several nodes may start at once: migrations
    /// run under an advisory lock, each in its own transaction, once.
    /// At most `maxConnections` connections are open at once (the writer's lanes among them).
    package static func open(
        _ location: PostgresLocation, password: String?, maxConnections: Int = 16, logger: Logger
    ) async throws -> PostgresDatabase {
        let database = PostgresDatabase(
            client: PostgresClient(
                configuration: location.configuration(password: password, maxConnections: maxConnections), backgroundLogger: logger),
            logger: logger)
        do {
            try await PostgresMigrations.migrate(database)
        } catch {
            database.close()
            throw error
        }
        return database
    }

    /// Ends the pool: queries after this fail.
    package func close() {
        running.cancel()
    }

    /// Closes the pool and returns once its connections are closed.
    package func closeAndWait() async {
        running.cancel()
        await running.value
    }

    /// One round trip.
    package func ping() async throws {
        _ = try await client.query("SELECT 1", logger: logger).collect()
    }
}

/// SQLSTATEs the PostgreSQL backend acts on.
package enum PostgresState {
    /// Thrown by a request whose decision another node's commit made stale (it created the
    /// row this request meant to create): the batch runs again and the request sees that row.
    struct RunAgain: Error {}

    /// A serializable transaction lost (40001), a deadlock was broken (40P01), or `RunAgain`:
    /// run the batch again.
    static func isRetryable(_ error: any Error) -> Bool {
        if error is RunAgain { return true }
        guard let error = error as? PSQLError, let state = error.serverInfo?[.sqlState] else { return false }
        return state == "40001" || state == "40P01"
    }

    static func isUniqueViolation(_ error: any Error) -> Bool {
        (error as? PSQLError)?.serverInfo?[.sqlState] == "23505"
    }
}

extension PostgresQuery {
    /// A query written as text with `$n` placeholders (where the text itself is chosen, as a
    /// column list or a grouping, not interpolated values), bound to `values`; nil binds NULL.
    init(sql: String, _ values: (any PostgresEncodable & Sendable)?...) throws {
        try self.init(sql: sql, values: values)
    }

    init(sql: String, values: [(any PostgresEncodable & Sendable)?]) throws {
        var binds = PostgresBindings(capacity: values.count)
        for value in values {
            if let value { try binds.append(value, context: .default) } else { binds.appendNull() }
        }
        self.init(unsafeSQL: sql, binds: binds)
    }
}
