package import Foundation
public import Protocol
import VectortCore
package import Storage

/// Generation records. Each step that touches credits is one transaction of the storage's
/// `GenerationRepository`: the start (record + hold), the success (version + settle + record)
/// and the failure (release + record), so a crash can never leave a charge without its version
/// or a version without its charge.
public struct GenerationStore: Sendable {
    package let repository: any GenerationRepository
    let now: @Sendable () -> Date

    package init(repository: any GenerationRepository, now: @escaping @Sendable () -> Date = { Date() }) {
        self.repository = repository
        self.now = now
    }

    typealias Start = GenerationStart
    typealias StartRequest = GenerationStartRequest
    typealias Success = GenerationSuccess

    /// The project, when a provider call may begin beside the start transaction: the project is
    /// the caller's and not generating, its owner is active and has the credits. Nil means the
    /// start must come first, and its transaction says why it cannot (or the balance changed).
    /// A project the caller cannot see fails here as it would in the start.
    func prepare(_ request: StartRequest) async throws -> Project? {
        try await repository.prepare(request, now: now())
    }

    /// Records a running generation and holds its price, or replays a completed one.
    func start(_ request: StartRequest) async throws -> Start {
        try await repository.start(request, now: now())
    }

    /// Stores the version, settles the hold and completes the record, in one transaction.
    func complete(_ success: Success) async throws -> GenerationResult {
        try await repository.complete(success, now: now())
    }

    /// Releases the hold and records why the generation ended without a version. The
    /// idempotency key is freed: a failed generation had no effect, so trying again is allowed.
    func fail(
        generation: String, status: GenerationRecord.Status, error: String, message: String,
        usage: GenerationUsage, attempts: [GenerationAttempt], durationMs: Int
    ) async throws {
        try await repository.fail(
            GenerationFailure(
                generation: generation, status: status, error: error, message: message, usage: usage,
                attempts: attempts, durationMs: durationMs),
            now: now())
    }

    /// Generations left running by a crash: their holds are released and they are recorded as
    /// failed (`interrupted`). Run at start, before the control socket accepts calls.
    @discardableResult
    public func recoverInterrupted() async throws -> Int {
        try await repository.recoverInterrupted(now: now())
    }

    /// A project's generations, newest first.
    public func list(project: String, owner: String?, limit: Int = 20) async throws -> GenerationList {
        guard (1...200).contains(limit) else { throw EngineError.invalid("limit", "limit must be 1 to 200") }
        return try await repository.list(project: project, owner: owner, limit: limit)
    }

    /// What an edit of `version` (nil: the current one) starts from; nil when the project has
    /// no version yet and none was named.
    func editBase(project: String, owner: String?, version: String?, historyTurns: Int) async throws -> EditBase? {
        try await repository.editBase(project: project, owner: owner, version: version, historyTurns: historyTurns)
    }

    /// `Usage.Summary`: generations started in `[since, until)`, of `user` when given, grouped
    /// by provider, model, user or day, with a total row.
    public func usage(user: String?, since: String?, until: String?, groupBy: String) async throws -> UsageSummary {
        guard ["provider", "model", "user", "day"].contains(groupBy) else {
            throw EngineError.invalid("group_by", "group_by must be provider, model, user or day, not \"\(groupBy)\"")
        }
        func bound(_ name: String, _ text: String?) throws -> String? {
            guard let text else { return nil }
            guard let date = Timestamps.parse(text) else {
                throw EngineError.invalid(name, "\(name) must be an RFC 3339 time such as 2026-12-01T00:00:00Z")
            }
            return Timestamps.string(date)
        }
        let from = try bound("since", since)
        let to = try bound("until", until)
        if let from, let to, from >= to { throw EngineError.invalid("until", "until must be after since") }
        try EngineError.refuseNUL(["user": user])
        let rows = try await repository.usage(user: user, since: from, until: to, groupBy: groupBy)
        var total = UsageRow(key: "total")
        for row in rows {
            total.generations += row.generations
            total.completed += row.completed
            total.creditsCharged += row.creditsCharged
            total.calls += row.calls
            total.inputTokens += row.inputTokens
            total.outputTokens += row.outputTokens
            total.cachedInputTokens += row.cachedInputTokens
        }
        total.cost = Cost.total(rows.compactMap(\.cost))
        return UsageSummary(groupBy: groupBy, user: user, since: from, until: to, rows: rows, total: total)
    }

    /// One generation record.
    public func get(_ id: String) async throws -> GenerationRecord {
        try await repository.get(id)
    }
}
