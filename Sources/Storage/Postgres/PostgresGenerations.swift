package import Foundation
import Logging
import NIOCore
import PostgresNIO
package import Protocol
import VectortCore

/// Generation records and their attempts on PostgreSQL: the start, the success and the failure
/// are each one transaction with the hold, the version and the record, as on SQLite. A start
/// locks the project (one generation at a time) and the owner's row (the per-user limit counts
/// running generations under that lock, so two nodes cannot both start the last allowed one).
package struct PostgresGenerations: GenerationRepository {
    package let writer: PostgresWriter
    package let database: PostgresDatabase
    /// The node whose generations these are (and which recovers them).
    package let node: PostgresNode

    package init(writer: PostgresWriter, database: PostgresDatabase, node: PostgresNode) {
        self.writer = writer
        self.database = database
        self.node = node
    }

    package func prepare(_ request: GenerationStartRequest, now: Date) async throws -> Project? {
        let stamp = Timestamps.string(now)
        let logger = database.logger
        return try await database.client.withConnection { connection in
            let project = try await PostgresProjects.load(connection, request.project, owner: request.owner, logger: logger)
            guard project.status != .generating,
                (try? await PostgresLedger.requireActive(connection, project.user, logger: logger)) != nil,
                try await Self.concurrencyRefusal(connection, user: project.user, limit: request.maxConcurrentPerUser, logger: logger)
                    == nil
            else { return nil }
            let available = try await PostgresLedger.rows(
                connection, user: project.user, lock: false, withHeld: false, logger: logger
            ).spendable(at: stamp)
            return CreditRules.allocate(request.price, from: available) != nil ? project : nil
        }
    }

    package func start(_ request: GenerationStartRequest, now: Date) async throws -> GenerationStart {
        try await writer.write { connection, logger in
            let project = try await PostgresProjects.load(connection, request.project, owner: request.owner, lock: true, logger: logger)
            if let key = request.idempotencyKey {
                guard !key.isEmpty, key.utf8.count <= 255 else {
                    throw EngineError.invalid("idempotency_key", "idempotency_key must be 1 to 255 bytes")
                }
                if let row = try await connection.first(
                    """
                    SELECT id, project_id, prompt, mode, status, requested_provider, requested_base, fresh
                    FROM generations WHERE user_id = \(project.user) AND idempotency_key = \(key)
                    """, as: (String, String, String, String, String, String?, String?, Bool).self, logger)
                {
                    guard row.1 == request.project, row.2 == request.prompt, row.3 == request.mode.rawValue,
                        row.5 == request.provider, row.6 == request.requestedBase, row.7 == request.fresh
                    else { throw EngineError.conflict("idempotency_key \(key) was already used with other parameters") }
                    if row.4 == "completed" { return .replay(try await Self.result(connection, row.0, logger: logger)) }
                    throw EngineError.conflict("a generation with idempotency_key \(key) is still running")
                }
            }
            guard project.status != .generating else {
                throw EngineError.conflict("project \(project.id) is already generating")
            }
            // The owner's row, locked: the running count below is the truth until this commits.
            _ = try await connection.first("SELECT 1 FROM users WHERE id = \(project.user) FOR UPDATE", as: Int32.self, logger)
            if let refusal = try await Self.concurrencyRefusal(
                connection, user: project.user, limit: request.maxConcurrentPerUser, logger: logger)
            {
                throw refusal
            }
            let id = request.generation
            let hold = try await PostgresLedger.hold(
                connection, user: project.user, amount: request.price, reference: id, node: node.id, now: now, logger: logger)
            let stamp = Timestamps.string(now)
            do {
                try await connection.run(
                    """
                    INSERT INTO generations(id, project_id, user_id, mode, prompt, status, idempotency_key, hold_id,
                        credits_held, started_at, requested_provider, requested_base, fresh, node)
                    VALUES (\(id), \(project.id), \(project.user), \(request.mode.rawValue), \(request.prompt), 'running',
                        \(request.idempotencyKey), \(hold.id), \(request.price), \(stamp), \(request.provider),
                        \(request.requestedBase), \(request.fresh), \(node.id))
                    """, logger)
            } catch where PostgresState.isUniqueViolation(error) && request.idempotencyKey != nil {
                // Another node started this key meanwhile: run again, and answer what it did.
                throw PostgresState.RunAgain()
            }
            try await connection.run(
                "UPDATE projects SET status = 'generating', updated_at = \(stamp) WHERE id = \(project.id)", logger)
            return .started(id: id, hold: hold, project: project)
        }
    }

    /// `RateLimited` when the user already runs `limit` generations (0: no limit).
    static func concurrencyRefusal(_ connection: PostgresConnection, user: String, limit: Int, logger: Logger) async throws
        -> EngineError?
    {
        guard limit > 0 else { return nil }
        let running =
            try await connection.first(
                "SELECT COUNT(*)::BIGINT FROM generations WHERE user_id = \(user) AND status = 'running'", as: Int.self, logger)
            ?? 0
        guard running >= limit else { return nil }
        return EngineError(
            WireError(
                .rateLimited, "user \(user) already runs \(running) generations (the limit is \(limit)); try again when one ends",
                ["reason": "concurrent_generations", "limit": .int(Int64(limit)), "retry_after_seconds": 5]))
    }

    package func complete(_ success: GenerationSuccess, now: Date) async throws -> GenerationResult {
        try await writer.write { connection, logger in
            let version = try await PostgresVersions.insert(
                connection, project: success.project, owner: nil, files: success.files,
                origin: VersionOrigin(
                    generation: success.generation, provider: success.provider, model: success.model,
                    base: success.base?.version),
                build: success.build, now: now, logger: logger)
            let hold = try await PostgresLedger.finish(
                connection, hold: success.hold, settleFor: nil, release: false, now: now, logger: logger)
            let cost = Cost.total(success.attempts.compactMap(\.cost))
            try await connection.run(
                """
                UPDATE generations SET status = 'completed', version_id = \(version.id), provider = \(success.provider),
                    model = \(success.model), credits_charged = \(hold.charged ?? 0), input_tokens = \(success.usage.inputTokens),
                    output_tokens = \(success.usage.outputTokens), cached_input_tokens = \(success.usage.cachedInputTokens ?? 0),
                    finished_at = \(Timestamps.string(now)), duration_ms = \(success.durationMs), notes = \(success.notes),
                    cost_micros = \(cost?.amountMicros), cost_currency = \(cost?.currency)
                WHERE id = \(success.generation)
                """, logger)
            try await Self.insertAttempts(connection, success.generation, success.attempts, logger: logger)
            return success.result(version: version, charged: hold.charged ?? 0, cost: cost)
        }
    }

    package func fail(_ failure: GenerationFailure, now: Date) async throws {
        try await writer.write { connection, logger in
            try await Self.finishFailed(
                connection, generation: failure.generation, status: failure.status, error: failure.error,
                message: failure.message, usage: failure.usage, attempts: failure.attempts, durationMs: failure.durationMs,
                now: now, logger: logger)
        }
    }

    /// The running generations this node may recover: its own (left by its previous process
    /// when it starts) and those of nodes whose heartbeat expired, claimed by this transaction.
    package func recoverInterrupted(now: Date) async throws -> Int {
        let node = node
        return try await writer.write { connection, logger in
            try await Self.failRunning(connection, of: try await node.recoverable(connection, logger: logger), now: now, logger: logger)
        }
    }

    /// Fails (`interrupted`) the running generations of `nodes` (and those no node owns, when
    /// `nodes` holds this node).
    @discardableResult
    static func failRunning(_ connection: PostgresConnection, of nodes: [String], now: Date, logger: Logger) async throws -> Int {
        guard !nodes.isEmpty else { return 0 }
        var ids: [String] = []
        for try await id in try await connection.query(
            "SELECT id FROM generations WHERE status = 'running' AND (node = ANY(\(nodes)) OR node IS NULL) ORDER BY id",
            logger: logger
        ).decode(String.self) {
            ids.append(id)
        }
        for id in ids {
            try await finishFailed(
                connection, generation: id, status: .failed, error: "interrupted",
                message: "the daemon stopped while this generation ran", usage: GenerationUsage(inputTokens: 0, outputTokens: 0),
                attempts: [], durationMs: nil, now: now, logger: logger)
        }
        return ids.count
    }

    package func list(project: String, owner: String?, limit: Int) async throws -> GenerationList {
        let logger = database.logger
        return try await database.client.withConnection { connection in
            _ = try await PostgresProjects.load(connection, project, owner: owner, logger: logger)
            var ids: [String] = []
            for try await id in try await connection.query(
                "SELECT id FROM generations WHERE project_id = \(project) ORDER BY started_at DESC, seq DESC NULLS LAST, id DESC LIMIT \(limit)",
                logger: logger
            ).decode(String.self) {
                ids.append(id)
            }
            var records: [GenerationRecord] = []
            for id in ids { records.append(try await Self.record(connection, id, logger: logger)) }
            return GenerationList(project: project, generations: records)
        }
    }

    package func get(_ id: String) async throws -> GenerationRecord {
        let logger = database.logger
        return try await database.client.withConnection { try await Self.record($0, id, logger: logger) }
    }

    package func editBase(project: String, owner: String?, version: String?, historyTurns: Int) async throws -> EditBase? {
        let logger = database.logger
        return try await database.client.withConnection { connection in
            let loaded = try await PostgresProjects.load(connection, project, owner: owner, logger: logger)
            if version == nil && loaded.currentVersion == nil { return nil }
            let id = try await PostgresVersions.resolve(connection, project: project, owner: owner, version: version, logger: logger)
            let files = try await PostgresVersions.files(connection, PostgresVersions.versionFilesQuery(id), logger: logger)
            let build = try await PostgresVersions.loadBuild(connection, project: project, version: id, logger: logger)
            // The ancestry, nearest first: each version's prompt (a restore has none) and base.
            var history: [String] = []
            var recentlyChanged: [String] = []
            var seen = Set<String>()
            var next: String? = id
            var depth = 0
            while let current = next, seen.insert(current).inserted, history.count < historyTurns || depth < 3 {
                guard
                    let (base, prompt) = try await connection.first(
                        """
                        SELECT v.base_version, g.prompt FROM versions v
                        LEFT JOIN generations g ON g.id = v.generation AND g.status = 'completed'
                        WHERE v.id = \(current)
                        """, as: (String?, String?).self, logger)
                else { break }
                if let prompt, history.count < historyTurns { history.append(prompt) }
                if depth < 3, let base {
                    let changes = try await PostgresVersions.changes(connection, from: base, to: current, logger: logger)
                    for path in changes.changed + changes.added where !recentlyChanged.contains(path) {
                        recentlyChanged.append(path)
                    }
                }
                depth += 1
                next = base
            }
            let number = try await connection.first("SELECT number FROM versions WHERE id = \(id)", as: Int.self, logger) ?? 0
            return EditBase(
                version: id, number: number, files: files, build: build.status, buildErrors: build.errors,
                history: history.reversed(), recentlyChanged: recentlyChanged)
        }
    }

    package func usage(user: String?, since: String?, until: String?, groupBy: String) async throws -> [UsageRow] {
        // What a generation is grouped by, and what one of its calls is (fixed text, never input).
        let (generationKey, callKey): (String, String) =
            switch groupBy {
            case "provider": ("COALESCE(g.provider, 'none')", "a.provider")
            case "model": ("COALESCE(g.model, 'none')", "a.model")
            case "user": ("g.user_id", "g.user_id")
            default: ("substr(g.started_at, 1, 10)", "substr(g.started_at, 1, 10)")
            }
        let filter = "WHERE g.started_at >= $1 AND g.started_at < $2 AND ($3::text IS NULL OR g.user_id = $3)"
        let bounds = (since ?? "", until ?? "~", user)
        let logger = database.logger
        return try await database.client.withConnection { connection in
            var rows: [String: UsageRow] = [:]
            let generations = try PostgresQuery(
                sql: """
                    SELECT \(generationKey) AS k, COUNT(*)::BIGINT, COUNT(*) FILTER (WHERE g.status = 'completed')::BIGINT,
                        COALESCE(SUM(g.credits_charged), 0)::BIGINT
                    FROM generations g \(filter) GROUP BY k
                    """, bounds.0, bounds.1, bounds.2)
            for try await (key, count, done, credits) in try await connection.query(generations, logger: logger).decode(
                (String, Int, Int, Int).self)
            {
                var entry = rows[key] ?? UsageRow(key: key)
                entry.generations = count
                entry.completed = done
                entry.creditsCharged = credits
                rows[key] = entry
            }
            let calls = try PostgresQuery(
                sql: """
                    SELECT \(callKey) AS k, COUNT(*)::BIGINT, COALESCE(SUM(a.input_tokens), 0)::BIGINT,
                        COALESCE(SUM(a.output_tokens), 0)::BIGINT, COALESCE(SUM(a.cached_input_tokens), 0)::BIGINT,
                        SUM(a.cost_micros)::BIGINT, MAX(a.cost_currency)
                    FROM generation_attempts a JOIN generations g ON g.id = a.generation_id \(filter) GROUP BY k
                    """, bounds.0, bounds.1, bounds.2)
            for try await (key, count, input, output, cached, micros, currency) in try await connection.query(calls, logger: logger)
                .decode((String, Int, Int, Int, Int, Int64?, String?).self)
            {
                var entry = rows[key] ?? UsageRow(key: key)
                entry.calls = count
                entry.inputTokens = input
                entry.outputTokens = output
                entry.cachedInputTokens = cached
                if let micros, let currency { entry.cost = Cost(amountMicros: micros, currency: currency) }
                rows[key] = entry
            }
            return rows.values.sorted { $0.key < $1.key }
        }
    }

    // MARK: Inside a transaction

    static func finishFailed(
        _ connection: PostgresConnection, generation: String, status: GenerationRecord.Status, error: String, message: String,
        usage: GenerationUsage, attempts: [GenerationAttempt], durationMs: Int?, now: Date, logger: Logger
    ) async throws {
        guard
            let (project, holdID, current, startedAt) = try await connection.first(
                "SELECT project_id, hold_id, status, started_at FROM generations WHERE id = \(generation) FOR UPDATE",
                as: (String, String?, String, String).self, logger)
        else { throw EngineError.notFound("generation", generation) }
        guard current == "running" else { return }
        if let holdID,
            try await connection.first("SELECT status FROM credit_holds WHERE id = \(holdID)", as: String.self, logger) == "held"
        {
            _ = try await PostgresLedger.finish(connection, hold: holdID, settleFor: nil, release: true, now: now, logger: logger)
        }
        let stamp = Timestamps.string(now)
        var duration = durationMs
        if duration == nil, let started = Timestamps.parse(startedAt) {
            duration = Int(now.timeIntervalSince(started) * 1000)
        }
        let cost = Cost.total(attempts.compactMap(\.cost))
        try await connection.run(
            """
            UPDATE generations SET status = \(status.rawValue), idempotency_key = NULL, error = \(error),
                error_message = \(String(message.prefix(2000))), input_tokens = \(usage.inputTokens),
                output_tokens = \(usage.outputTokens), cached_input_tokens = \(usage.cachedInputTokens ?? 0), finished_at = \(stamp),
                duration_ms = \(duration), cost_micros = \(cost?.amountMicros), cost_currency = \(cost?.currency)
            WHERE id = \(generation)
            """, logger)
        try await insertAttempts(connection, generation, attempts, logger: logger)
        // The project is `completed` if it still has a version from before, else `failed`.
        try await connection.run(
            """
            UPDATE projects SET status = CASE WHEN current_version IS NOT NULL THEN 'completed' ELSE 'failed' END,
                updated_at = \(stamp)
            WHERE id = \(project) AND status = 'generating'
            """, logger)
    }

    static func insertAttempts(
        _ connection: PostgresConnection, _ generation: String, _ attempts: [GenerationAttempt], logger: Logger
    ) async throws {
        for (seq, attempt) in attempts.enumerated() {
            try await connection.run(
                """
                INSERT INTO generation_attempts(generation_id, seq, provider, model, purpose, outcome, error, status,
                    message, duration_ms, input_tokens, output_tokens, cached_input_tokens, cost_micros, cost_currency,
                    started_at)
                VALUES (\(generation), \(seq + 1), \(attempt.provider), \(attempt.model), \(attempt.purpose), \(attempt.outcome),
                    \(attempt.error), \(attempt.status), \(attempt.message.map { String($0.prefix(2000)) }), \(attempt.durationMs),
                    \(attempt.usage?.inputTokens), \(attempt.usage?.outputTokens), \(attempt.usage.map { $0.cachedInputTokens ?? 0 }),
                    \(attempt.cost?.amountMicros), \(attempt.cost?.currency), \(attempt.startedAt))
                """, logger)
        }
    }

    static func result(_ connection: PostgresConnection, _ id: String, logger: Logger) async throws -> GenerationResult {
        guard
            let row = try await connection.first(
                """
                SELECT g.project_id, g.version_id, g.provider, g.model, g.credits_charged, g.input_tokens,
                    g.output_tokens, g.cached_input_tokens, g.duration_ms, g.notes, g.cost_micros, g.cost_currency,
                    v.number, v.base_version, b.number
                FROM generations g JOIN versions v ON v.id = g.version_id
                    LEFT JOIN versions b ON b.id = v.base_version
                WHERE g.id = \(id)
                """,
                as: (String, String, String?, String?, Int, Int, Int, Int, Int?, String?, Int64?, String?, Int, String?, Int?).self,
                logger)
        else { throw EngineError.notFound("generation", id) }
        let version = row.1
        var files: [String] = []
        for try await path in try await connection.query(
            "SELECT path FROM version_files WHERE version_id = \(version) ORDER BY path COLLATE \"C\"", logger: logger
        ).decode(String.self) {
            files.append(path)
        }
        let attempts =
            try await connection.first(
                "SELECT COUNT(*)::BIGINT FROM generation_attempts WHERE generation_id = \(id)", as: Int.self, logger) ?? 0
        var result = GenerationResult(
            generation: id, project: row.0, version: version, versionNumber: row.12, provider: row.2 ?? "", model: row.3 ?? "",
            files: files, creditsCharged: row.4,
            usage: GenerationUsage(inputTokens: row.5, outputTokens: row.6, cachedInputTokens: row.7),
            attempts: attempts, durationMs: row.8 ?? 0)
        result.notes = row.9
        if let micros = row.10, let currency = row.11 { result.cost = Cost(amountMicros: micros, currency: currency) }
        if let base = row.13 {
            result.baseVersion = base
            result.baseVersionNumber = row.14
            result.changes = try await PostgresVersions.changes(connection, from: base, to: version, logger: logger)
        }
        return result
    }

    static func record(_ connection: PostgresConnection, _ id: String, logger: Logger) async throws -> GenerationRecord {
        guard
            let row = try await connection.first(
                """
                SELECT project_id, user_id, mode, status, version_id, provider, model, credits_held, credits_charged,
                    input_tokens, output_tokens, cached_input_tokens, error, error_message, started_at, finished_at,
                    duration_ms, cost_micros, cost_currency
                FROM generations WHERE id = \(id)
                """,
                as: (
                    String, String, String, String, String?, String?, String?, Int, Int, Int, Int, Int, String?, String?, String,
                    String?, Int?, Int64?, String?
                ).self, logger)
        else { throw EngineError.notFound("generation", id) }
        var attempts: [GenerationAttempt] = []
        for try await a in try await connection.query(
            """
            SELECT provider, model, purpose, outcome, error, status, message, duration_ms, input_tokens,
                output_tokens, cached_input_tokens, cost_micros, cost_currency, started_at
            FROM generation_attempts WHERE generation_id = \(id) ORDER BY seq
            """, logger: logger
        ).decode((String, String, String, String, String?, Int?, String?, Int, Int?, Int?, Int?, Int64?, String?, String).self) {
            attempts.append(
                GenerationAttempt(
                    provider: a.0, model: a.1, purpose: a.2, outcome: a.3, error: a.4, status: a.5, message: a.6, durationMs: a.7,
                    usage: a.8.map { GenerationUsage(inputTokens: $0, outputTokens: a.9 ?? 0, cachedInputTokens: a.10) },
                    cost: a.11.flatMap { micros in a.12.map { Cost(amountMicros: micros, currency: $0) } }, startedAt: a.13))
        }
        var record = GenerationRecord(
            id: id, project: row.0, user: row.1, mode: GenerationMode(rawValue: row.2) ?? .quick,
            status: GenerationRecord.Status(rawValue: row.3) ?? .failed, version: row.4, provider: row.5, model: row.6,
            creditsHeld: row.7, creditsCharged: row.8, usage: GenerationUsage(inputTokens: row.9, outputTokens: row.10),
            error: row.12, errorMessage: row.13, attempts: attempts, startedAt: row.14, finishedAt: row.15, durationMs: row.16)
        record.usage.cachedInputTokens = row.11 == 0 ? nil : row.11
        if let micros = row.17, let currency = row.18 { record.cost = Cost(amountMicros: micros, currency: currency) }
        return record
    }
}
