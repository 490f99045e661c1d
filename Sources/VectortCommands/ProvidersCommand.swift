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
                if global.json {
                    Output.json(list)
                } else {
                    Output.line(Providers.table(list))
                    if !list.chain.isEmpty { Output.line("chain: " + list.chain.joined(separator: " → ")) }
                }
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

        func run() throws {
            try global.run {
                let reply = try global.connect().call(MethodName.providersReset, ["provider": .string(provider)])
                // The provider's new state: the reply itself, or an object under `provider`.
                let nested = reply["provider"].flatMap { $0.objectValue == nil ? nil : $0 }
                let info = try decode(ProviderInfo.self, nested ?? reply)
                if global.json {
                    Output.json(info)
                } else {
                    Output.line("reset \(info.name): \(Providers.state(info)), \(info.failures) failures")
                }
            }
        }
    }

    static func table(_ list: ProviderList) -> String {
        let rows = list.providers.map { provider -> [String] in
            [
                provider.name, provider.kind, provider.model, provider.chainPosition.map(String.init) ?? "-",
                state(provider), String(provider.failures), provider.successRate.map(QuantityDisplay.percent) ?? "-",
                provider.latencyMsP50.map { String(Int($0.rounded())) } ?? "-",
                provider.lastError.map { QuantityDisplay.truncated($0, to: 48) } ?? "",
            ]
        }
        let header = ["NAME", "KIND", "MODEL", "CHAIN", "STATE", "FAILURES", "SUCCESS", "P50 MS", "LAST ERROR"]
        return Output.table([header] + rows)
    }

    /// `closed`, `half_open`, or `open until 14:03:27` (local time).
    static func state(_ provider: ProviderInfo) -> String {
        guard provider.state == "open", let until = provider.openUntil else { return provider.state }
        return "open until \(QuantityDisplay.timeOfDay(until))"
    }
}
