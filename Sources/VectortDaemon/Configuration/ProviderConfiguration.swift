import Engine
import Foundation
import Generation
import VectortCore

/// One entry under `providers:`, before credentials are added.
struct ProviderEntry: Sendable, Equatable {
    var name: String
    var kind: ProviderKind
    var model: String
    var baseURL: String
    var timeouts = ProviderTimeouts()
    var retry = RetryPolicy()
    var breaker = BreakerPolicy()
    /// `price`: what its tokens cost; nil records no spend.
    var price: TokenPrice?

    /// Kinds that cannot work without an API key.
    var needsKey: Bool { kind == .openai || kind == .anthropic || kind == .gemini }

    /// The credential (or `VECTORTD_…` variable) holding this provider's key.
    var secretName: String { "\(name)-api-key" }
}

extension ProviderEntry {
    /// Entries that exist with no configuration at all.
    static let builtIn: [ProviderEntry] = [
        ProviderEntry(name: "openai", kind: .openai, model: "gpt-4o", baseURL: "https://api.openai.com/v1"),
        ProviderEntry(
            name: "anthropic", kind: .anthropic, model: "claude-sonnet-4-5", baseURL: "https://api.anthropic.com"),
        ProviderEntry(
            name: "gemini", kind: .gemini, model: "gemini-2.5-pro",
            baseURL: "https://generativelanguage.googleapis.com"),
        ProviderEntry(name: "template", kind: .template, model: "starter-v1", baseURL: ""),
    ]

    /// The network providers tried by default, in order, when they have a key.
    static let defaultChainOrder = ["openai", "anthropic", "gemini"]
}

extension DaemonConfiguration {
    /// The chain to run: the configured one, or the default providers that have keys, then
    /// `template`. Entries that need a key and have none are left out (and reported).
    func effectiveChain(secrets: Secrets) -> (chain: [String], missingKeys: [String]) {
        let byName = Dictionary(uniqueKeysWithValues: providers.map { ($0.name, $0) })
        let wanted = generation.chain ?? (ProviderEntry.defaultChainOrder + ["template"])
        var chain: [String] = []
        var missing: [String] = []
        for name in wanted {
            guard let entry = byName[name] else { continue }
            if entry.needsKey && secrets[entry.secretName] == nil {
                if generation.chain != nil { missing.append(name) }
                continue
            }
            if !chain.contains(name) { chain.append(name) }
        }
        return (chain, missing)
    }

    /// Credential names of every provider entry.
    var providerSecretNames: [String] { providers.map(\.secretName) }
}

