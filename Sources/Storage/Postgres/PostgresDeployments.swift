package import Foundation
import Logging
import PostgresNIO
package import Protocol
import VectortCore

/// Deploy jobs on PostgreSQL: the same rules as `SQLiteDeployments`, and leased: `due` hands
/// a node only the jobs no other node holds (`FOR UPDATE SKIP LOCKED`, a lease that expires
/// after `leaseDuration`), each with a fencing token that its saves must still carry, so two
/// nodes never step the same job and a node whose lease expired cannot write over the new
/// holder. A job outlives its project's deletion: no foreign key cascades to it.
package struct PostgresDeployments: DeploymentRepository {
    package let writer: PostgresWriter
    package let database: PostgresDatabase
    package let node: PostgresNode
    /// How long a leased job stays this node's without a new `due`: far longer than one step.
    package let leaseDuration: Duration

    package init(writer: PostgresWriter, database: PostgresDatabase, node: PostgresNode, leaseDuration: Duration = .seconds(120)) {
        self.writer = writer
        self.database = database
        self.node = node
        self.leaseDuration = leaseDuration
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
                    try PostgresQuery(sql: Self.columns + " WHERE user_id = $1 AND idempotency_key = $2", request.user, key),
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

    /// A save under a lease also renews it: a step that saves before a long platform call
    /// (a create) keeps the job for another lease from then.
    package func save(_ update: DeploymentUpdate, now: Date) async throws -> Deployment {
        let node = node.id
        return try await writer.write { connection, logger in
            let stamp = Timestamps.string(now)
            let saved = try await connection.first(
                """
                UPDATE deployments SET state = \(update.state.rawValue), platform_id = \(update.platformID), url = \(update.url),
                    reason = \(update.reason), last_progress_at = \(Timestamps.string(update.lastProgress)), polls = \(update.polls),
                    next_step_at = \(update.nextStepAt.map(Timestamps.string)), updated_at = \(stamp),
                    finished_at = CASE WHEN \(update.state.isTerminal) THEN \(stamp) ELSE finished_at END,
                    lease_until = CASE WHEN \(update.lease)::bigint IS NULL THEN lease_until
                        ELSE GREATEST(lease_until, now() + make_interval(secs => \(leaseDuration.seconds))) END
                WHERE id = \(update.id) AND state NOT IN ('live', 'failed', 'cancelled')
                    AND (\(update.lease)::bigint IS NULL OR (lease_token = \(update.lease) AND lease_node = \(node)))
                RETURNING 1
                """, as: Int32.self, logger)
            let record = try await Self.load(connection, update.id, logger: logger)
            if saved == nil, update.lease != nil, !record.deployment.state.isTerminal {
                throw DeploymentLeaseLost(deployment: update.id)
            }
            return record.deployment
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
            let query = try PostgresQuery(
                sql: Self.columns + """
                     WHERE ($1::text IS NULL OR user_id = $1) AND ($2::text IS NULL OR project_id = $2)
                        AND ($3::text IS NULL OR state = $3) AND ($4::text IS NULL OR id < $4)
                    ORDER BY id DESC LIMIT $5
                    """, user, project, state?.rawValue, after, limit + 1)
            var records: [Deployment] = []
            for try await row in try await connection.query(query, logger: logger).decode(Row.self) {
                records.append(Self.record(row).deployment)
            }
            let page = Array(records.prefix(limit))
            return DeploymentList(deployments: page, nextAfter: records.count > limit ? page.last?.id : nil)
        }
    }

    /// The jobs due at `now` that no other node holds, leased to this node (a new fencing token
    /// each): a job whose lease expired goes to whichever node asks first.
    package func due(at now: Date, limit: Int) async throws -> [DeploymentRecord] {
        let node = node.id
        // A read first: an idle node polls every quarter second, and a write transaction (with
        // its WAL flush) for nothing each time would cost the database more than the jobs.
        let anyDue = try await database.client.withConnection { [database] connection in
            try await connection.first(
                """
                SELECT 1 FROM deployments
                WHERE state NOT IN ('live', 'failed', 'cancelled') AND next_step_at <= \(Timestamps.string(now))
                    AND (lease_until IS NULL OR lease_until < now() OR lease_node = \(node))
                LIMIT 1
                """, as: Int32.self, database.logger) != nil
        }
        guard anyDue else { return [] }
        return try await writer.write { connection, logger in
            let query = try PostgresQuery(
                sql: """
                    WITH due AS (
                        SELECT id FROM deployments
                        WHERE state NOT IN ('live', 'failed', 'cancelled') AND next_step_at <= $1
                            AND (lease_until IS NULL OR lease_until < now() OR lease_node = $3)
                        ORDER BY next_step_at LIMIT $2 FOR UPDATE SKIP LOCKED
                    )
                    UPDATE deployments d SET lease_node = $3, lease_until = now() + make_interval(secs => $4),
                        lease_token = d.lease_token + 1
                    FROM due WHERE d.id = due.id
                    RETURNING d.id, d.project_id, d.user_id, d.version_id, d.platform, d.state, d.platform_id, d.url, d.reason,
                        d.settings, d.created_at, d.updated_at, d.finished_at, d.last_progress_at, d.polls, d.lease_token,
                        d.next_step_at
                    """, Timestamps.string(now), limit, node, leaseDuration.seconds)
            var records: [(String, DeploymentRecord)] = []
            for try await row in try await connection.query(query, logger: logger).decode(
                (String, String, String, String, String, String, String?, String?, String?, String, String, String, String?, String, Int, Int64, String?).self)
            {
                var record = Self.record((row.0, row.1, row.2, row.3, row.4, row.5, row.6, row.7, row.8, row.9, row.10, row.11, row.12, row.13, row.14))
                record.lease = row.15
                records.append((row.16 ?? "", record))
            }
            return records.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }

    /// This node's jobs (and those no live lease holds) due at once; the other nodes' jobs
    /// keep their schedule.
    package func resumeAll(now: Date) async throws -> Int {
        let stamp = Timestamps.string(now)
        let node = node.id
        return try await writer.write { connection, logger in
            var resumed = 0
            for try await _ in try await connection.query(
                """
                UPDATE deployments SET next_step_at = \(stamp)
                WHERE state NOT IN ('live', 'failed', 'cancelled') AND next_step_at > \(stamp)
                    AND (lease_until IS NULL OR lease_until < now() OR lease_node = \(node))
                RETURNING 1
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
                try PostgresQuery(sql: columns + " WHERE id = $1", id), as: Row.self, logger)
        else { throw EngineError.notFound("deployment", id) }
        return record(row)
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
