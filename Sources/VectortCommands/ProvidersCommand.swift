import ArgumentParser
import Protocol

struct Providers: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the AI providers, their circuit breakers and recent health; reset a breaker.",
        discussion: """
            Without a subcommand, lists the providers: position in the fallback chain, breaker state (closed, \
            open until a probe is let through, half_open while probing), failures in the breaker's window, \
            success rate and median latency of recent calls, and the last error.

            Examples: `vectortctl providers`, `vectortctl providers reset anthropic`.
            """,
        subcommands: [List.self, Reset.self],
        defaultSubcommand: List.self)

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the providers with their breaker state, success rate and latency (the default).")

        @OptionGroup var global: GlobalOptions

        func run() throws {
            try global.run {
                let list = try decode(ProviderList.self, try global.connect().call(MethodName.providersList))
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
        let rows = providers.map { provider -> [String] in
            [
                provider.name, provider.kind, provider.model, provider.chainPosition.map(String.init) ?? "-",
                Providers.state(provider), String(provider.failures), provider.successRate.map(QuantityDisplay.percent) ?? "-",
                provider.latencyMsP50.map { String(Int($0.rounded())) } ?? "-",
                provider.lastError.map { QuantityDisplay.truncated($0, to: 48) } ?? "",
            ]
        }
        let header = ["NAME", "KIND", "MODEL", "CHAIN", "STATE", "FAILURES", "SUCCESS", "P50 MS", "LAST ERROR"]
        var lines = [Output.table([header] + rows)]
        if !chain.isEmpty { lines.append("chain: " + chain.joined(separator: " → ")) }
        return Output.lines(lines)
    }
}
