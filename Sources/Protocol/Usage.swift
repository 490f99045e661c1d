/// `io.vectort.Usage.Summary`: spend, tokens, generations and credits charged over a time range,
/// grouped, so the margin between credits sold and provider spend is one call.
public struct UsageSummary: Sendable, Codable, Hashable {
    /// `provider`, `model`, `user` or `day`.
    public var groupBy: String
    public var user: String?
    public var since: String?
    public var until: String?
    public var rows: [UsageRow]
    public var total: UsageRow

    public init(groupBy: String, user: String?, since: String?, until: String?, rows: [UsageRow], total: UsageRow) {
        self.groupBy = groupBy
        self.user = user
        self.since = since
        self.until = until
        self.rows = rows
        self.total = total
    }

    enum CodingKeys: String, CodingKey {
        case user, since, until, rows, total
        case groupBy = "group_by"
    }
}

/// One group. Generations and credits count by the generation (its answering provider and
/// model, `none` when no provider answered); calls, tokens and cost by each provider call.
public struct UsageRow: Sendable, Codable, Hashable {
    /// The group's value: a provider or model name, a user id, or a day (`YYYY-MM-DD`, UTC);
    /// `total` in the total row.
    public var key: String
    public var generations: Int
    public var completed: Int
    public var creditsCharged: Int
    /// Provider calls.
    public var calls: Int
    public var inputTokens: Int
    public var outputTokens: Int
    public var cachedInputTokens: Int
    /// Absent when no call in the group had a price.
    public var cost: Cost?

    public init(
        key: String, generations: Int = 0, completed: Int = 0, creditsCharged: Int = 0, calls: Int = 0, inputTokens: Int = 0,
        outputTokens: Int = 0, cachedInputTokens: Int = 0, cost: Cost? = nil
    ) {
        self.key = key
        self.generations = generations
        self.completed = completed
        self.creditsCharged = creditsCharged
        self.calls = calls
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.cachedInputTokens = cachedInputTokens
        self.cost = cost
    }

    enum CodingKeys: String, CodingKey {
        case key, generations, completed, calls, cost
        case creditsCharged = "credits_charged"
        case inputTokens = "input_tokens"
        case outputTokens = "output_tokens"
        case cachedInputTokens = "cached_input_tokens"
    }
}
