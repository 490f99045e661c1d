import ArgumentParser

@main
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vectort-bench",
        abstract: "Benchmarks of vectortd. Each prints a comparison measured in the same run.",
        subcommands: [
            IPCBenchmark.self, StartupBenchmark.self, LedgerBenchmark.self, GenerateBenchmark.self,
            InstructionsBenchmark.self, BuildBenchmark.self, EditBenchmark.self, WebhookBenchmark.self, DeployBenchmark.self, APIBenchmark.self, EchoServerCommand.self,
        ])
}
