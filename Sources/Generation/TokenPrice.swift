public import Protocol

/// What a provider's tokens cost: prices per million tokens in the currency's minor units
/// (`providers.<name>.price`). Costs are integers in millionths of the currency's unit
/// (`amount_micros`): a generation costs a fraction of a cent, and no floating point touches money.
public struct TokenPrice: Sendable, Equatable {
    /// ISO 4217, lower case, as Stripe writes it.
    public var currency: String
    public var inputPerMTok: Int
    public var outputPerMTok: Int
    /// Input tokens read from the provider's prompt cache; nil: priced as other input.
    public var cachedInputPerMTok: Int?

    public init(currency: String, inputPerMTok: Int, outputPerMTok: Int, cachedInputPerMTok: Int? = nil) {
        self.currency = currency.lowercased()
        self.inputPerMTok = inputPerMTok
        self.outputPerMTok = outputPerMTok
        self.cachedInputPerMTok = cachedInputPerMTok
    }

    /// Minor units per unit: 10 to this power (2 for usd and eur, 0 for jpy, 3 for kwd).
    public static func exponent(of currency: String) -> Int {
        switch currency.lowercased() {
        case "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf":
            0
        case "bhd", "iqd", "jod", "kwd", "lyd", "omr", "tnd":
            3
        default:
            2
        }
    }

    /// The cost of one call's usage, rounded half up to a whole micro-unit.
    public func cost(of usage: TokenUsage) -> Cost {
        let cached = min(max(usage.cachedInputTokens, 0), usage.inputTokens)
        // Token counts times prices per million tokens, in minor units × 10⁶.
        let scaled =
            Int64(usage.inputTokens - cached) * Int64(inputPerMTok) + Int64(cached) * Int64(cachedInputPerMTok ?? inputPerMTok)
            + Int64(usage.outputTokens) * Int64(outputPerMTok)
        var toMicros: Int64 = 1
        for _ in 0..<(6 - Self.exponent(of: currency)) { toMicros *= 10 }
        return Cost(amountMicros: (scaled * toMicros + 500_000) / 1_000_000, currency: currency)
    }
}
