import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Protocol
import VectortTesting

#if canImport(Glibc)
import Glibc
#endif

/// CPU per streamed chunk and per generation as instruction counts, which repeat run to run
/// where this machine's clock-tick CPU figures vary by ±10 %. The daemon runs under
/// `valgrind --tool=callgrind` three times: a warm-up only, then the warm-up and `generations`
/// more streamed in few chunks, then in many. The differences give instructions per generation
/// at each chunk count; their difference over the chunk counts is the cost of one chunk, and
/// what is left at the low count the fixed cost of a generation.
///
/// The floor is the same answer relayed by the least a daemon could do: a process that takes a
/// request on a Unix socket, makes the same streaming HTTP call with the same HTTP client, and
/// copies each body chunk to the socket as a frame (`relay-floor`), measured the same way.
struct GenerationInstructionsBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate-instructions",
        abstract: "Instructions per streamed chunk and per generation in vectortd under callgrind, against a bare relay.",
        discussion: """
            A 25 KB, 30-file answer streamed by a fake OpenAI (in this process, not measured) with no pauses, \
            builds off, one generation at a time. Goals (issue 21): at most 2 µs of CPU per chunk and 1 ms fixed \
            per generation; the instruction counts are printed beside the floor's so the ratio does not depend \
            on this machine's clock.
            """)

    @Option(help: "Generations measured per chunk count, beyond the warm-up.")
    var generations = 8

    @Option(help: "Generations of warm-up, in every run.")
    var warmup = 3

    @Option(help: "Files in the answer.")
    var files = 30

    @Option(help: "The few and the many chunks the answer is streamed in.")
    var chunks: [Int] = [20, 800]

    @Option(help: "The vectortd binary (default: next to this benchmark).")
    var daemon: String = Binaries.vectortd

    @Option(help: "A directory to keep the callgrind profiles in (callgrind_annotate reads them).")
    var profiles: String?

    static let key = "sk-bench-\(UUID().uuidString.prefix(12))"

    func validate() throws {
        guard chunks.count == 2, chunks[0] < chunks[1], chunks[0] >= 1 else {
            throw ValidationError("--chunks takes two counts, the smaller first")
        }
        guard generations >= 1, warmup >= 1 else { throw ValidationError("--generations and --warmup must be at least 1") }
    }

    func run() async throws {
        try Callgrind.requireValgrind()
        let answer = BenchApp.answer(files: files)
        let (few, many) = (chunks[0], chunks[1])
        print(
            "vectort-bench generate-instructions: \(files) files (\(answer.utf8.count / 1024) KB) in \(few) and \(many) chunks, "
                + "\(generations) generations after \(warmup) of warm-up, under callgrind")
        let ours = try await costs(answer: answer) { fake, generations, measured in
            try await daemonInstructions(fake: fake, generations: generations, measuredChunks: measured)
        }
        let floor = try await costs(answer: answer) { fake, generations, measured in
            try await floorInstructions(fake: fake, generations: generations, measuredChunks: measured)
        }
        print("")
        print(row(["path", "Ir/generation@\(few)", "Ir/generation@\(many)", "Ir/chunk", "Ir fixed/generation"]))
        for (name, cost) in [("relay floor", floor), ("vectortd", ours)] {
            print(
                row([
                    name, count(cost.perGeneration.few), count(cost.perGeneration.many), count(cost.perChunk),
                    count(cost.fixed),
                ]))
        }
        print("")
        print(
            String(
                format: "instructions per streamed chunk: %.0f, %.1f× the floor's %.0f; fixed per generation: %.0f, %.1f× the floor's %.0f",
                ours.perChunk, ours.perChunk / max(floor.perChunk, 1), floor.perChunk, ours.fixed,
                ours.fixed / max(floor.fixed, 1), floor.fixed))
        print("(the goals in µs, ≤ 2 per chunk and ≤ 1,000 fixed, are checked by `vectort-bench generate` from the daemon's CPU time)")
    }

    struct Cost {
        var perGeneration: (few: Double, many: Double)
        var perChunk: Double { max(0, (perGeneration.many - perGeneration.few) / Double(chunkSpan)) }
        var fixed: Double { perGeneration.few - Double(fewChunks) * perChunk }
        var fewChunks: Int
        var chunkSpan: Int
    }

    /// Instructions per generation at both chunk counts: `measure(fake, n, c)` is the total of
    /// a run with the warm-up (streamed in the few chunks) and `n` more generations streamed in
    /// `c` chunks by `fake`.
    private func costs(answer: String, measure: (FakeLLMServer, Int, Int) async throws -> Int) async throws -> Cost {
        let fake = try await FakeLLMServer.start(
            .openai, apiKey: Self.key, defaultScript: .paced(answer, chunks: chunks[0], interval: .zero),
            recordsRequests: false)
        defer { Task { try? await fake.shutdown() } }
        let idle = try await measure(fake, 0, chunks[0])
        var perGeneration: [Double] = []
        for count in chunks {
            fake.setDefaultScript(.paced(answer, chunks: chunks[0], interval: .zero))
            let busy = try await measure(fake, generations, count)
            perGeneration.append(Double(busy - idle) / Double(generations))
        }
        return Cost(
            perGeneration: (perGeneration[0], perGeneration[1]), fewChunks: chunks[0], chunkSpan: chunks[1] - chunks[0])
    }

    /// Everything vectortd executed from start to exit with the warm-up and `generations` more.
    private func daemonInstructions(fake: FakeLLMServer, generations: Int, measuredChunks: Int) async throws -> Int {
        let directory = try TemporaryDirectory(prefix: "vtgi")
        let profile = directory.file("callgrind.out")
        var options = DaemonProcess.Options.generating(binary: daemon, fake: fake, key: Self.key)
        options.wrapper = Callgrind.command(profile: profile)
        let process = try await DaemonProcess(options, in: directory)
        let client: AsyncVectortClient
        do {
            client = try await process.connect(timeout: .seconds(180), callTimeout: 600)
        } catch {
            throw BenchmarkError(description: "vectortd under callgrind did not start: \(error)\n\(process.output)")
        }
        let user = try await client.call(MethodName.usersCreate, ["email": "bench@example.com"])
        let project = try await client.call(MethodName.projectsCreate, ["user": user["id"] ?? .null, "title": "Bench"])
        let answer = BenchApp.answer(files: files)
        for round in 0..<(warmup + generations) {
            if round == warmup { fake.setDefaultScript(.paced(answer, chunks: measuredChunks, interval: .zero)) }
            let result = try await client.callStreaming(
                MethodName.projectsGenerate,
                [
                    "user": user["id"] ?? .null, "project": project["id"] ?? .null,
                    "prompt": .string("bench round \(round)"), "fresh": true,
                ], timeout: 600
            ) { _ in }
            guard result["credits_charged"] != nil else {
                throw BenchmarkError(description: "a generation under callgrind failed: \(result)")
            }
        }
        client.close()
        process.signal(SIGTERM)
        guard await process.waitForExit(timeout: .seconds(180)) == 0 else {
            throw BenchmarkError(description: "vectortd under callgrind did not stop cleanly: \(process.output)")
        }
        return try keep(profile, as: "vectortd-\(generations)x\(measuredChunks).out")
    }

    /// The total of `profile`, which is copied to `--profiles` first when given.
    private func keep(_ profile: String, as name: String) throws -> Int {
        if let profiles {
            try? FileManager.default.createDirectory(atPath: profiles, withIntermediateDirectories: true)
            try? FileManager.default.removeItem(atPath: profiles + "/" + name)
            try FileManager.default.copyItem(atPath: profile, toPath: profiles + "/" + name)
        }
        return try InstructionsBenchmark.totals(profile)
    }

    /// Everything the relay floor executed from start to exit with the warm-up and `generations` more.
    private func floorInstructions(fake: FakeLLMServer, generations: Int, measuredChunks: Int) async throws -> Int {
        let directory = try TemporaryDirectory(prefix: "vtgf")
        let profile = directory.file("callgrind.out")
        let socket = directory.file("relay.sock")
        let child = try await ChildProcess.start(
            Callgrind.valgrind,
            Array(Callgrind.command(profile: profile).dropFirst()) + [
                Callgrind.benchExecutable, "relay-floor", "--path", socket, "--upstream", fake.baseURL + "/chat/completions",
                "--key", Self.key,
            ], environment: ProcessInfo.processInfo.environment, outputPath: directory.file("output"))
        let answer = BenchApp.answer(files: files)
        let started = ContinuousClock.now
        var connected: Int32?
        while connected == nil {
            connected = RelayFloorClient.connect(socket)
            guard ContinuousClock.now - started < .seconds(180) else {
                throw BenchmarkError(description: "the relay floor did not start: \((try? String(contentsOfFile: directory.file("output"), encoding: .utf8)) ?? "")")
            }
            if connected == nil { try await Task.sleep(for: .milliseconds(50)) }
        }
        let fd = connected!
        for round in 0..<(warmup + generations) {
            if round == warmup { fake.setDefaultScript(.paced(answer, chunks: measuredChunks, interval: .zero)) }
            let bytes = try await Task.detached { try RelayFloorClient.relay(fd) }.value
            guard bytes >= answer.utf8.count else {
                throw BenchmarkError(description: "the relay floor passed \(bytes) bytes, fewer than the answer's")
            }
        }
        try await Task.detached { try RelayFloorClient.quit(fd) }.value
        guard await child.waitForExit(timeout: .seconds(180)) == 0 else {
            throw BenchmarkError(description: "the relay floor under callgrind did not stop cleanly")
        }
        return try keep(profile, as: "floor-\(generations)x\(measuredChunks).out")
    }

    private func count(_ value: Double) -> String {
        value.formatted(.number.precision(.fractionLength(0)))
    }

    private func row(_ cells: [String]) -> String {
        let widths = [14, 22, 22, 12, 20]
        return zip(cells, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: " ")
    }
}

