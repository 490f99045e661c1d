import ArgumentParser
import Foundation
import Protocol

/// `vectortctl stats`: the figures `/metrics` exports, read over the socket.
struct Stats: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the daemon's metrics (what /metrics exports) as a table (admin).",
        discussion: """
            One line per sample: the metric, its labels and its value. Histograms show their count and sum \
            (buckets with --buckets). The figures are this daemon's (one node), counted since it started.

            Examples: `vectortctl stats`, `vectortctl stats --filter generations`, `vectortctl stats --json`.
            """)

    @OptionGroup var global: GlobalOptions

    @Option(name: .long, help: "Only metrics whose name contains this text.")
    var filter: String?

    @Flag(name: .long, help: "Show histogram buckets too.")
    var buckets = false

    struct Result: CommandResult {
        var stats: ServiceStats
        var buckets: Bool

        func encode(to encoder: any Encoder) throws { try stats.encode(to: encoder) }

        var text: String {
            var rows: [[String]] = []
            for family in stats.metrics {
                for sample in family.samples where buckets || !sample.name.hasSuffix("_bucket") {
                    let labels = sample.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
                    rows.append([sample.name, labels, Stats.number(sample.value)])
                }
            }
            if rows.isEmpty { return Output.lines("no samples yet") }
            return Output.lines(Output.table([["METRIC", "LABELS", "VALUE"]] + rows))
        }
    }

    /// `12`, `0.25`.
    static func number(_ value: Double) -> String {
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value.rounded() == value, abs(value) < 1e15 { return String(Int64(value)) }
        return String(format: "%.6g", value)
    }

    func run() throws {
        try global.run {
            var stats = try decode(ServiceStats.self, try global.connect().call(MethodName.getStats))
            if let filter { stats.metrics = stats.metrics.filter { $0.name.contains(filter) } }
            Output.render(Result(stats: stats, buckets: buckets), as: global.format)
        }
    }
}

/// `vectortctl events`: the domain events, live, one line each.
struct Events: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Follow the daemon's domain events live, one line per event (admin).",
        discussion: """
            Starts with what is in flight (running generations, deployments not ended), then prints each \
            generation, payment, deployment, provider breaker and user event as it happens, like \
            `journalctl -f`, until interrupted. `lagged` means events were dropped because this client read \
            too slowly. With --json, one JSON document per line.

            Examples: `vectortctl events`, `vectortctl events --kind generation. --kind payment.paid`.
            """)

    @OptionGroup var global: GlobalOptions

    @Option(name: .long, help: "Only events whose kind starts with this (repeatable): generation, payment., deployment.state…")
    var kind: [String] = []

    struct Line: CommandResult {
        var event: JSONValue

        func encode(to encoder: any Encoder) throws { try event.encode(to: encoder) }

        var text: String { Output.lines(Events.describe(event)) }
    }

    /// `14:03:27 generation.started generation=g_… mode=quick`.
    static func describe(_ event: JSONValue) -> String {
        guard let object = event.objectValue else { return "\(event)" }
        let kind = object["event"]?.stringValue ?? "?"
        if kind == "snapshot" {
            let generations = object["generations"]?.arrayValue?.count ?? 0
            let deployments = object["deployments"]?.arrayValue?.count ?? 0
            return "in flight: \(generations) generation\(generations == 1 ? "" : "s"), \(deployments) deployment\(deployments == 1 ? "" : "s")"
        }
        let at = object["at"]?.stringValue.map(QuantityDisplay.timeOfDay) ?? ""
        let fields = object.keys.filter { $0 != "event" && $0 != "at" }.sorted().map { key -> String in
            let value = object[key]!
            switch value {
            case .string(let text): return "\(key)=\(text)"
            case .object(let inner) where inner["amount_micros"] != nil:
                return "\(key)=\(inner["amount_micros"]!.intValue ?? 0)µ\(inner["currency"]?.stringValue ?? "")"
            default: return "\(key)=\(Output.json(value, pretty: false))"
            }
        }
        return ([at, kind] + fields).filter { !$0.isEmpty }.joined(separator: " ")
    }

    func run() throws {
        try global.run {
            var parameters: [String: JSONValue] = [:]
            if !kind.isEmpty { parameters["kinds"] = .array(kind.map { .string($0) }) }
            let format = global.streamFormat
            let final = try global.connect().callStreaming(
                MethodName.eventsSubscribe, parameters, timeout: global.timeout ?? 100 * 86_400
            ) { reply in
                Output.render(Line(event: .object(reply.parameters ?? [:])), as: format)
            }
            Output.render(Line(event: final), as: format)
        }
    }
}

/// `vectortctl usage`: spend and credits over a time range.
struct Usage: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Sum provider spend, tokens, generations and credits charged, grouped (admin).",
        discussion: """
            Spend is what the provider calls cost at the prices in providers.<name>.price, every call counted \
            (retries, fallbacks, repair turns); generations and credits count by the generation. Times are \
            RFC 3339 (2026-12-01T00:00:00Z) or a date (2026-12-01, midnight UTC).

            Examples: `vectortctl usage`, `vectortctl usage --by day --since 2026-12-01`, `vectortctl usage --by user --json`.
            """)

    @OptionGroup var global: GlobalOptions

    @Option(name: .customLong("by"), help: "provider (default), model, user or day.")
    var groupBy = "provider"

    @Option(name: .long, help: "Only this user's generations.")
    var user: String?

    @Option(name: .long, help: "Generations started at or after this time.")
    var since: String?

    @Option(name: .long, help: "Generations started before this time.")
    var until: String?

    struct Result: CommandResult {
        var summary: UsageSummary

        func encode(to encoder: any Encoder) throws { try summary.encode(to: encoder) }

        var text: String {
            let rows = (summary.rows + [summary.total]).map { row in
                [
                    row.key, String(row.generations), String(row.completed), String(row.creditsCharged), String(row.calls),
                    String(row.inputTokens), String(row.outputTokens), row.cost.map(Usage.money) ?? "-",
                ]
            }
            return Output.lines(Output.table(
                [[summary.groupBy.uppercased(), "GENERATIONS", "COMPLETED", "CREDITS", "CALLS", "INPUT", "OUTPUT", "SPEND"]] + rows))
        }
    }

    /// `$0.012345` for people: micros shown to the millionth.
    static func money(_ cost: Cost) -> String {
        let sign = cost.amountMicros < 0 ? "-" : ""
        let magnitude = cost.amountMicros.magnitude
        let fraction = String(magnitude % 1_000_000)
        let number = "\(magnitude / 1_000_000)." + String(repeating: "0", count: 6 - fraction.count) + fraction
        return cost.currency == "usd" ? "\(sign)$\(number)" : "\(sign)\(number) \(cost.currency.uppercased())"
    }

    /// A date alone is midnight UTC.
    static func time(_ text: String?) -> String? {
        guard let text else { return nil }
        return text.count == 10 ? text + "T00:00:00Z" : text
    }

    func run() throws {
        try global.run {
            var parameters: [String: JSONValue] = ["group_by": .string(groupBy)]
            if let user { parameters["user"] = .string(user) }
            if let since = Self.time(since) { parameters["since"] = .string(since) }
            if let until = Self.time(until) { parameters["until"] = .string(until) }
            let summary = try decode(UsageSummary.self, try global.connect().call(MethodName.usageSummary, parameters))
            Output.render(Result(summary: summary), as: global.format)
        }
    }
}
