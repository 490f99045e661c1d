import Foundation
import GRDB
import Protocol
import VectortCore

/// Generation records and their attempts in SQLite. The start, the success and the failure are
/// each one transaction through the ledger writer, with the hold, the version and the record.
struct SQLiteGenerations: GenerationRepository {
    let writer: LedgerWriter
    let pool: DatabasePool

    func prepare(_ request: GenerationStartRequest, now: Date) async throws -> Project? {
        let stamp = Timestamps.string(now)
        return try await pool.read { db in
            let project = try SQLiteProjects.load(db, request.project, owner: request.owner)
            guard project.status != .generating, (try? SQLiteUsers.requireActive(db, project.user)) != nil,
                try Self.concurrencyRefusal(db, user: project.user, limit: request.maxConcurrentPerUser) == nil
            else { return nil }
            let available = try BalanceRows.load(db, user: project.user, withHeld: false).spendable(at: stamp)
            return CreditRules.allocate(request.price, from: available) != nil ? project : nil
        }
    }

    func start(_ request: GenerationStartRequest, now: Date) async throws -> GenerationStart {
        try await writer.write { db in
            let project = try SQLiteProjects.load(db, request.project, owner: request.owner)
            if let key = request.idempotencyKey {
                guard !key.isEmpty, key.utf8.count <= 255 else {
                    throw EngineError.invalid("idempotency_key", "idempotency_key must be 1 to 255 bytes")
                }
                if let row = try Row.fetchOne(
                    db.cachedStatement(sql: "SELECT id, project_id, prompt, mode, status, requested_provider, requested_base, fresh FROM generations WHERE user_id = ? AND idempotency_key = ?"),
                    arguments: [project.user, key])
                {
                    guard row["project_id"] == request.project, row["prompt"] == request.prompt,
                        row["mode"] == request.mode.rawValue, (row["requested_provider"] as String?) == request.provider,
                        (row["requested_base"] as String?) == request.requestedBase, (row["fresh"] as Bool) == request.fresh
                    else { throw EngineError.conflict("idempotency_key \(key) was already used with other parameters") }
                    if row["status"] == "completed" { return .replay(try Self.result(db, row["id"])) }
                    throw EngineError.conflict("a generation with idempotency_key \(key) is still running")
                }
            }
            guard project.status != .generating else {
                throw EngineError.conflict("project \(project.id) is already generating")
            }
            if let refusal = try Self.concurrencyRefusal(db, user: project.user, limit: request.maxConcurrentPerUser) {
                throw refusal
            }
            let id = request.generation
            let hold = try SQLiteLedger.hold(db, user: project.user, amount: request.price, reference: id, now: now)
            let stamp = Timestamps.string(now)
            try db.cachedStatement(sql: """
                    INSERT INTO generations(id, project_id, user_id, mode, prompt, status, idempotency_key, hold_id,
                        credits_held, started_at, requested_provider, requested_base, fresh)
                    VALUES (?, ?, ?, ?, ?, 'running', ?, ?, ?, ?, ?, ?, ?)
                    """).execute(arguments: [
                    id, project.id, project.user, request.mode.rawValue, request.prompt, request.idempotencyKey,
                    hold.id, request.price, stamp, request.provider, request.requestedBase, request.fresh,
                ])
            try db.cachedStatement(sql: "UPDATE projects SET status = 'generating', updated_at = ? WHERE id = ?").execute(arguments: [stamp, project.id])
            return .started(id: id, hold: hold, project: project)
        }
    }

    /// `RateLimited` when the user already runs `limit` generations (0: no limit).
    static func concurrencyRefusal(_ db: GRDB.Database, user: String, limit: Int) throws -> EngineError? {
        guard limit > 0 else { return nil }
        let running = try Int.fetchOne(
            db.cachedStatement(sql: "SELECT COUNT(*) FROM generations WHERE user_id = ? AND status = 'running'"), arguments: [user]) ?? 0
        guard running >= limit else { return nil }
        return EngineError(
            WireError(
                .rateLimited, "user \(user) already runs \(running) generations (the limit is \(limit)); try again when one ends",
                ["reason": "concurrent_generations", "limit": .int(Int64(limit)), "retry_after_seconds": 5]))
    }

