import ArgumentParser
import Foundation
import GRDB
import Histogram
import Protocol
import VectortTesting

#if canImport(Glibc)
import Glibc
#endif

struct EditBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "edit",
        abstract: "Successive edits of one app through the daemon: storage per version, bytes per edit, added latency.",
        discussion: """
            A fake OpenAI writes a 30-file, 25 KB static app, then answers each of --edits follow-up prompts by \
            rewriting two of its files. Measured on the daemon's database and the fake's requests: the bytes \
            stored per version against storing every version in full (goal at least 10 times less); the bytes \
            an edit sends and receives against regenerating the whole app; and the latency of an edit against \
            a fresh generation whose answer has the same size, streamed with the same pacing, the two \
            interleaved (goal: within 10 %).
            """)

    @Option(help: "Successive edits.")
    var edits = 100

    @Option(help: "Files of the app.")
    var files = 30

    @Option(help: "Chunks each answer is streamed in.")
    var chunks = 20

    @Option(help: "Milliseconds between chunks (and before the first).")
    var intervalMs = 2.0

    @Option(help: "The vectortd binary (default: next to this benchmark).")
    var daemon: String = Binaries.vectortd

    @Flag(inversion: .prefixedNo, help: "Build each version with esbuild (build.enabled), as a default daemon does.")
    var build = true

    static let key = "sk-bench-\(UUID().uuidString.prefix(12))"

    func run() async throws {
        let app = BenchApp.files(files)
        let appAnswer = "Here is the app.\n" + BenchApp.blocks(app)
        let interval = Duration.microseconds(Int64(intervalMs * 1000))
        print(
            "vectort-bench edit: \(edits) edits of a \(app.count)-file app (\(appAnswer.utf8.count / 1024) KB), "
                + "two files each, answers in \(chunks) chunks \(intervalMs) ms apart, builds \(build ? "on" : "off")")
        let fake = try await FakeLLMServer.start(.openai, apiKey: Self.key, defaultScript: .answer(appAnswer))
        defer { Task { try? await fake.shutdown() } }

        let options = DaemonProcess.Options.generating(binary: daemon, fake: fake, key: Self.key, build: build)
        let process = try await DaemonProcess(options)
        let client = try await process.connect(callTimeout: 120)
        let user = try await client.call(MethodName.usersCreate, ["email": "edits@example.com"])["id"]?.stringValue ?? ""
        func project(_ title: String) async throws -> String {
            try await client.call(MethodName.projectsCreate, ["user": .string(user), "title": .string(title)])["id"]?
                .stringValue ?? ""
        }
        let edited = try await project("Edited")
        let freshProject = try await project("Fresh")
        func generate(_ project: String, _ prompt: String, fresh: Bool = false) async throws -> (Duration, JSONValue) {
            var parameters: [String: JSONValue] = [
                "user": .string(user), "project": .string(project), "prompt": .string(prompt),
            ]
            if fresh { parameters["fresh"] = .bool(true) }
            let start = ContinuousClock.now
            let reply = try await client.call(MethodName.projectsGenerate, parameters, timeout: 120)
            guard reply["credits_charged"] != nil else { throw BenchmarkError(description: "no version: \(reply)") }
            return (ContinuousClock.now - start, reply)
        }

        // The app, written whole: what regenerating it would cost every time.
        _ = try await generate(edited, "a catalogue of items")
        let wholeRequest = fake.lastRequest?.body.count ?? 0
        let wholeAnswer = appAnswer.utf8.count

        var current = Dictionary(app, uniquingKeysWith: { $1 })
        var editLatency = Histogram<UInt64>(highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: .three)
        var freshLatency = editLatency
        var editRequest = 0
        var editAnswer = 0
        for round in 1...edits {
            // Two files change: one item and the stylesheet.
            let item = "data/item-\((round - 1) % max(1, app.count - 3) + 1).json"
            let itemText = (current[item] ?? "{}\n").replacingOccurrences(of: "\"tags\"", with: "\"edit\": \(round),\n  \"tags\"")
            let styles = (current["styles.css"] ?? "") + "/* edit \(round) */\n"
            current[item] = itemText
            current["styles.css"] = styles
            let answer = "Changed the item and the styles.\n" + BenchApp.blocks([(item, itemText), ("styles.css", styles)])
            // A new app answered with the same number of bytes: a page and a stylesheet.
            let page = #"<main><h1>Fresh</h1></main>"# + "\n"
            let padding = max(0, answer.utf8.count - page.utf8.count - 60)
            let freshAnswer =
                "Here is the app.\n"
                + BenchApp.blocks([("index.html", page), ("styles.css", "/*" + String(repeating: "x", count: padding) + "*/\n")])

            fake.enqueue(.paced(answer, chunks: chunks, interval: interval))
            let (editTime, reply) = try await generate(edited, "edit \(round): mark item and restyle")
            guard reply["changed"]?.arrayValue?.count == 2 else {
                throw BenchmarkError(description: "edit \(round) changed \(reply["changed"] ?? .null)")
            }
            editRequest += fake.lastRequest?.body.count ?? 0
            editAnswer += answer.utf8.count
            fake.enqueue(.paced(freshAnswer, chunks: chunks, interval: interval))
            let (freshTime, _) = try await generate(freshProject, "fresh \(round)", fresh: true)
            if round > 3 {
                editLatency.record(UInt64(max(0, editTime.microseconds)))
                freshLatency.record(UInt64(max(0, freshTime.microseconds)))
            }
        }
        let versions = try await client.call(MethodName.projectsListVersions, ["user": .string(user), "project": .string(edited)])
        let versionCount = versions["versions"]?.arrayValue?.count ?? 0
        let database = process.directory.file("state/vectortd.sqlite")
        process.signal(SIGTERM)
        _ = await process.waitForExit()

        let (full, stored) = try Self.storage(database: database, project: edited)
        print("")
        print("storage over \(versionCount) versions of the edited app:")
        print(
            String(
                format: "  stored %.1f KB per version, full copies %.1f KB per version: %.1f× less ",
                Double(stored) / Double(versionCount) / 1024, Double(full) / Double(versionCount) / 1024,
                Double(full) / Double(max(1, stored)))
                + goal(full >= stored * 10, "≥ 10×"))
        let perRequest = editRequest / edits
        let perAnswer = editAnswer / edits
        print("bytes per edit against regenerating the whole app:")
        print(
            String(
                format: "  sent %.1f KB (the app as context and the history), received %.1f KB; regenerating sends %.1f KB and receives %.1f KB",
                Double(perRequest) / 1024, Double(perAnswer) / 1024, Double(wholeRequest) / 1024,
                Double(wholeAnswer) / 1024))
        print(
            String(
                format: "  received (the output tokens a model writes, which bound its time): %.1f× less; sent and received together: %.2f× the bytes of regenerating",
                Double(wholeAnswer) / Double(max(1, perAnswer)),
                Double(perRequest + perAnswer) / Double(max(1, wholeRequest + wholeAnswer))))
        let e50 = Double(editLatency.valueAtPercentile(50)) / 1000
        let f50 = Double(freshLatency.valueAtPercentile(50)) / 1000
        let e99 = Double(editLatency.valueAtPercentile(99)) / 1000
        let f99 = Double(freshLatency.valueAtPercentile(99)) / 1000
        print("latency, an edit against a fresh generation of the same answer size (interleaved, first 3 not counted):")
        print(String(format: "  p50 %.2f ms against %.2f ms: %+.1f %% ", e50, f50, (e50 / f50 - 1) * 100) + goal(e50 <= f50 * 1.1, "within 10 %"))
        print(String(format: "  p99 %.2f ms against %.2f ms: %+.1f %%", e99, f99, (e99 / f99 - 1) * 100))
    }

    /// The source bytes of a project's versions stored in full, and as distinct contents.
    static func storage(database: String, project: String) throws -> (full: Int, stored: Int) {
        var configuration = Configuration()
        configuration.readonly = true
        let queue = try DatabaseQueue(path: database, configuration: configuration)
        return try queue.read { db in
            let full = try Int.fetchOne(
                db,
                sql: "SELECT SUM(f.bytes) FROM version_files f JOIN versions v ON v.id = f.version_id WHERE v.project_id = ?",
                arguments: [project]) ?? 0
            let stored = try Int.fetchOne(
                db,
                sql: """
                    SELECT SUM(length(b.data)) FROM blobs b WHERE b.hash IN
                        (SELECT f.hash FROM version_files f JOIN versions v ON v.id = f.version_id WHERE v.project_id = ?)
                    """, arguments: [project]) ?? 0
            return (full, stored)
        }
    }

    private func goal(_ met: Bool, _ text: String) -> String {
        "(goal \(text): \(met ? "met" : "NOT met"))"
    }
}
