import ArgumentParser

struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vectort-bench",
        abstract: "Benchmarks of vectortd. Each prints a comparison measured in the same run.",
        subcommands: [
            IPCBenchmark.self, StartupBenchmark.self, LedgerBenchmark.self, GenerateBenchmark.self,
            InstructionsBenchmark.self, BuildBenchmark.self, EditBenchmark.self, WebhookBenchmark.self, DeployBenchmark.self, APIBenchmark.self,
            GenerationInstructionsBenchmark.self, MemoryBenchmark.self, EchoServerCommand.self, RelayFloorCommand.self,
        ])
}

#if VECTORT_SYNC_MAIN
// valgrind 3.19 cannot run Swift's async main: built with -DVECTORT_SYNC_MAIN (bench/
// generate-instructions.sh), the main thread waits while the command runs on the cooperative
// pool, so that `relay-floor` can run under callgrind.
import Dispatch

let finished = DispatchSemaphore(value: 0)
Task.detached {
    await Bench.main()
    finished.signal()
}
finished.wait()
#else
await Bench.main()
#endif
