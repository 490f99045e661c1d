import ArgumentParser

struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vectort-bench",
        abstract: "Benchmarks of vectortd. Each prints a comparison measured in the same run.",
        subcommands: [
            IPCBenchmark.self, StartupBenchmark.self, LedgerBenchmark.self, GenerateBenchmark.self,
            InstructionsBenchmark.self, BuildBenchmark.self, EditBenchmark.self, WebhookBenchmark.self, DeployBenchmark.self, APIBenchmark.self,
            GenerationInstructionsBenchmark.self, LedgerInstructionsBenchmark.self, PostgresLedgerBenchmark.self, MemoryBenchmark.self, EchoServerCommand.self,
            RelayFloorCommand.self, JournalFloorCommand.self,
        ])
}

/// ArgumentParser's async entry point. Called straight from top-level code, `Bench.main()`
/// resolves to the synchronous `ParsableCommand.main()`, which only prints help for async
/// subcommands; inside an async function the async overload is chosen.
func runBench() async {
    await Bench.main()
}

#if VECTORT_SYNC_MAIN
// valgrind 3.19 cannot run Swift's async main: built with -DVECTORT_SYNC_MAIN (bench/
// generate-instructions.sh), the main thread waits while the command runs on the cooperative
// pool, so that `relay-floor` can run under callgrind.
import Dispatch

let finished = DispatchSemaphore(value: 0)
Task.detached {
    await runBench()
    finished.signal()
}
finished.wait()
#else
await runBench()
#endif
