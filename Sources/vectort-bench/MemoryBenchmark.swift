import ArgumentParser
import Foundation
import Protocol
import VectortCore
import VectortTesting

#if canImport(Glibc)
import Glibc
#endif

/// What vectortd keeps resident: idle (by mapping), then what grows with load, as anonymous
/// memory per idle control connection and per running generation.
struct MemoryBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "memory",
        abstract: "Idle RSS by mapping, and anonymous memory per idle connection and per running generation.",
        discussion: """
            The daemon starts on a fake OpenAI that streams a 25 KB, 30-file answer slowly. Idle RSS is read after \
            start-up; then `connections` control connections are opened (each with the GetInfo handshake) and held; \
            then, after a warm-up round, `generations` generations run at once and RssAnon is read while every one \
            of them is streaming. Goals (issue 21): idle VmRSS under 30 MB, at most 16 KB per idle connection and \
            256 KB per running generation.
            """)

    @Option(help: "Idle control connections held open.")
    var connections = 500

    @Option(help: "Generations running at once.")
    var generations = 64

    @Option(help: "The vectortd binary (default: next to this benchmark).")
    var daemon: String = Binaries.vectortd

    static let key = "sk-bench-\(UUID().uuidString.prefix(12))"

    func run() async throws {
        let answer = BenchApp.answer(files: 30)
        // About four seconds per generation: long enough to read the daemon's memory mid-stream.
        let fake = try await FakeLLMServer.start(
            .openai, apiKey: Self.key, defaultScript: .paced(answer, chunks: 200, interval: .milliseconds(20)),
            recordsRequests: false)
        defer { Task { try? await fake.shutdown() } }
        let options = DaemonProcess.Options.generating(
            binary: daemon, fake: fake, key: Self.key,
            extra: "control:\n  max_connections: \(connections + generations + 64)\n")
        let process = try await DaemonProcess(options)
        defer { process.signal(SIGTERM) }
        _ = try await process.connect()
        try await Task.sleep(for: .seconds(1))
        let idle = try ProcessMemory.read(pid: process.pid)
        print("vectort-bench memory: \(daemon)")
        print(
            String(
                format: "idle: VmRSS %.1f MB = %.1f MB anonymous + %.1f MB file-backed + %.1f MB shared ",
                idle.megabytes(\.rss), idle.megabytes(\.anonymous), idle.megabytes(\.file), idle.megabytes(\.shared))
                + goal(idle.rss < 30 << 20, "< 30 MB"))
        print("file-backed resident memory by mapping:")
        for (path, bytes) in idle.fileByMapping.prefix(10) {
            print(String(format: "  %6.1f MB  %@", Double(bytes) / 1_048_576, path))
        }

        // Idle connections, each past its handshake.
        let socket = process.socketPath
        let count = connections
        let held = HeldConnections()
        try await Task.detached {
            held.clients = try (0..<count).map { _ in try VectortClient.connect(socketPath: socket, timeout: 30) }
        }.value
        try await Task.sleep(for: .milliseconds(500))
        let withConnections = try ProcessMemory.read(pid: process.pid)
        let perConnection = Double(withConnections.anonymous - idle.anonymous) / Double(connections)
        print(
            String(
                format: "%d idle connections: RssAnon +%.1f MB, %.1f KB per connection ", connections,
                Double(withConnections.anonymous - idle.anonymous) / 1_048_576, perConnection / 1024)
                + goal(perConnection <= 16 * 1024, "≤ 16 KB"))

        // Running generations: a few at once to warm up (first-use caches and pools), then all
        // at once, measured. Memory freed after the warm-up stays resident for reuse, so a
        // warm-up as wide as the measured round would hide what the round needs.
        let projects = try await GenerateBenchmark.userProjects(process, count: generations)
        _ = try await Self.generations(socket: socket, projects: Array(projects.prefix(4))) { _ in }
        try await Task.sleep(for: .milliseconds(500))
        let before = try ProcessMemory.read(pid: process.pid)
        let pid = process.pid
        let during = Locked<ProcessMemory?>(nil)
        let streaming = try await Self.generations(socket: socket, projects: projects) { _ in
            // Every generation has sent a file and none has ended: read the daemon's memory.
            during.value = try? ProcessMemory.read(pid: pid)
        }
        guard let during = during.value else {
            throw BenchmarkError(description: "the generations ended before all of them were streaming")
        }
        let perGeneration = Double(during.anonymous - before.anonymous) / Double(generations)
        print(
            String(
                format: "%d running generations: RssAnon +%.1f MB, %.0f KB per generation ", generations,
                Double(during.anonymous - before.anonymous) / 1_048_576, perGeneration / 1024)
                + goal(perGeneration <= 256 * 1024, "≤ 256 KB") + " (\(streaming) files streamed)")
        for client in held.clients { client.close() }
    }

    /// Runs one generation per project at once; `whileAllStream` is called once, when every
    /// generation has sent its first file and none has finished. Returns the files streamed.
    static func generations(
        socket: String, projects: [(String, String)], whileAllStream: @escaping @Sendable (Int) -> Void
    ) async throws -> Int {
        try await Task.detached {
            let streaming = Locked(0)
            let finished = Locked(0)
            let files = Locked(0)
            let failures = Locked<[String]>([])
            let group = DispatchGroup()
            for (user, project) in projects {
                group.enter()
                Thread {
                    defer { group.leave() }
                    do {
                        let client = try VectortClient.connect(socketPath: socket, timeout: 120)
                        defer { client.close() }
                        var first = true
                        _ = try client.callStreaming(
                            MethodName.projectsGenerate,
                            ["user": .string(user), "project": .string(project), "prompt": "memory", "fresh": true]
                        ) { reply in
                            guard reply.parameters?["event"] == .string("file") else { return }
                            files.withLock { $0 += 1 }
                            guard first else { return }
                            first = false
                            let all = streaming.withLock { $0 += 1; return $0 } == projects.count
                            if all && finished.value == 0 { whileAllStream(projects.count) }
                        }
                        finished.withLock { $0 += 1 }
                    } catch {
                        failures.withLock { $0.append("\(error)") }
                    }
                }.start()
            }
            group.wait()
            if let failure = failures.value.first { throw BenchmarkError(description: failure) }
            return files.value
        }.value
    }

    private func goal(_ met: Bool, _ text: String) -> String {
        "(goal \(text): \(met ? "met" : "NOT met"))"
    }
}

