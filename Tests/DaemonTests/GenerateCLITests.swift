import Foundation
import Protocol
import Testing
import VectortTesting

extension DaemonSuite {
    /// `generate`, `generations`, `providers` and `code` run as the real `vectortctl` against a fake
    /// control socket that answers as the daemon's generation methods are specified to.
    @Suite("generate, generations, providers and code through vectortctl")
    struct GenerateCLITests {
        static func ctl(_ arguments: [String], socket: FakeControlSocket? = nil) async throws -> CommandResult {
            var environment = ["PATH": "/usr/bin:/bin", "TZ": "UTC"]
            if let socket { environment["VECTORTD_SOCKET"] = socket.path }
            return try await runCommand(Binaries.vectortctl, arguments, environment: environment)
        }

        /// The lines of a table with runs of spaces made single, so that rows compare without column widths.
        static func rows(_ text: String) -> [String] {
            text.split(separator: "\n").map { $0.split(separator: " ").joined(separator: " ") }
        }

        static func jsonLines(_ text: String) throws -> [JSONValue] {
            try text.split(separator: "\n").map { try JSONDecoder().decode(JSONValue.self, from: Data($0.utf8)) }
        }

        static func event(_ kind: GenerationEvent.Kind, _ fill: (inout GenerationEvent) -> Void = { _ in }) -> GenerationEvent {
            var event = GenerationEvent(kind)
            fill(&event)
            return event
        }

        /// A generation that is rate limited, falls back, is cut off once, and passes validation.
        static let events: [GenerationEvent] = [
            event(.started) { $0.generation = "g_1"; $0.project = "p_1"; $0.mode = .quick; $0.creditsHeld = 2 },
            event(.attempt) { $0.provider = "openai"; $0.model = "gpt-4o"; $0.attempt = 1; $0.purpose = "generate" },
            event(.retry) {
                $0.provider = "openai"; $0.reason = "rate_limited"; $0.message = "429 Too Many Requests"
                $0.delaySeconds = 2
            },
            event(.attempt) { $0.provider = "openai"; $0.model = "gpt-4o"; $0.attempt = 2; $0.purpose = "generate" },
            event(.fallback) {
                $0.provider = "openai"; $0.to = "anthropic"; $0.reason = "authentication"; $0.message = "invalid x-api-key"
            },
            event(.attempt) { $0.provider = "anthropic"; $0.model = "claude-sonnet-4"; $0.attempt = 1 },
            event(.file) { $0.path = "src/App.jsx"; $0.bytes = 1234 },
            event(.continue) { $0.provider = "anthropic"; $0.path = "src/App.jsx" },
            event(.attempt) { $0.provider = "anthropic"; $0.model = "claude-sonnet-4"; $0.attempt = 1; $0.purpose = "continue" },
            event(.file) { $0.path = "index.html"; $0.bytes = 512 },
            event(.validation) { $0.passed = true; $0.issues = [] },
            event(.completed) { $0.generation = "g_1"; $0.version = "v_9" },
        ]

        static let result = GenerationResult(
            generation: "g_1", project: "p_1", version: "v_9", versionNumber: 3, provider: "anthropic",
            model: "claude-sonnet-4", files: ["index.html", "src/App.jsx"], creditsCharged: 2,
            usage: GenerationUsage(inputTokens: 1200, outputTokens: 3400), attempts: 4, durationMs: 12_345)

        static func generating(_ steps: [FakeControlSocket.Step]) throws -> FakeControlSocket {
            try FakeControlSocket { request in
                request.method == MethodName.projectsGenerate ? steps : [.error(.methodNotFound(request.method))]
            }
        }

