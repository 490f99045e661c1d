import Foundation
import Testing
import VectortTesting

extension DaemonSuite {
    @Suite("vectort-bench runs its benchmarks")
    struct BenchSmokeTests {
        /// A benchmark's body runs and prints its figures and memory by mapping, rather than the
        /// help text a wrong entry point printed with status 0.
        @Test func theMemoryBenchmarkMeasuresADaemon() async throws {
            let result = try await runCommand(
                Binaries.directory + "/vectort-bench",
                ["memory", "--connections", "3", "--generations", "1", "--daemon", Binaries.vectortd],
                environment: ["PATH": "/usr/bin:/bin", "VECTORT_BIN_DIR": Binaries.directory])
            #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
            #expect(result.stdout.contains("idle: VmRSS"), "\(result.stdout)")
            #expect(result.stdout.contains("3 idle connections: RssAnon"), "\(result.stdout)")
            #expect(result.stdout.contains("1 running generations: RssAnon"), "\(result.stdout)")
            #expect(result.stdout.contains("MB  /"), "the mappings: \(result.stdout)")
            #expect(!result.stdout.contains("OVERVIEW"), "\(result.stdout)")
        }
    }
}