    func complete(_ success: GenerationSuccess, now: Date) async throws -> GenerationResult {
        try await writer.write { db in
            let version = try SQLiteVersions.insert(
                db, project: success.project, owner: nil, files: success.files,
                origin: VersionOrigin(
                    generation: success.generation, provider: success.provider, model: success.model,
                    base: success.base?.version),
                build: success.build, now: now)
            let hold = try SQLiteLedger.finish(db, hold: success.hold, settleFor: nil, now: now)
            let cost = Cost.total(success.attempts.compactMap(\.cost))
            try db.cachedStatement(sql: """
                    UPDATE generations SET status = 'completed', version_id = ?, provider = ?, model = ?,
                        credits_charged = ?, input_tokens = ?, output_tokens = ?, cached_input_tokens = ?, finished_at = ?,
                        duration_ms = ?, notes = ?, cost_micros = ?, cost_currency = ?
                    WHERE id = ?
                    """).execute(arguments: [
                    version.id, success.provider, success.model, hold.charged ?? 0, success.usage.inputTokens,
                    success.usage.outputTokens, success.usage.cachedInputTokens ?? 0, Timestamps.string(now),
                    success.durationMs, success.notes, cost?.amountMicros, cost?.currency, success.generation,
                ])
            try Self.insertAttempts(db, success.generation, success.attempts)
            return success.result(version: version, charged: hold.charged ?? 0, cost: cost)
        }
    }

    func fail(_ failure: GenerationFailure, now: Date) async throws {
        try await writer.write { db in
            try Self.finishFailed(
                db, generation: failure.generation, status: failure.status, error: failure.error,
                message: failure.message, usage: failure.usage, attempts: failure.attempts,
                durationMs: failure.durationMs, now: now)
        }
    }

    func recoverInterrupted(now: Date) async throws -> Int {
        try await writer.write { db in
            let ids = try String.fetchAll(db, sql: "SELECT id FROM generations WHERE status = 'running'")
            for id in ids {
                try Self.finishFailed(
                    db, generation: id, status: .failed, error: "interrupted",
                    message: "the daemon stopped while this generation ran", usage: GenerationUsage(inputTokens: 0, outputTokens: 0),
                    attempts: [], durationMs: nil, now: now)
            }
            return ids.count
        }
    }

    func list(project: String, owner: String?, limit: Int) async throws -> GenerationList {
        try await pool.read { db in
            _ = try SQLiteProjects.load(db, project, owner: owner)
            let ids = try String.fetchAll(
                db.cachedStatement(sql: "SELECT id FROM generations WHERE project_id = ? ORDER BY started_at DESC, rowid DESC LIMIT ?"),
                arguments: [project, limit])
            return GenerationList(project: project, generations: try ids.map { try Self.record(db, $0) })
        }
    }

    func get(_ id: String) async throws -> GenerationRecord {
        try await pool.read { db in try Self.record(db, id) }
    }