        @Test func generateShowsEachStepAsItArrivesThenASummary() async throws {
            let socket = try Self.generating(Self.events.map { .event($0) } + [.result(Self.result)])
            let run = try await Self.ctl(["generate", "p_1", "a todo list with due dates"], socket: socket)
            #expect(run.status == 0, "stderr: \(run.stderr)")
            #expect(
                run.stdout == """
                    generation g_1 started (quick, 2 credits held)
                    → openai gpt-4o (attempt 1)
                      retry in 2.0 s: rate_limited: 429 Too Many Requests
                    → openai gpt-4o (attempt 2)
                      fallback openai → anthropic: authentication: invalid x-api-key
                    → anthropic claude-sonnet-4 (attempt 1)
                      + src/App.jsx (1.2 KB)
                      continuing (cut off in src/App.jsx)
                    → anthropic claude-sonnet-4 (attempt 1, continue)
                      + index.html (512 B)
                      validation: passed
                    generated p_1 version 3 (v_9)
                      generation  g_1
                      provider    anthropic claude-sonnet-4
                      files       2
                      credits     2 charged
                      tokens      1200 in, 3400 out
                      attempts    4
                      duration    12.3 s

                    """)
            let request = try #require(socket.requests(MethodName.projectsGenerate).first)
            #expect(request.wantsMore)
            #expect(request.parameters == ["project": "p_1", "prompt": "a todo list with due dates", "mode": "quick"])
        }

