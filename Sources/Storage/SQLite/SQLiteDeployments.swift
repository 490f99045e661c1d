import Foundation
import GRDB
import Protocol
import VectortCore

/// Deploy jobs in SQLite. A job outlives its project's deletion: no foreign key cascades to it.
struct SQLiteDeployments: DeploymentRepository {
    let writer: LedgerWriter
    let pool: DatabasePool

    func create(_ request: DeploymentCreate, now: Date) async throws -> (deployment: Deployment, existing: Bool) {
        let settings = String(decoding: try WireCoding.encoder.encode(request.settings), as: UTF8.self)
        return try await writer.write { db in
            if let key = request.idempotencyKey,
                let row = try Row.fetchOne(
                    db.cachedStatement(sql: "SELECT * FROM deployments WHERE user_id = ? AND idempotency_key = ?"),
                    arguments: [request.user, key])
            {
                guard row["project_id"] == request.project, row["version_id"] == request.version,
                    row["platform"] == request.platform
                else { throw EngineError.conflict("idempotency_key \(key) was already used with other parameters") }
                return (Self.record(row).deployment, true)
            }
            let id = Identifiers.sortable("dep", now: now)
            let stamp = Timestamps.string(now)
            try db.cachedStatement(sql: """
                    INSERT INTO deployments(id, project_id, user_id, version_id, platform, state, settings, idempotency_key,
                        created_at, updated_at, last_progress_at, polls, next_step_at)
                    VALUES (?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?, 0, ?)
                    """).execute(arguments: [
                    id, request.project, request.user, request.version, request.platform, settings, request.idempotencyKey,
                    stamp, stamp, stamp, stamp,
                ])
            return (try Self.load(db, id).deployment, false)
        }
    }

    func save(_ update: DeploymentUpdate, now: Date) async throws -> Deployment {
        try await writer.write { db in
            let stamp = Timestamps.string(now)
            try db.cachedStatement(sql: """
                    UPDATE deployments SET state = ?, platform_id = ?, url = ?, reason = ?, last_progress_at = ?, polls = ?,
                        next_step_at = ?, updated_at = ?, finished_at = CASE WHEN ? THEN ? ELSE finished_at END
                    WHERE id = ? AND state NOT IN ('live', 'failed', 'cancelled')
                    """).execute(arguments: [
                    update.state.rawValue, update.platformID, update.url, update.reason, Timestamps.string(update.lastProgress),
                    update.polls, update.nextStepAt.map(Timestamps.string), stamp, update.state.isTerminal, stamp, update.id,
                ])
            return try Self.load(db, update.id).deployment
        }
    }

    func get(_ id: String, user: String?) async throws -> DeploymentRecord {
        try await pool.read { db in
            let record = try Self.load(db, id)
            if let user, record.deployment.user != user { throw EngineError.notFound("deployment", id) }
            return record
        }
    }

    func list(user: String?, project: String?, state: DeploymentState?, limit: Int, after: String?) async throws
        -> DeploymentList
    {
        try await pool.read { db in
            var conditions: [String] = []
            var arguments: [any DatabaseValueConvertible] = []
            for (column, value) in [("user_id", user), ("project_id", project), ("state", state?.rawValue)] {
                if let value {
                    conditions.append("\(column) = ?")
                    arguments.append(value)
                }
            }
            if let after {
                conditions.append("id < ?")
                arguments.append(after)
            }
            let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            let rows = try Row.fetchAll(
                db, sql: "SELECT * FROM deployments \(filter) ORDER BY id DESC LIMIT ?",
                arguments: StatementArguments(arguments + [limit + 1]))
            let deployments = rows.prefix(limit).map { Self.record($0).deployment }
            return DeploymentList(deployments: deployments, nextAfter: rows.count > limit ? deployments.last?.id : nil)
        }
    }

    func due(at now: Date, limit: Int) async throws -> [DeploymentRecord] {
        try await pool.read { db in
            try Row.fetchAll(
                db.cachedStatement(sql: """
                    SELECT * FROM deployments
                    WHERE state != 'live' AND state != 'failed' AND state != 'cancelled' AND next_step_at <= ?
                    ORDER BY next_step_at LIMIT ?
                    """), arguments: [Timestamps.string(now), limit]
            ).map(Self.record)
        }
    }

    func resumeAll(now: Date) async throws -> Int {
        try await writer.write { db in
            try db.cachedStatement(sql: """
                    UPDATE deployments SET next_step_at = ?
                    WHERE state != 'live' AND state != 'failed' AND state != 'cancelled' AND next_step_at > ?
                    """).execute(arguments: [Timestamps.string(now), Timestamps.string(now)])
            return db.changesCount
        }
    }

    func activeCount() async throws -> Int {
        try await pool.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM deployments WHERE state NOT IN ('live', 'failed', 'cancelled')") ?? 0
        }
    }

    static func load(_ db: GRDB.Database, _ id: String) throws -> DeploymentRecord {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM deployments WHERE id = ?"), arguments: [id]) else {
            throw EngineError.notFound("deployment", id)
        }
        return record(row)
    }

    static func record(_ row: Row) -> DeploymentRecord {
        let settings = (try? WireCoding.decoder.decode([String: JSONValue].self, from: Data((row["settings"] as String).utf8))) ?? [:]
        return DeploymentRecord(
            deployment: Deployment(
                id: row["id"], project: row["project_id"], user: row["user_id"], version: row["version_id"],
                platform: row["platform"], state: DeploymentState(rawValue: row["state"]) ?? .failed,
                platformID: row["platform_id"], url: row["url"], reason: row["reason"], createdAt: row["created_at"],
                updatedAt: row["updated_at"], finishedAt: row["finished_at"]),
            settings: settings, lastProgress: Timestamps.parse(row["last_progress_at"]) ?? Date(), polls: row["polls"])
    }
}
