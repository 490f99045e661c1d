package import Foundation
import Logging
import PostgresNIO
package import Protocol
import VectortCore

/// Deploy jobs on PostgreSQL: the same rules as `SQLiteDeployments`. A job outlives its
/// project's deletion: no foreign key cascades to it. (Leasing jobs to one node at a time
/// arrives with node ids; until then one node polls.)
package struct PostgresDeployments: DeploymentRepository {
    package let writer: PostgresWriter
    package let database: PostgresDatabase

    package init(writer: PostgresWriter, database: PostgresDatabase) {
        self.writer = writer
        self.database = database
    }

    typealias Row = (
        String, String, String, String, String, String, String?, String?, String?, String, String, String, String?, String, Int
    )

    static let columns = """
        SELECT id, project_id, user_id, version_id, platform, state, platform_id, url, reason, settings, created_at, updated_at,
            finished_at, last_progress_at, polls FROM deployments
        """

    package func create(_ request: DeploymentCreate, now: Date) async throws -> (deployment: Deployment, existing: Bool) {
        let settings = String(decoding: try WireCoding.encoder.encode(request.settings), as: UTF8.self)
        return try await writer.write { connection, logger in
            if let key = request.idempotencyKey,
                let row = try await connection.first(
                    PostgresQuery(unsafeSQL: Self.columns + " WHERE user_id = $1 AND idempotency_key = $2", binds: try Self.binds(request.user, key)),
                    as: Row.self, logger)
            {
                guard row.1 == request.project, row.3 == request.version, row.4 == request.platform else {
                    throw EngineError.conflict("idempotency_key \(key) was already used with other parameters")
                }
                return (Self.record(row).deployment, true)
            }
            let id = Identifiers.sortable("dep", now: now)
            let stamp = Timestamps.string(now)
            do {
                try await connection.run(
                    """
                    INSERT INTO deployments(id, project_id, user_id, version_id, platform, state, settings, idempotency_key,
                        created_at, updated_at, last_progress_at, polls, next_step_at)
                    VALUES (\(id), \(request.project), \(request.user), \(request.version), \(request.platform), 'queued', \(settings),
                        \(request.idempotencyKey), \(stamp), \(stamp), \(stamp), 0, \(stamp))
                    """, logger)
            } catch where PostgresState.isUniqueViolation(error) && request.idempotencyKey != nil {
                // Another node created this key's job meanwhile: run again and answer it.
                throw PostgresState.RunAgain()
            }
            return (try await Self.load(connection, id, logger: logger).deployment, false)
        }
    }

    package func save(_ update: DeploymentUpdate, now: Date) async throws -> Deployment {
        try await writer.write { connection, logger in
            let stamp = Timestamps.string(now)
            try await connection.run(
                """
                UPDATE deployments SET state = \(update.state.rawValue), platform_id = \(update.platformID), url = \(update.url),
                    reason = \(update.reason), last_progress_at = \(Timestamps.string(update.lastProgress)), polls = \(update.polls),
                    next_step_at = \(update.nextStepAt.map(Timestamps.string)), updated_at = \(stamp),
                    finished_at = CASE WHEN \(update.state.isTerminal) THEN \(stamp) ELSE finished_at END
                WHERE id = \(update.id) AND state NOT IN ('live', 'failed', 'cancelled')
                """, logger)
            return try await Self.load(connection, update.id, logger: logger).deployment
        }
    }

    package func get(_ id: String, user: String?) async throws -> DeploymentRecord {
        let logger = database.logger
        return try await database.client.withConnection { connection in
            let record = try await Self.load(connection, id, logger: logger)
            if let user, record.deployment.user != user { throw EngineError.notFound("deployment", id) }
            return record
        }
    }

    package func list(user: String?, project: String?, state: DeploymentState?, limit: Int, after: String?) async throws
        -> DeploymentList
    {
        let logger = database.logger
        return try await database.client.withConnection { connection in
            let query = PostgresQuery(
                unsafeSQL: Self.columns + """
                     WHERE ($1::text IS NULL OR user_id = $1) AND ($2::text IS NULL OR project_id = $2)
                        AND ($3::text IS NULL OR state = $3) AND ($4::text IS NULL OR id < $4)
                    ORDER BY id DESC LIMIT $5
                    """, binds: try Self.binds(user, project, state?.rawValue, after, limit + 1))
            var records: [Deployment] = []
            for try await row in try await connection.query(query, logger: logger).decode(Row.self) {
                records.append(Self.record(row).deployment)
            }
            let page = Array(records.prefix(limit))
            return DeploymentList(deployments: page, nextAfter: records.count > limit ? page.last?.id : nil)
        }
    }

    package func due(at now: Date, limit: Int) async throws -> [DeploymentRecord] {
        let logger = database.logger
        return try await database.client.withConnection { connection in
            let query = PostgresQuery(
                unsafeSQL: Self.columns + """
                     WHERE state NOT IN ('live', 'failed', 'cancelled') AND next_step_at <= $1 ORDER BY next_step_at LIMIT $2
                    """, binds: try Self.binds(Timestamps.string(now), limit))
            var records: [DeploymentRecord] = []
            for try await row in try await connection.query(query, logger: logger).decode(Row.self) {
                records.append(Self.record(row))
            }
            return records
        }
    }

    package func resumeAll(now: Date) async throws -> Int {
        let stamp = Timestamps.string(now)
        return try await writer.write { connection, logger in
            var resumed = 0
            for try await _ in try await connection.query(
                """
                UPDATE deployments SET next_step_at = \(stamp)
                WHERE state NOT IN ('live', 'failed', 'cancelled') AND next_step_at > \(stamp) RETURNING 1
                """, logger: logger
            ) {
                resumed += 1
            }
            return resumed
        }
    }

    package func activeCount() async throws -> Int {
        let logger = database.logger
        return try await database.client.withConnection { connection in
            try await connection.first(
                "SELECT COUNT(*)::BIGINT FROM deployments WHERE state NOT IN ('live', 'failed', 'cancelled')", as: Int.self, logger
            ) ?? 0
        }
    }

    static func load(_ connection: PostgresConnection, _ id: String, logger: Logger) async throws -> DeploymentRecord {
        guard
            let row = try await connection.first(
                PostgresQuery(unsafeSQL: columns + " WHERE id = $1", binds: try binds(id)), as: Row.self, logger)
        else { throw EngineError.notFound("deployment", id) }
        return record(row)
    }

    /// Bindings for a query written as text with `$n` placeholders.
    static func binds(_ values: (any PostgresEncodable & Sendable)?...) throws -> PostgresBindings {
        var binds = PostgresBindings(capacity: values.count)
        for value in values {
            if let value { try binds.append(value, context: .default) } else { binds.appendNull() }
        }
        return binds
    }

    static func record(_ row: Row) -> DeploymentRecord {
        let settings = (try? WireCoding.decoder.decode([String: JSONValue].self, from: Data(row.9.utf8))) ?? [:]
        return DeploymentRecord(
            deployment: Deployment(
                id: row.0, project: row.1, user: row.2, version: row.3, platform: row.4,
                state: DeploymentState(rawValue: row.5) ?? .failed, platformID: row.6, url: row.7, reason: row.8,
                createdAt: row.10, updatedAt: row.11, finishedAt: row.12),
            settings: settings, lastProgress: Timestamps.parse(row.13) ?? Date(), polls: row.14)
    }
}