        @Test func generateWithJSONPrintsEachEventAsALineThenTheResult() async throws {
            let socket = try Self.generating(Self.events.map { .event($0) } + [.result(Self.result)])
            let run = try await Self.ctl(
                [
                    "--json", "generate", "p_1", "a blog", "--mode", "advanced", "--user", "u_1",
                    "--idempotency-key", "k-1",
                ], socket: socket)
            #expect(run.status == 0, "stderr: \(run.stderr)")
            let lines = try Self.jsonLines(run.stdout)
            #expect(lines.count == Self.events.count + 1)
            #expect(Array(lines.dropLast()) == (try Self.events.map { try JSONValue(encoding: $0) }))
            #expect(try lines.last?.decode(as: GenerationResult.self) == Self.result)
            let request = try #require(socket.requests(MethodName.projectsGenerate).first)
            #expect(
                request.parameters == [
                    "project": "p_1", "prompt": "a blog", "mode": "advanced", "user": "u_1", "idempotency_key": "k-1",
                ])
        }

        @Test func validationIssuesAndEventsThisClientDoesNotKnowAreShown() async throws {
            let issues = [
                GenerationIssue(path: "src/App.jsx", rule: "syntax", message: "unexpected token", line: 12),
                GenerationIssue(path: nil, rule: "entry", message: "no index.html"),
            ]
            let socket = try Self.generating([
                .reply(CallReply(parameters: ["event": "planned", "steps": 3], continues: true)),
                .event(Self.event(.validation) { $0.passed = false; $0.issues = issues }),
                .result(Self.result),
            ])
            let run = try await Self.ctl(["generate", "p_1", "an app"], socket: socket)
            #expect(run.status == 0, "stderr: \(run.stderr)")
            #expect(
                run.stdout.hasPrefix(
                    """
                      planned
                      validation: 2 issues
                        src/App.jsx:12: syntax: unexpected token
                        entry: no index.html
                    generated p_1 version 3 (v_9)

                    """))
        }

        @Test func generationFailedExitsTwoAndListsItsIssues() async throws {
            let issues = [GenerationIssue(path: "src/App.jsx", rule: "syntax", message: "unclosed tag", line: 3)]
            let failure = WireError(
                .generationFailed, "the answers never became a valid app",
                ["reason": "invalid_output", "issues": try JSONValue(encoding: issues)])
            let socket = try Self.generating([.event(Self.events[0]), .error(failure)])
            let run = try await Self.ctl(["generate", "p_1", "an app"], socket: socket)
            #expect(run.status == 2)
            #expect(run.stdout == "generation g_1 started (quick, 2 credits held)\n")
            #expect(
                run.stderr == """
                    vectortctl: io.vectort.GenerationFailed: the answers never became a valid app
                      issues:
                        src/App.jsx:3: syntax: unclosed tag

                    """)

            let json = try await Self.ctl(["generate", "p_1", "an app", "--json"], socket: socket)
            #expect(json.status == 2)
            #expect(try Self.jsonLines(json.stdout).count == 1)
            let error = try JSONDecoder().decode(JSONValue.self, from: Data(json.stderr.utf8))
            #expect(error["error"] == "io.vectort.GenerationFailed")
            #expect(error["parameters"]?["issues"]?.arrayValue?.count == 1)
        }

        @Test func insufficientCreditsAndUnavailableExitTwoWithTheErrorName() async throws {
            let credits = WireError(
                .insufficientCredits, "4 credits needed, 2 available", ["required": 4, "available": 2])
            let poor = try Self.generating([.error(credits)])
            let refused = try await Self.ctl(["generate", "p_1", "an app", "--mode", "advanced"], socket: poor)
            #expect(refused.status == 2)
            #expect(refused.stdout.isEmpty)
            #expect(refused.stderr == "vectortctl: io.vectort.InsufficientCredits: 4 credits needed, 2 available\n")

            let down = try Self.generating([
                .event(Self.events[0]), .error(.unavailable("every provider failed", retryAfterSeconds: 30)),
            ])
            let unavailable = try await Self.ctl(["generate", "p_1", "an app"], socket: down)
            #expect(unavailable.status == 2)
            #expect(unavailable.stderr.contains("io.vectort.Unavailable: every provider failed"))
            #expect(unavailable.stderr.contains("retry after 30.0 s"))
            let json = try await Self.ctl(["generate", "p_1", "an app", "--json"], socket: down)
            #expect(json.status == 2)
            let error = try JSONDecoder().decode(JSONValue.self, from: Data(json.stderr.utf8))
            #expect(error["error"] == "io.vectort.Unavailable")
            #expect(error["parameters"]?["retry_after_seconds"] == 30)
        }

        @Test func generateGivesUpAtItsTimeoutWithExitFiveAfterShowingProgress() async throws {
            let socket = try Self.generating([.event(Self.events[0]), .pause(.seconds(8)), .result(Self.result)])
            let start = ContinuousClock.now
            let run = try await Self.ctl(["generate", "p_1", "an app", "--timeout", "1"], socket: socket)
            #expect(run.status == 5)
            #expect(ContinuousClock.now - start < .seconds(6))
            #expect(run.stdout == "generation g_1 started (quick, 2 credits held)\n")
            #expect(run.stderr.contains("no reply from vectortd within 1.0 s"))
        }

        @Test func badModeEmptyPromptAndBadLimitAreUsageErrors() async throws {
            #expect(try await Self.ctl(["generate", "p_1", "an app", "--mode", "fast"]).status == 64)
            #expect(try await Self.ctl(["generate", "p_1", "  "]).status == 64)
            #expect(try await Self.ctl(["generate", "p_1"]).status == 64)
            #expect(try await Self.ctl(["generations", "p_1", "--limit", "0"]).status == 64)
            #expect(try await Self.ctl(["code", "p_1", "--force"]).status == 64)
        }
    }
}

extension DaemonSuite.GenerateCLITests {
    static let providers = ProviderList(
        providers: [
            ProviderInfo(
                name: "openai", kind: "openai", model: "gpt-4o", state: "open", chainPosition: 1, failures: 5,
                lastError: "rate_limited: 429 Too Many Requests from the upstream API after several retries",
                lastErrorAt: "2025-06-01T12:30:00Z", openUntil: "2025-06-01T12:34:56Z", latencyMsP50: 812.4,
                successRate: 0.625, calls: 8),
            ProviderInfo(
                name: "anthropic", kind: "anthropic", model: "claude-sonnet-4", state: "closed", chainPosition: 2,
                failures: 0, lastError: nil, lastErrorAt: nil, openUntil: nil, latencyMsP50: 1500, successRate: 1,
                calls: 3),
            ProviderInfo(
                name: "template", kind: "template", model: "static", state: "half_open", chainPosition: nil,
                failures: 1, lastError: nil, lastErrorAt: nil, openUntil: nil, latencyMsP50: nil, successRate: nil,
                calls: 0),
        ],
        chain: ["openai", "anthropic"])