/// Connections held open by the benchmark, touched by one task at a time.
private final class HeldConnections: @unchecked Sendable {
    var clients: [VectortClient] = []
}

/// A process's resident memory from `/proc/PID/status` and `/proc/PID/smaps`.
struct ProcessMemory {
    var rss = 0
    var anonymous = 0
    var file = 0
    var shared = 0
    /// Resident bytes of each file mapped, largest first.
    var fileByMapping: [(String, Int)] = []

    func megabytes(_ field: KeyPath<ProcessMemory, Int>) -> Double {
        Double(self[keyPath: field]) / 1_048_576
    }

    static func read(pid: Int32) throws -> ProcessMemory {
        var memory = ProcessMemory()
        let status = try readWhole("/proc/\(pid)/status")
        for line in status.split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 2, let kilobytes = Int(fields[1]) else { continue }
            switch fields[0] {
            case "VmRSS:": memory.rss = kilobytes * 1024
            case "RssAnon:": memory.anonymous = kilobytes * 1024
            case "RssFile:": memory.file = kilobytes * 1024
            case "RssShmem:": memory.shared = kilobytes * 1024
            default: break
            }
        }
        var byPath: [String: Int] = [:]
        var current: String?
        let smaps = try readWhole("/proc/\(pid)/smaps")
        for line in smaps.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard let first = fields.first else { continue }
            if !first.hasSuffix(":") {
                // A mapping's header: range, perms, offset, device, inode, then the path if any.
                let path = fields.count >= 6 ? fields[5...].joined(separator: " ") : ""
                current = path.hasPrefix("/") ? path : nil
            } else if first == "Rss:", let path = current, fields.count >= 2, let kilobytes = Int(fields[1]) {
                byPath[path, default: 0] += kilobytes * 1024
            }
        }
        memory.fileByMapping = byPath.sorted { $0.value > $1.value }
        return memory
    }
}

/// A `/proc` file read to its end (they report a size of 0, so readers that trust the size stop short).
private func readWhole(_ path: String) throws -> String {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw BenchmarkError(description: "cannot open \(path)") }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65_536)
    while true {
        let count = read(fd, &chunk, chunk.count)
        guard count > 0 else { break }
        bytes += chunk[0..<count]
    }
    return String(decoding: bytes, as: UTF8.self)
}
