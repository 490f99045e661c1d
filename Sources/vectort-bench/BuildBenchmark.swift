import ArgumentParser
import Build
import Foundation
import Generation
import Protocol
import Starters
import VectortTesting

#if canImport(Glibc)
import Glibc
#endif

/// What vectortd adds to a build: the same files built through `SiteBuilder` (scratch
/// directory, links, import gate, metafile check, reading the site back) and by esbuild alone
/// from a prepared directory (the floor), in the same run.
struct BuildBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Builds of a 30-file React app and of the starters through vectortd's builder, against esbuild alone.",
        discussion: """
            Goals: the builder's overhead at most 20 % of esbuild alone at p50; a 30-file app builds in at \
            most 5 % of a generation at the generate benchmark's pacing (120 chunks 2 ms apart, 240 ms).
            """)

    @Option(help: "Builds per app and side.")
    var runs = 30

    @Option(help: "The esbuild executable.")
    var esbuild = "/usr/bin/esbuild"

    struct Sample {
        var wall: Double
        var cpu: Double
    }

    func run() async throws {
        var settings = BuildSettings()
        settings.esbuildPath = esbuild
        let scratch = try TemporaryDirectory(prefix: "vtbb")
        settings.scratchDirectory = scratch.file("scratch")
        let builder = try SiteBuilder(settings: settings)
        let apps: [(String, [ProjectFile])] =
            [("react-30-files", SampleApps.vite(files: 30))]
            + ["an online shop for soap", "a personal blog", "a todo list"].map { prompt in
                let (template, files) = TemplateProvider.files(for: AppBrief(prompt: prompt, title: "Bench"))
                return ("starter-\(template)", files)
            }
        print("vectort-bench build: \(runs) builds per row, esbuild \(esbuild), \(ProcessInfo.processInfo.activeProcessorCount) cores")
        print(row(["app", "side", "p50 ms", "p99 ms", "CPU ms/build", "vs floor p50"]))
        var verdicts: [String] = []
        for (name, files) in apps {
            let first = try await builder.build(files)
            guard first.status == .ok else { throw BenchmarkError(description: "\(name) does not build: \(first.errors)") }
            var ours: [Sample] = []
            for _ in 0..<runs {
                ours.append(try await measure { _ = try await builder.build(files) })
            }
            let floorDirectory = try prepare(files, in: scratch.file("floor-\(name)"))
            let arguments = floorArguments(files, directory: floorDirectory)
            var floor: [Sample] = []
            for _ in 0..<runs {
                floor.append(try await measure { try await runFloor(arguments, directory: floorDirectory) })
            }
            let ourP50 = percentile(ours.map(\.wall), 50)
            let floorP50 = percentile(floor.map(\.wall), 50)
            let overhead = ourP50 / floorP50 - 1
            print(row([name, "vectortd", f(ourP50), f(percentile(ours.map(\.wall), 99)), f(mean(ours.map(\.cpu))), String(format: "%+.0f %%", overhead * 100)]))
            print(row([name, "esbuild alone", f(floorP50), f(percentile(floor.map(\.wall), 99)), f(mean(floor.map(\.cpu))), "—"]))
            verdicts.append(
                "\(name): overhead \(String(format: "%+.0f %%", overhead * 100)) of esbuild alone at p50 "
                    + (overhead <= 0.2 ? "(goal ≤ 20 %: met)" : "(goal ≤ 20 %: NOT met)"))
            if name.hasPrefix("react") {
                let share = ourP50 / 240
                verdicts.append(
                    "\(name): \(String(format: "%.0f %%", share * 100)) of a 240 ms paced generation "
                        + (share <= 0.05 ? "(goal ≤ 5 %: met)" : "(goal ≤ 5 %: NOT met)"))
            }
        }
        print("")
        for verdict in verdicts { print(verdict) }
    }

    /// Wall time, and CPU time of this process and its children, of one build, in ms.
    private func measure(_ body: () async throws -> Void) async throws -> Sample {
        let cpuBefore = cpuMilliseconds()
        let start = ContinuousClock.now
        try await body()
        let wall = (ContinuousClock.now - start).seconds * 1000
        return Sample(wall: wall, cpu: cpuMilliseconds() - cpuBefore)
    }

    private func cpuMilliseconds() -> Double {
        var total = 0.0
        for who in [RUSAGE_SELF, RUSAGE_CHILDREN] {
            var usage = rusage()
            getrusage(Int32(who.rawValue), &usage)
            total += Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1000
                + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1000
        }
        return total
    }

    /// The files written once, as a developer's checkout would be.
    private func prepare(_ files: [ProjectFile], in directory: String) throws -> String {
        for file in files {
            let target = directory + "/" + file.path
            try FileManager.default.createDirectory(
                atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try file.data.write(to: URL(fileURLWithPath: target))
        }
        return directory
    }

    /// esbuild as one would run it by hand on the same app with the same output options, on one
    /// core as the builder runs it (`GOMAXPROCS=1`).
    private func floorArguments(_ files: [ProjectFile], directory: String) -> [String] {
        let out = directory + "/dist"
        if files.contains(where: { $0.path == "src/main.jsx" }) {
            return [
                "src/main.jsx", "--bundle", "--format=esm", "--jsx=automatic", "--minify", "--sourcemap",
                "--sources-content=false", #"--define:process.env.NODE_ENV="production""#, "--loader:.js=jsx",
                "--entry-names=[name]-[hash]", "--outdir=\(out)", "--log-limit=0", "--color=false",
            ]
        }
        let sources = files.filter { ["js", "css"].contains(($0.path as NSString).pathExtension) }.map(\.path)
        return sources + ["--outdir=\(out)", "--log-limit=0", "--color=false"]
    }

    private func runFloor(_ arguments: [String], directory: String) async throws {
        let result = try await runCommand(
            esbuild, arguments, environment: ["PATH": "/usr/bin:/bin", "NODE_PATH": "/usr/share/nodejs", "GOMAXPROCS": "1"],
            workingDirectory: directory)
        guard result.status == 0 else { throw BenchmarkError(description: "esbuild failed: \(result.stderr)") }
    }

    private func percentile(_ values: [Double], _ p: Double) -> Double {
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * p / 100).rounded()))]
    }

    private func mean(_ values: [Double]) -> Double { values.reduce(0, +) / Double(values.count) }

    private func f(_ value: Double) -> String { String(format: "%.1f", value) }

    private func row(_ cells: [String]) -> String {
        let widths = [18, 14, 8, 8, 13, 12]
        return zip(cells, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: " ")
    }
}