    static func providersSocket(resetReply: JSONValue? = nil) throws -> FakeControlSocket {
        try FakeControlSocket { request in
            switch request.method {
            case MethodName.providersList:
                return [.result(providers)]
            case MethodName.providersReset:
                guard let reply = resetReply?.objectValue else {
                    var closed = providers.providers[0]
                    closed.state = "closed"
                    closed.failures = 0
                    closed.openUntil = nil
                    return [.result(closed)]
                }
                return [.reply(CallReply(parameters: reply))]
            default:
                return [.error(.methodNotFound(request.method))]
            }
        }
    }

    @Test func providersTableShowsChainStateRatesAndTheLastError() async throws {
        let socket = try Self.providersSocket()
        let run = try await Self.ctl(["providers"], socket: socket)
        #expect(run.status == 0, "stderr: \(run.stderr)")
        #expect(
            Self.rows(run.stdout) == [
                "NAME KIND MODEL CHAIN STATE FAILURES SUCCESS P50 MS LAST ERROR",
                "openai openai gpt-4o 1 open until 12:34:56 5 63% 812 rate_limited: 429 Too Many Requests from the up…",
                "anthropic anthropic claude-sonnet-4 2 closed 0 100% 1500",
                "template template static - half_open 1 - -",
                "chain: openai → anthropic",
            ])
        for arguments in [["providers", "--json"], ["--json", "providers"], ["providers", "list", "--json"]] {
            let json = try await Self.ctl(arguments, socket: socket)
            #expect(json.status == 0, "\(arguments): \(json.stderr)")
            #expect(try JSONDecoder().decode(ProviderList.self, from: Data(json.stdout.utf8)) == Self.providers)
        }
    }

    @Test func providersResetPrintsTheProvidersNewState() async throws {
        let socket = try Self.providersSocket()
        let run = try await Self.ctl(["providers", "reset", "openai"], socket: socket)
        #expect(run.status == 0, "stderr: \(run.stderr)")
        #expect(run.stdout == "reset openai: closed, 0 failures\n")
        #expect(socket.requests(MethodName.providersReset).first?.parameters == ["provider": "openai"])
        let json = try await Self.ctl(["--json", "providers", "reset", "openai"], socket: socket)
        let info = try JSONDecoder().decode(ProviderInfo.self, from: Data(json.stdout.utf8))
        #expect(info.state == "closed")

        let wrapped = try Self.providersSocket(resetReply: ["provider": try JSONValue(encoding: Self.providers.providers[2])])
        #expect(try await Self.ctl(["providers", "reset", "template"], socket: wrapped).stdout == "reset template: half_open, 1 failures\n")

        let denied = try FakeControlSocket { _ in
            [.error(.permissionDenied(method: MethodName.providersReset, requiredRole: .admin))]
        }
        #expect(try await Self.ctl(["providers", "reset", "openai"], socket: denied).status == 4)
    }

    @Test func generationsTableShowsOutcomeCostAndError() async throws {
        let usage = GenerationUsage(inputTokens: 10, outputTokens: 20)
        let attempt = GenerationAttempt(
            provider: "openai", model: "gpt-4o", purpose: "generate", outcome: "failed", error: "rate_limited",
            durationMs: 300, startedAt: "2025-06-01T12:00:00Z")
        let list = GenerationList(
            project: "p_1",
            generations: [
                GenerationRecord(
                    id: "g_2", project: "p_1", user: "u_1", mode: .advanced, status: .failed, version: nil,
                    provider: nil, model: nil, creditsHeld: 4, creditsCharged: 0, usage: usage,
                    error: "io.vectort.Unavailable", errorMessage: "every provider failed", attempts: [attempt, attempt],
                    startedAt: "2025-06-01T12:00:00Z", finishedAt: "2025-06-01T12:00:09Z", durationMs: 9_100),
                GenerationRecord(
                    id: "g_1", project: "p_1", user: "u_1", mode: .quick, status: .completed, version: "v_1",
                    provider: "openai", model: "gpt-4o", creditsHeld: 2, creditsCharged: 2, usage: usage, error: nil,
                    errorMessage: nil, attempts: [attempt], startedAt: "2025-05-31T08:00:00Z",
                    finishedAt: "2025-05-31T08:00:01Z", durationMs: 850),
                GenerationRecord(
                    id: "g_3", project: "p_1", user: "u_1", mode: .quick, status: .running, version: nil,
                    provider: nil, model: nil, creditsHeld: 2, creditsCharged: 0, usage: usage, error: nil,
                    errorMessage: nil, attempts: [], startedAt: "2025-06-01T13:00:00Z", finishedAt: nil,
                    durationMs: nil),
            ])
        let socket = try FakeControlSocket { request in
            request.method == MethodName.projectsListGenerations ? [.result(list)] : [.error(.methodNotFound(request.method))]
        }
        let run = try await Self.ctl(["generations", "p_1", "--limit", "3"], socket: socket)
        #expect(run.status == 0, "stderr: \(run.stderr)")
        #expect(
            Self.rows(run.stdout) == [
                "ID STATUS STARTED MODE MODEL CREDITS ATTEMPTS DURATION ERROR",
                "g_2 failed 2025-06-01T12:00:00Z advanced - 0 2 9.1 s io.vectort.Unavailable: every provider failed",
                "g_1 completed 2025-05-31T08:00:00Z quick openai/gpt-4o 2 1 850 ms",
                "g_3 running 2025-06-01T13:00:00Z quick - 0 0 -",
            ])
        #expect(socket.requests(MethodName.projectsListGenerations).first?.parameters == ["project": "p_1", "limit": 3])
        let json = try await Self.ctl(["generations", "p_1", "--json"], socket: socket)
        #expect(try JSONDecoder().decode(GenerationList.self, from: Data(json.stdout.utf8)) == list)
    }
}