/// The client side of the relay floor: blocking, one request at a time. A request is a frame
/// `R`; the relay answers a frame `D…` per upstream body chunk and `E` at the end; `Q` stops it.
enum RelayFloorClient {
    static func connect(_ path: String) -> Int32? {
        guard let address = UnixSocketAddress(path: path) else { return nil }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        if address.connect(fd) != nil {
            close(fd)
            return nil
        }
        return fd
    }

    /// Sends one request and reads the relayed answer; returns its body bytes.
    static func relay(_ fd: Int32) throws -> Int {
        try send(fd, "R")
        var buffer: [UInt8] = []
        var body = 0
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            while buffer.count >= 4 {
                let length = Int(buffer[0]) << 24 | Int(buffer[1]) << 16 | Int(buffer[2]) << 8 | Int(buffer[3])
                guard buffer.count >= 4 + length else { break }
                let kind = buffer[4]
                buffer.removeFirst(4 + length)
                if kind == UInt8(ascii: "E") { return body }
                body += length - 1
            }
            let count = read(fd, &chunk, chunk.count)
            guard count > 0 else { throw BenchmarkError(description: "the relay floor closed the connection") }
            buffer += chunk[0..<count]
        }
    }

    static func quit(_ fd: Int32) throws {
        try send(fd, "Q")
        close(fd)
    }

    private static func send(_ fd: Int32, _ kind: Character) throws {
        let frame: [UInt8] = [0, 0, 0, 1, kind.asciiValue!]
        guard write(fd, frame, frame.count) == frame.count else {
            throw BenchmarkError(description: "cannot write to the relay floor")
        }
    }
}