    func editBase(project: String, owner: String?, version: String?, historyTurns: Int) async throws -> EditBase? {
        try await pool.read { db in
            let loaded = try SQLiteProjects.load(db, project, owner: owner)
            if version == nil && loaded.currentVersion == nil { return nil }
            let id = try SQLiteVersions.resolve(db, project: project, owner: owner, version: version)
            let files = try Row.fetchAll(
                db.cachedStatement(sql: "SELECT f.path, b.data FROM version_files f JOIN blobs b ON b.hash = f.hash WHERE f.version_id = ? ORDER BY f.path"),
                arguments: [id]
            ).map { ProjectFile(path: $0[0], bytes: $0[1] as Data) }
            let build = try SQLiteVersions.loadBuild(db, project: project, version: id)
            // The ancestry, nearest first: each version's prompt (a restore has none) and base.
            var history: [String] = []
            var recentlyChanged: [String] = []
            var seen = Set<String>()
            var next: String? = id
            var depth = 0
            while let current = next, seen.insert(current).inserted, history.count < historyTurns || depth < 3 {
                guard
                    let row = try Row.fetchOne(
                        db.cachedStatement(sql: """
                            SELECT v.base_version, g.prompt FROM versions v
                            LEFT JOIN generations g ON g.id = v.generation AND g.status = 'completed'
                            WHERE v.id = ?
                            """), arguments: [current])
                else { break }
                if let prompt: String = row["prompt"], history.count < historyTurns { history.append(prompt) }
                let base: String? = row["base_version"]
                if depth < 3, let base {
                    let changes = try SQLiteVersions.changes(db, from: base, to: current)
                    for path in changes.changed + changes.added where !recentlyChanged.contains(path) {
                        recentlyChanged.append(path)
                    }
                }
                depth += 1
                next = base
            }
            let number = try Int.fetchOne(db.cachedStatement(sql: "SELECT number FROM versions WHERE id = ?"), arguments: [id]) ?? 0
            return EditBase(
                version: id, number: number, files: files, build: build.status, buildErrors: build.errors,
                history: history.reversed(), recentlyChanged: recentlyChanged)
        }
    }