extension DaemonSuite.GenerateCLITests {
    static func codeSocket(_ files: [ProjectFile]) throws -> FakeControlSocket {
        try FakeControlSocket { request in
            guard request.method == MethodName.projectsGetCode else { return [.error(.methodNotFound(request.method))] }
            return [.result(ProjectCode(project: "p_1", version: "v_2", files: files))]
        }
    }

    static let files = [
        ProjectFile(path: "index.html", contents: "<div id=root></div>\n"),
        ProjectFile(path: "src/components/List.jsx", contents: "export default function List() {}\n"),
    ]

    @Test func codeListsTheFilesOrWritesThemUnderADirectory() async throws {
        let socket = try Self.codeSocket(Self.files)
        let list = try await Self.ctl(["code", "p_1", "--version", "2"], socket: socket)
        #expect(list.status == 0, "stderr: \(list.stderr)")
        #expect(Self.rows(list.stdout) == ["p_1 version v_2", "PATH BYTES", "index.html 20", "src/components/List.jsx 34"])
        #expect(socket.requests(MethodName.projectsGetCode).first?.parameters == ["project": "p_1", "version": "2"])

        let directory = try TemporaryDirectory(prefix: "vto")
        let output = directory.file("app")
        let written = try await Self.ctl(["code", "p_1", "-o", output], socket: socket)
        #expect(written.status == 0, "stderr: \(written.stderr)")
        #expect(written.stdout == "wrote 2 files (54 bytes) of p_1 version v_2 to \(output)\n")
        for file in Self.files {
            #expect(try String(contentsOfFile: output + "/" + file.path, encoding: .utf8) == file.contents)
        }

        let again = try await Self.ctl(["code", "p_1", "-o", output, "--json"], socket: socket)
        #expect(again.status == 1)
        let error = try JSONDecoder().decode(JSONValue.self, from: Data(again.stderr.utf8))
        #expect(error["message"] == .string("\(output) is not empty; pass --force to write into it"))
        let forced = try await Self.ctl(["code", "p_1", "-o", output, "--json", "--force"], socket: socket)
        #expect(forced.status == 0, "stderr: \(forced.stderr)")
        let report = try JSONDecoder().decode(JSONValue.self, from: Data(forced.stdout.utf8))
        #expect(report["directory"] == .string(output))
        #expect(report["files"]?.arrayValue?.map { $0["bytes"] } == [20, 34])
    }

