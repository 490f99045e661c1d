import ArgumentParser
import Protocol

struct Providers: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the AI providers, their circuit breakers and recent health; reset a breaker.",
        discussion: """
            Without a subcommand, lists the providers: position in the fallback chain, breaker state (closed, \
            open until a probe is let through, half_open while probing), failures in the breaker's window, \
            success rate and median latency of recent calls, and the last error.

            With --all-nodes, the same for every node sharing a PostgreSQL database: breakers are per node \
            (each decides on the failures it saw), so one node may skip a provider another still calls.

            Examples: `vectortctl providers`, `vectortctl providers --all-nodes`, `vectortctl providers reset anthropic`.
            """,
        subcommands: [List.self, Reset.self],
        defaultSubcommand: List.self)

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the providers with their breaker state, success rate and latency (the default).")

        @OptionGroup var global: GlobalOptions

        @Flag(
            name: .long,
            help: """
                Every node sharing the database, each with its own breakers: this node's as of now, the others' \
                as they last published them (every node.heartbeat_seconds). Admin only.
                """)
        var allNodes = false

        func run() throws {
            try global.run {
                let parameters: [String: JSONValue] = allNodes ? ["all_nodes": .bool(true)] : [:]
                let list = try decode(ProviderList.self, try global.connect().call(MethodName.providersList, parameters))
                Output.render(list, as: global.format)
            }
        }
    }

    struct Reset: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Close a provider's circuit breaker and clear its failures (admin).",
            discussion: "Example: vectortctl providers reset anthropic")

        @OptionGroup var global: GlobalOptions

        @Argument(help: "Provider name, as `vectortctl providers` lists it.")
        var provider: String

        /// The provider's new state.
        struct Result: CommandResult {
            var provider: ProviderInfo

            func encode(to encoder: any Encoder) throws { try provider.encode(to: encoder) }

            var text: String {
                Output.lines("reset \(provider.name): \(Providers.state(provider)), \(provider.failures) failures")
            }
        }

        func run() throws {
            try global.run {
                let reply = try global.connect().call(MethodName.providersReset, ["provider": .string(provider)])
                // The provider's new state: the reply itself, or an object under `provider`.
                let nested = reply["provider"].flatMap { $0.objectValue == nil ? nil : $0 }
                let info = try decode(ProviderInfo.self, nested ?? reply)
                Output.render(Result(provider: info), as: global.format)
            }
        }
    }

    /// `closed`, `half_open`, or `open until 14:03:27` (local time).
    static func state(_ provider: ProviderInfo) -> String {
        guard provider.state == "open", let until = provider.openUntil else { return provider.state }
        return "open until \(QuantityDisplay.timeOfDay(until))"
    }
}

extension ProviderList: CommandResult {
    var text: String {
        if let nodes { return Self.fleetText(nodes) }
        let rows = providers.map(Self.row)
        let header = ["NAME", "KIND", "MODEL", "CHAIN", "STATE", "FAILURES", "SUCCESS", "P50 MS", "LAST ERROR"]
        var lines = [Output.table([header] + rows)]
        if !chain.isEmpty { lines.append("chain: " + chain.joined(separator: " → ")) }
        return Output.lines(lines)
    }

    private static func row(_ provider: ProviderInfo) -> [String] {
        [
            provider.name, provider.kind, provider.model, provider.chainPosition.map(String.init) ?? "-",
            Providers.state(provider), String(provider.failures), provider.successRate.map(QuantityDisplay.percent) ?? "-",
            provider.latencyMsP50.map { String(Int($0.rounded())) } ?? "-",
            provider.lastError.map { QuantityDisplay.truncated($0, to: 48) } ?? "",
        ]
    }

    /// One table, a NODE column first; under it each node's liveness and the age of what it published.
    private static func fleetText(_ nodes: [NodeProviders]) -> String {
        let header = ["NODE", "NAME", "KIND", "MODEL", "CHAIN", "STATE", "FAILURES", "SUCCESS", "P50 MS", "LAST ERROR"]
        var rows = [header]
        for node in nodes {
            if node.providers.isEmpty { rows.append([node.node, "(nothing published)"] + Array(repeating: "", count: 8)) }
            rows += node.providers.map { [node.node] + row($0) }
        }
        var lines = [Output.table(rows)]
        for node in nodes {
            let state = node.current ? "this node" : node.live ? "live" : "heartbeat expired"
            let published = node.current ? "" : node.publishedAt.map { ", published \(QuantityDisplay.timeOfDay($0))" } ?? ", never published"
            let chain = node.chain.isEmpty ? "" : "; chain: " + node.chain.joined(separator: " → ")
            lines.append("\(node.node): \(state)\(published)\(chain)")
        }
        return Output.lines(lines)
    }
}