/// `vectort-bench relay-floor`: the floor of `generate-instructions` as its own process.
struct RelayFloorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "relay-floor", abstract: "Relay streamed completions to a Unix socket until told to quit.",
        shouldDisplay: false)

    @Option(help: "Socket path.")
    var path: String

    @Option(help: "The chat completions URL.")
    var upstream: String

    @Option(help: "The API key.")
    var key: String

    func run() async throws {
        // The same client settings as the daemon's provider clients: no redirects, no decompression.
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        let client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
        let body = ByteBuffer(
            bytes: try JSONSerialization.data(withJSONObject: [
                "model": "gpt-4o", "stream": true, "stream_options": ["include_usage": true],
                "messages": [["role": "user", "content": "bench"]],
            ]))
        let (upstream, key) = (upstream, key)
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([
                        ByteToMessageHandler(RelayRequestDecoder()),
                        RelayHandler { channel in
                            Task {
                                do {
                                    var request = HTTPClientRequest(url: upstream)
                                    request.method = .POST
                                    request.headers.add(name: "Authorization", value: "Bearer \(key)")
                                    request.headers.add(name: "Content-Type", value: "application/json")
                                    request.body = .bytes(body)
                                    let response = try await client.execute(request, timeout: .seconds(600))
                                    for try await chunk in response.body {
                                        var frame = channel.allocator.buffer(capacity: chunk.readableBytes + 5)
                                        frame.writeInteger(UInt32(chunk.readableBytes + 1))
                                        frame.writeInteger(UInt8(ascii: "D"))
                                        frame.writeImmutableBuffer(chunk)
                                        try await channel.writeAndFlush(frame)
                                    }
                                    try await channel.writeAndFlush(channel.allocator.buffer(bytes: [0, 0, 0, 1, UInt8(ascii: "E")]))
                                } catch {
                                    channel.close(promise: nil)
                                }
                            }
                        },
                    ])
                }
            }
            .bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true).get()
        try await server.closeFuture.get()
    }
}

private struct RelayRequestDecoder: ByteToMessageDecoder {
    typealias InboundOut = UInt8

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard buffer.readableBytes >= 5, let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self),
            length == 1
        else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 4)
        context.fireChannelRead(Self.wrapInboundOut(buffer.readInteger(as: UInt8.self)!))
        return .continue
    }
}

private final class RelayHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = UInt8

    let relay: @Sendable (any Channel) -> Void

    init(relay: @escaping @Sendable (any Channel) -> Void) {
        self.relay = relay
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch Self.unwrapInboundIn(data) {
        case UInt8(ascii: "Q"): exit(0)
        default: relay(context.channel)
        }
    }
}