    @Test func codeRefusesPathsThatWouldLeaveTheDirectory() async throws {
        let directory = try TemporaryDirectory(prefix: "vte")
        for path in ["../escaped.txt", "/tmp/escaped.txt", "src/../../escaped.txt", "src//a.txt", "./a.txt"] {
            let socket = try Self.codeSocket(Self.files + [ProjectFile(path: path, contents: "x")])
            let output = directory.file("out")
            let run = try await Self.ctl(["code", "p_1", "-o", output], socket: socket)
            #expect(run.status == 1, "\(path)")
            #expect(run.stderr.contains("refusing to write \(path)"), "\(path): \(run.stderr)")
            #expect(!FileManager.default.fileExists(atPath: output), "\(path): something was written")
            #expect(!FileManager.default.fileExists(atPath: directory.file("escaped.txt")))
        }

        // With --force into a directory holding a link to elsewhere, the link is not followed.
        let outside = directory.file("outside")
        let output = directory.file("linked")
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: output + "/src", withDestinationPath: outside)
        let run = try await Self.ctl(["code", "p_1", "-o", output, "--force"], socket: try Self.codeSocket(Self.files))
        #expect(run.status == 1)
        #expect(run.stderr.contains("is a symbolic link"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside).isEmpty)
    }

    @Test func codeWritesAnImportedVersionBackOutOfARealDaemon() async throws {
        let harness = try await DaemonSuite.AccountsCLITests.Harness()
        let user = try await harness.createUser("code@example.com")
        let project = try await harness.json(Project.self, ["projects", "create", user.id, "Round trip"])
        let source = try TemporaryDirectory(prefix: "vts")
        try source.write("index.html", "<h1>hi</h1>\n")
        try source.write("src/deep/util.js", "export const x = 1;\n")
        #expect(try await harness.ctl(["projects", "import", project.id, source.path]).status == 0)

        let target = try TemporaryDirectory(prefix: "vtr")
        let output = target.file("copy")
        let run = try await harness.ctl(["code", project.id, "-o", output])
        #expect(run.status == 0, "stderr: \(run.stderr)")
        #expect(try String(contentsOfFile: output + "/index.html", encoding: .utf8) == "<h1>hi</h1>\n")
        #expect(try String(contentsOfFile: output + "/src/deep/util.js", encoding: .utf8) == "export const x = 1;\n")
    }

    @Test func newCommandsAreInTheHelpCompletionsAndManPageSource() async throws {
        let help = try await Self.ctl(["--help"])
        for command in ["generate", "generations", "code", "providers"] {
            #expect(help.stdout.contains(command), "--help lacks \(command)")
            let own = try await Self.ctl([command, "--help"])
            #expect(own.status == 0)
            #expect(own.stdout.contains("Example"), "\(command) --help has no example")
        }
        let dump = try await Self.ctl(["--experimental-dump-help"])
        for text in ["vectortctl generate p_3f2a", "vectortctl code p_3f2a", "providers reset anthropic"] {
            #expect(dump.stdout.contains(text), "man page source lacks \(text)")
        }
        let completion = try await Self.ctl(["--generate-completion-script", "bash"])
        #expect(completion.stdout.contains("generations"))
        #expect(completion.stdout.contains("'quick'") && completion.stdout.contains("'advanced'"))
    }
}