    func usage(user: String?, since: String?, until: String?, groupBy: String) async throws -> [UsageRow] {
        // What a generation is grouped by, and what one of its calls is.
        let (generationKey, callKey): (String, String) =
            switch groupBy {
            case "provider": ("COALESCE(g.provider, 'none')", "a.provider")
            case "model": ("COALESCE(g.model, 'none')", "a.model")
            case "user": ("g.user_id", "g.user_id")
            default: ("substr(g.started_at, 1, 10)", "substr(g.started_at, 1, 10)")
            }
        let filter = "WHERE g.started_at >= ? AND g.started_at < ?" + (user == nil ? "" : " AND g.user_id = ?")
        let values: [String] = [since ?? "", until ?? "~"] + (user.map { [$0] } ?? [])
        return try await pool.read { db in
            let arguments = StatementArguments(values)
            var rows: [String: UsageRow] = [:]
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT \(generationKey) AS k, COUNT(*) AS n, SUM(g.status = 'completed') AS done,
                        SUM(g.credits_charged) AS credits
                    FROM generations g \(filter) GROUP BY k
                    """, arguments: arguments)
            {
                let key: String = row["k"]
                rows[key, default: UsageRow(key: key)].generations = row["n"]
                rows[key, default: UsageRow(key: key)].completed = row["done"]
                rows[key, default: UsageRow(key: key)].creditsCharged = row["credits"]
            }
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT \(callKey) AS k, COUNT(*) AS calls, TOTAL(a.input_tokens) AS input,
                        TOTAL(a.output_tokens) AS output, TOTAL(a.cached_input_tokens) AS cached,
                        SUM(a.cost_micros) AS micros, MAX(a.cost_currency) AS currency
                    FROM generation_attempts a JOIN generations g ON g.id = a.generation_id \(filter) GROUP BY k
                    """, arguments: arguments)
            {
                let key: String = row["k"]
                var entry = rows[key] ?? UsageRow(key: key)
                entry.calls = row["calls"]
                entry.inputTokens = Int(row["input"] as Double)
                entry.outputTokens = Int(row["output"] as Double)
                entry.cachedInputTokens = Int(row["cached"] as Double)
                if let micros: Int64 = row["micros"], let currency: String = row["currency"] {
                    entry.cost = Cost(amountMicros: micros, currency: currency)
                }
                rows[key] = entry
            }
            return rows.values.sorted { $0.key < $1.key }
        }
    }

    // MARK: Inside a transaction

    static func finishFailed(
        _ db: GRDB.Database, generation: String, status: GenerationRecord.Status, error: String, message: String,
        usage: GenerationUsage, attempts: [GenerationAttempt], durationMs: Int?, now: Date
    ) throws {
        guard
            let row = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT project_id, hold_id, status, started_at FROM generations WHERE id = ?"),
                arguments: [generation])
        else { throw EngineError.notFound("generation", generation) }
        guard row["status"] == "running" else { return }
        if let hold: String = row["hold_id"] {
            let state = try SQLiteLedger.loadHold(db, hold)
            if state.status == .held { _ = try SQLiteLedger.finish(db, hold: hold, settleFor: nil, release: true, now: now) }
        }
        let stamp = Timestamps.string(now)
        var duration = durationMs
        if duration == nil, let started = Timestamps.parse(row["started_at"]) {
            duration = Int(now.timeIntervalSince(started) * 1000)
        }
        let cost = Cost.total(attempts.compactMap(\.cost))
        try db.cachedStatement(sql: """
                UPDATE generations SET status = ?, idempotency_key = NULL, error = ?, error_message = ?,
                    input_tokens = ?, output_tokens = ?, cached_input_tokens = ?, finished_at = ?, duration_ms = ?,
                    cost_micros = ?, cost_currency = ?
                WHERE id = ?
                """).execute(arguments: [
                status.rawValue, error, String(message.prefix(2000)), usage.inputTokens, usage.outputTokens,
                usage.cachedInputTokens ?? 0, stamp, duration, cost?.amountMicros, cost?.currency, generation,
            ])
        try insertAttempts(db, generation, attempts)
        // The project is `completed` if it still has a version from before, else `failed`.
        let hasVersion = try Bool.fetchOne(
            db.cachedStatement(sql: "SELECT current_version IS NOT NULL FROM projects WHERE id = ?"), arguments: [row["project_id"] as String]) ?? false
        let restored = hasVersion ? "completed" : "failed"
        try db.cachedStatement(sql: "UPDATE projects SET status = ?, updated_at = ? WHERE id = ? AND status = 'generating'").execute(arguments: [restored, stamp, row["project_id"] as String])
    }

    static func insertAttempts(_ db: GRDB.Database, _ generation: String, _ attempts: [GenerationAttempt]) throws {
        let insert = try db.cachedStatement(sql: """
                INSERT INTO generation_attempts(generation_id, seq, provider, model, purpose, outcome, error, status,
                    message, duration_ms, input_tokens, output_tokens, cached_input_tokens, cost_micros, cost_currency,
                    started_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
        for (seq, attempt) in attempts.enumerated() {
            try insert.execute(arguments: [
                generation, seq + 1, attempt.provider, attempt.model, attempt.purpose, attempt.outcome, attempt.error,
                attempt.status, attempt.message.map { String($0.prefix(2000)) }, attempt.durationMs,
                attempt.usage?.inputTokens, attempt.usage?.outputTokens,
                attempt.usage.map { $0.cachedInputTokens ?? 0 }, attempt.cost?.amountMicros, attempt.cost?.currency,
                attempt.startedAt,
            ])
        }
    }

    static func result(_ db: GRDB.Database, _ id: String) throws -> GenerationResult {
        guard
            let row = try Row.fetchOne(
                db.cachedStatement(sql: """
                    SELECT g.project_id, g.version_id, g.provider, g.model, g.credits_charged, g.input_tokens,
                        g.output_tokens, g.cached_input_tokens, g.duration_ms, g.notes, g.cost_micros, g.cost_currency,
                        v.number, v.base_version, b.number AS base_number
                    FROM generations g JOIN versions v ON v.id = g.version_id
                        LEFT JOIN versions b ON b.id = v.base_version
                    WHERE g.id = ?
                    """), arguments: [id])
        else { throw EngineError.notFound("generation", id) }
        let version: String = row["version_id"]
        let files = try String.fetchAll(
            db.cachedStatement(sql: "SELECT path FROM version_files WHERE version_id = ? ORDER BY path"), arguments: [version])
        let attempts = try Int.fetchOne(
            db.cachedStatement(sql: "SELECT COUNT(*) FROM generation_attempts WHERE generation_id = ?"), arguments: [id]) ?? 0
        var result = GenerationResult(
            generation: id, project: row["project_id"], version: version, versionNumber: row["number"],
            provider: row["provider"] ?? "", model: row["model"] ?? "", files: files, creditsCharged: row["credits_charged"],
            usage: GenerationUsage(
                inputTokens: row["input_tokens"], outputTokens: row["output_tokens"], cachedInputTokens: row["cached_input_tokens"]),
            attempts: attempts, durationMs: row["duration_ms"] ?? 0)
        result.notes = row["notes"]
        result.cost = Self.cost(row)
        if let base: String = row["base_version"] {
            result.baseVersion = base
            result.baseVersionNumber = row["base_number"]
            result.changes = try SQLiteVersions.changes(db, from: base, to: version)
        }
        return result
    }

    static func record(_ db: GRDB.Database, _ id: String) throws -> GenerationRecord {
        guard
            let row = try Row.fetchOne(
                db.cachedStatement(sql: """
                    SELECT project_id, user_id, mode, status, version_id, provider, model, credits_held, credits_charged,
                        input_tokens, output_tokens, cached_input_tokens, error, error_message, started_at, finished_at,
                        duration_ms, cost_micros, cost_currency
                    FROM generations WHERE id = ?
                    """), arguments: [id])
        else { throw EngineError.notFound("generation", id) }
        let attempts = try Row.fetchAll(
            db.cachedStatement(sql: """
                SELECT provider, model, purpose, outcome, error, status, message, duration_ms, input_tokens,
                    output_tokens, cached_input_tokens, cost_micros, cost_currency, started_at
                FROM generation_attempts WHERE generation_id = ? ORDER BY seq
                """), arguments: [id]
        ).map { a in
            let input: Int? = a["input_tokens"]
            let output: Int? = a["output_tokens"]
            return GenerationAttempt(
                provider: a["provider"], model: a["model"], purpose: a["purpose"], outcome: a["outcome"],
                error: a["error"], status: a["status"], message: a["message"], durationMs: a["duration_ms"],
                usage: input.map { GenerationUsage(inputTokens: $0, outputTokens: output ?? 0, cachedInputTokens: a["cached_input_tokens"]) },
                cost: Self.cost(a), startedAt: a["started_at"])
        }
        var record = GenerationRecord(
            id: id, project: row["project_id"], user: row["user_id"],
            mode: GenerationMode(rawValue: row["mode"]) ?? .quick,
            status: GenerationRecord.Status(rawValue: row["status"]) ?? .failed, version: row["version_id"],
            provider: row["provider"], model: row["model"], creditsHeld: row["credits_held"],
            creditsCharged: row["credits_charged"],
            usage: GenerationUsage(inputTokens: row["input_tokens"], outputTokens: row["output_tokens"]),
            error: row["error"], errorMessage: row["error_message"], attempts: attempts, startedAt: row["started_at"],
            finishedAt: row["finished_at"], durationMs: row["duration_ms"])
        record.usage.cachedInputTokens = row["cached_input_tokens"] == 0 ? nil : row["cached_input_tokens"]
        record.cost = cost(row)
        return record
    }

    /// The `cost_micros` and `cost_currency` columns of a row, when set.
    static func cost(_ row: Row) -> Cost? {
        guard let micros: Int64 = row["cost_micros"], let currency: String = row["cost_currency"] else { return nil }
        return Cost(amountMicros: micros, currency: currency)
    }
}