extension ConfigurationLoader {
    /// Reads `providers.<name>.*` for the built-in names and every name in `generation.chain`.
    static func readProviders(_ values: Values, chain: [String]?) throws -> [ProviderEntry] {
        var names = ProviderEntry.builtIn.map(\.name)
        for name in chain ?? [] where !names.contains(name) { names.append(name) }
        let builtIn = Dictionary(uniqueKeysWithValues: ProviderEntry.builtIn.map { ($0.name, $0) })
        var entries: [ProviderEntry] = []
        for name in names {
            let prefix = "providers.\(name)"
            guard name.range(of: "^[a-z0-9][a-z0-9_-]{0,63}$", options: .regularExpression) != nil else {
                throw ConfigurationError(
                    key: "generation.chain", problem: "\"\(name)\" is not a provider name (a-z, 0-9, _ and -)")
            }
            let kindText = try values.string("\(prefix).kind")
            var entry: ProviderEntry
            if let kindText {
                guard let kind = ProviderKind(rawValue: kindText) else {
                    throw ConfigurationError(
                        key: "\(prefix).kind",
                        problem: "\"\(kindText)\" is not one of \(ProviderKind.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                let defaults = ProviderEntry.builtIn.first { $0.kind == kind }
                entry = ProviderEntry(
                    name: name, kind: kind, model: builtIn[name]?.kind == kind ? builtIn[name]!.model : defaults?.model ?? "",
                    baseURL: kind == .openaiCompatible ? "" : defaults?.baseURL ?? "")
            } else if let known = builtIn[name] {
                entry = known
            } else {
                throw ConfigurationError(
                    key: "\(prefix).kind", problem: "provider \(name) is in generation.chain but has no kind")
            }
            if let model = try values.string("\(prefix).model") { entry.model = model }
            if let base = try values.string("\(prefix).base_url") { entry.baseURL = base }
            if entry.kind != .template {
                if entry.model.isEmpty {
                    throw ConfigurationError(key: "\(prefix).model", problem: "provider \(name) (\(entry.kind.rawValue)) needs a model")
                }
                guard let url = URL(string: entry.baseURL), url.scheme == "https" || url.scheme == "http", url.host != nil
                else {
                    throw ConfigurationError(
                        key: "\(prefix).base_url", problem: "\"\(entry.baseURL)\" is not an http(s) URL")
                }
                while entry.baseURL.hasSuffix("/") { entry.baseURL.removeLast() }
            }
            entry.timeouts = try readTimeouts(values, prefix: "\(prefix).timeouts", entry.timeouts)
            entry.retry = try readRetry(values, prefix: "\(prefix).retries", entry.retry)
            entry.breaker = try readBreaker(values, prefix: "\(prefix).breaker", entry.breaker)
            entry.price = try readPrice(values, prefix: "\(prefix).price")
            entries.append(entry)
        }
        // Spend adds up across providers only in one currency.
        let currencies = Set(entries.compactMap { $0.price?.currency })
        if currencies.count > 1, let first = entries.compactMap(\.price).first,
            let odd = entries.first(where: { $0.price.map { $0.currency != first.currency } ?? false })
        {
            throw ConfigurationError(
                key: "providers.\(odd.name).price",
                problem: "every provider price must be in one currency (found \(currencies.sorted().joined(separator: ", ")))")
        }
        return entries
    }

    /// `price: {input_per_mtok, output_per_mtok, cached_input_per_mtok?}`, each
    /// `{amount_minor, currency}`: minor units (cents) per million tokens, one currency.
    private static func readPrice(_ values: Values, prefix: String) throws -> TokenPrice? {
        func money(_ name: String) throws -> (amount: Int, currency: String)? {
            let key = "\(prefix).\(name)"
            let amount = try values.int("\(key).amount_minor", in: 0...100_000_000)
            let currency = try values.string("\(key).currency")
            guard amount != nil || currency != nil else { return nil }
            guard let amount else { throw ConfigurationError(key: "\(key).amount_minor", problem: "is required with currency") }
            guard let currency, currency.count == 3, currency.allSatisfy({ $0.isASCII && $0.isLetter }) else {
                throw ConfigurationError(key: "\(key).currency", problem: "must be a three-letter ISO 4217 code such as usd")
            }
            return (amount, currency.lowercased())
        }
        let input = try money("input_per_mtok")
        let output = try money("output_per_mtok")
        let cached = try money("cached_input_per_mtok")
        guard input != nil || output != nil || cached != nil else { return nil }
        guard let input else { throw ConfigurationError(key: "\(prefix).input_per_mtok", problem: "is required in a price") }
        guard let output else { throw ConfigurationError(key: "\(prefix).output_per_mtok", problem: "is required in a price") }
        for (name, part) in [("output_per_mtok", output), ("cached_input_per_mtok", cached)] {
            if let part, part.currency != input.currency {
                throw ConfigurationError(key: "\(prefix).\(name).currency", problem: "must be \(input.currency), like input_per_mtok")
            }
        }
        return TokenPrice(
            currency: input.currency, inputPerMTok: input.amount, outputPerMTok: output.amount,
            cachedInputPerMTok: cached?.amount)
    }

    private static func duration(_ values: Values, _ key: String, in range: ClosedRange<Double>) throws -> Duration? {
        try values.double(key, in: range).map { .milliseconds(Int64(($0 * 1000).rounded())) }
    }

    private static func readTimeouts(_ values: Values, prefix: String, _ base: ProviderTimeouts) throws -> ProviderTimeouts {
        var t = base
        t.connect = try duration(values, "\(prefix).connect_seconds", in: 0.05...600) ?? t.connect
        t.firstToken = try duration(values, "\(prefix).first_token_seconds", in: 0.05...3600) ?? t.firstToken
        t.idle = try duration(values, "\(prefix).idle_seconds", in: 0.05...3600) ?? t.idle
        t.total = try duration(values, "\(prefix).total_seconds", in: 0.1...7200) ?? t.total
        return t
    }

    private static func readRetry(_ values: Values, prefix: String, _ base: RetryPolicy) throws -> RetryPolicy {
        var r = base
        r.maxRetries = try values.int("\(prefix).max", in: 0...20) ?? r.maxRetries
        r.base = try duration(values, "\(prefix).base_seconds", in: 0...600) ?? r.base
        r.cap = try duration(values, "\(prefix).cap_seconds", in: 0...3600) ?? r.cap
        if r.cap < r.base {
            throw ConfigurationError(key: "\(prefix).cap_seconds", problem: "must not be less than base_seconds")
        }
        return r
    }

    private static func readBreaker(_ values: Values, prefix: String, _ base: BreakerPolicy) throws -> BreakerPolicy {
        var b = base
        b.failures = try values.int("\(prefix).failures", in: 1...10_000) ?? b.failures
        b.window = try duration(values, "\(prefix).window_seconds", in: 1...86_400) ?? b.window
        b.failureRate = try values.double("\(prefix).failure_rate", in: 0.01...1) ?? b.failureRate
        b.minimumCalls = try values.int("\(prefix).minimum_calls", in: 1...100_000) ?? b.minimumCalls
        b.cooldown = try duration(values, "\(prefix).cooldown_seconds", in: 0.01...86_400) ?? b.cooldown
        b.maxCooldown = try duration(values, "\(prefix).max_cooldown_seconds", in: 0.01...604_800) ?? b.maxCooldown
        b.probes = try values.int("\(prefix).probes", in: 1...1000) ?? b.probes
        if b.maxCooldown < b.cooldown {
            throw ConfigurationError(key: "\(prefix).max_cooldown_seconds", problem: "must not be less than cooldown_seconds")
        }
        return b
    }
}

extension ProviderEntry {
    /// Report lines for `--check-config` and reload change detection.
    func flattened() -> [(key: String, value: String)] {
        func s(_ d: Duration) -> String {
            DaemonConfiguration.secondsText(Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18)
        }
        let p = "providers.\(name)"
        var lines: [(String, String)] = [("\(p).kind", kind.rawValue)]
        if kind == .template {
            if let price { lines.append(("\(p).price.input_per_mtok", "\(price.inputPerMTok) \(price.currency) minor")) }
            return lines
        }
        lines += [
            ("\(p).model", model), ("\(p).base_url", baseURL),
            ("\(p).timeouts.connect_seconds", s(timeouts.connect)),
            ("\(p).timeouts.first_token_seconds", s(timeouts.firstToken)),
            ("\(p).timeouts.idle_seconds", s(timeouts.idle)), ("\(p).timeouts.total_seconds", s(timeouts.total)),
            ("\(p).retries.max", String(retry.maxRetries)), ("\(p).retries.base_seconds", s(retry.base)),
            ("\(p).retries.cap_seconds", s(retry.cap)),
            ("\(p).breaker.failures", String(breaker.failures)), ("\(p).breaker.window_seconds", s(breaker.window)),
            ("\(p).breaker.failure_rate", String(breaker.failureRate)),
            ("\(p).breaker.minimum_calls", String(breaker.minimumCalls)),
            ("\(p).breaker.cooldown_seconds", s(breaker.cooldown)),
            ("\(p).breaker.max_cooldown_seconds", s(breaker.maxCooldown)),
            ("\(p).breaker.probes", String(breaker.probes)),
        ]
        if let price {
            lines += [
                ("\(p).price.input_per_mtok", "\(price.inputPerMTok) \(price.currency) minor"),
                ("\(p).price.output_per_mtok", "\(price.outputPerMTok) \(price.currency) minor"),
                ("\(p).price.cached_input_per_mtok", price.cachedInputPerMTok.map { "\($0) \(price.currency) minor" } ?? "(input price)"),
            ]
        }
        return lines
    }
}
