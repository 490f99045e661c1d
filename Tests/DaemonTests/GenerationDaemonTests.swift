import Foundation
import Protocol
import Synchronization
import Testing
import VectortTesting

#if canImport(Glibc)
import Glibc
#endif

extension DaemonSuite {
    /// Generation through the real daemon binary: the template chain of a fresh install, a
    /// fake OpenAI that fails over to it, a caller that goes away, and a crash mid-generation.
    @Suite("Generation through the daemon")
    struct GenerationDaemonTests {
        static let key = "sk-test-\(UUID().uuidString.prefix(12))"

        /// A user with the default free credits and a draft project.
        static func userAndProject(_ client: AsyncVectortClient, title: String = "Soap Shop") async throws -> (String, String) {
            let user = try await client.call(MethodName.usersCreate, ["email": .string("g\(UUID().uuidString.prefix(8))@example.com")])
            let userID = try #require(user["id"]?.stringValue)
            let project = try await client.call(
                MethodName.projectsCreate, ["user": .string(userID), "title": .string(title), "type": .string("shop")])
            return (userID, try #require(project["id"]?.stringValue))
        }

        /// Whether the user's balance reaches `expected` within the polling timeout.
        static func waitForBalance(_ client: AsyncVectortClient, _ user: String, _ expected: Int64) async throws -> Bool {
            let deadline = ContinuousClock.now + Polling.timeout
            while ContinuousClock.now < deadline {
                if try await balance(client, user) == expected { return true }
                try await Task.sleep(for: .milliseconds(10))
            }
            return try await balance(client, user) == expected
        }

        static func balance(_ client: AsyncVectortClient, _ user: String) async throws -> Int64? {
            try await client.call(MethodName.creditsGetBalance, ["user": .string(user)])["total"]?.intValue
        }

        static func options(chain: String, fake: FakeLLMServer) -> DaemonProcess.Options {
            var options = DaemonProcess.Options()
            options.config = """
                generation:
                  chain: [\(chain)]
                providers:
                  openai:
                    base_url: "\(fake.baseURL)"
                    timeouts: {first_token_seconds: 20}
                    retries: {max: 1, base_seconds: 0.05, cap_seconds: 0.2}

                """
            options.credentials = ["openai-api-key": key]
            return options
        }

        @Test func aFreshInstallGeneratesAStarterAppWithTheTemplateProvider() async throws {
            let daemon = try await DaemonProcess()
            let client = try await daemon.connect()
            let (user, project) = try await Self.userAndProject(client)
            let events = Mutex<[JSONValue]>([])
            let result = try await client.callStreaming(
                MethodName.projectsGenerate,
                ["user": .string(user), "project": .string(project), "prompt": .string("an e-commerce site for handmade soap")],
                timeout: 60
            ) { reply in events.withLock { $0.append(.object(reply.parameters ?? [:])) } }

            #expect(result["provider"] == .string("template"))
            #expect(result["credits_charged"] == .int(2))
            #expect(result["version_number"] == .int(1))
            let files = result["files"]?.arrayValue?.compactMap(\.stringValue) ?? []
            #expect(files.contains("index.html"))
            #expect(files.contains("app.js"))
            let kinds = events.withLock { $0.compactMap { $0["event"]?.stringValue } }
            #expect(kinds.first == "started")
            #expect(kinds.contains("attempt"))
            #expect(kinds.filter { $0 == "file" }.count == files.count)
            #expect(kinds.suffix(2) == ["validation", "completed"])
            #expect(try await Self.balance(client, user) == 8)

            let code = try await client.call(
                MethodName.projectsGetCode, ["user": .string(user), "project": .string(project), "path": .string("index.html")])
            let html = code["files"]?.arrayValue?.first?["contents"]?.stringValue ?? ""
            #expect(html.contains("<html"))
            let providers = try await client.call(MethodName.providersList)
            #expect(providers["chain"] == .array([.string("template")]))
            let generations = try await client.call(
                MethodName.projectsListGenerations, ["user": .string(user), "project": .string(project)])
            #expect(generations["generations"]?.arrayValue?.first?["status"] == .string("completed"))
        }

        @Test func aFailingOpenAIFallsBackToTheTemplateAndTheKeyNeverLeaks() async throws {
            try await withFakeLLMServer(.openai, apiKey: Self.key) { fake in
                fake.setDefaultScript(.insufficientQuota)
                let daemon = try await DaemonProcess(Self.options(chain: "openai, template", fake: fake))
                let client = try await daemon.connect()
                let (user, project) = try await Self.userAndProject(client)
                let events = Mutex<[JSONValue]>([])
                let result = try await client.callStreaming(
                    MethodName.projectsGenerate,
                    ["user": .string(user), "project": .string(project), "prompt": .string("a shop")], timeout: 60
                ) { reply in events.withLock { $0.append(.object(reply.parameters ?? [:])) } }

                #expect(result["provider"] == .string("template"))
                #expect(fake.callCount == 1, "insufficient_quota must not be retried")
                #expect(fake.lastRequest?.header("authorization") == "Bearer \(Self.key)")
                let fallback = events.withLock { $0.first { $0["event"] == .string("fallback") } }
                #expect(fallback?["provider"] == .string("openai"))
                #expect(fallback?["to"] == .string("template"))
                #expect(fallback?["reason"] == .string("quota_exhausted"))
                #expect(try await Self.balance(client, user) == 8)

                let providers = try await client.call(MethodName.providersList)
                let openai = providers["providers"]?.arrayValue?.first { $0["name"] == .string("openai") }
                #expect(openai?["chain_position"] == .int(1))
                #expect(openai?["last_error"]?.stringValue?.contains("quota") == true)
                let record = try await client.call(
                    MethodName.projectsListGenerations, ["user": .string(user), "project": .string(project)])
                let attempts = record["generations"]?.arrayValue?.first?["attempts"]?.arrayValue ?? []
                #expect(attempts.compactMap { $0["outcome"]?.stringValue } == ["failed", "success"])
                #expect(attempts.first?["status"] == .int(429))

                daemon.signal(SIGTERM)
                _ = await daemon.waitForExit()
                #expect(!daemon.output.contains(Self.key))
            }
        }

        @Test func everyProviderFailingIsUnavailableAndChargesNothing() async throws {
            try await withFakeLLMServer(.openai, apiKey: Self.key) { fake in
                fake.setDefaultScript(.serverError)
                let daemon = try await DaemonProcess(Self.options(chain: "openai", fake: fake))
                let client = try await daemon.connect()
                let (user, project) = try await Self.userAndProject(client)
                do {
                    _ = try await client.call(
                        MethodName.projectsGenerate,
                        ["user": .string(user), "project": .string(project), "prompt": .string("a shop")], timeout: 60)
                    Issue.record("expected io.vectort.Unavailable")
                } catch let error as VectortClientError {
                    guard let wire = error.remoteError else { throw error }
                    #expect(wire.name == .unavailable)
                    #expect(wire.details["reason"] == .string("server_error"))
                }
                #expect(fake.callCount == 2)
                #expect(try await Self.balance(client, user) == 10)
            }
        }

        @Test func aCallerThatGoesAwayGetsItsCreditsBack() async throws {
            try await withFakeLLMServer(.openai, apiKey: Self.key) { fake in
                fake.setDefaultScript(.stall(beforeFirstToken: .seconds(60)))
                let daemon = try await DaemonProcess(Self.options(chain: "openai", fake: fake))
                let client = try await daemon.connect()
                let (user, project) = try await Self.userAndProject(client)

                let leaving = try await AsyncVectortClient.connect(socketPath: daemon.socketPath, timeout: 10)
                try await leaving.send(
                    CallRequest(
                        method: MethodName.projectsGenerate,
                        parameters: ["user": .string(user), "project": .string(project), "prompt": .string("a shop")],
                        more: true))
                #expect(await fake.waitUntil { $0.calls == 1 })
                // The provider call starts beside the hold's transaction: wait for the hold too.
                #expect(try await Self.waitForBalance(client, user, 8))
                leaving.close()

                let deadline = ContinuousClock.now + .seconds(10)
                while try await Self.balance(client, user) != 10, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(20))
                }
                #expect(try await Self.balance(client, user) == 10)
                let record = try await client.call(
                    MethodName.projectsListGenerations, ["user": .string(user), "project": .string(project)])
                #expect(record["generations"]?.arrayValue?.first?["status"] == .string("cancelled"))
                #expect(await fake.waitUntil { $0.clientDisconnects >= 1 })
            }
        }

        @Test func aCrashDuringAGenerationReleasesItsHoldAtRestart() async throws {
            try await withFakeLLMServer(.openai, apiKey: Self.key) { fake in
                fake.setDefaultScript(.stall(beforeFirstToken: .seconds(60)))
                let directory = try TemporaryDirectory(prefix: "vtgk9")
                let options = Self.options(chain: "openai", fake: fake)
                var user = ""
                var project = ""
                do {
                    let daemon = try await DaemonProcess(options, in: directory)
                    let client = try await daemon.connect()
                    (user, project) = try await Self.userAndProject(client)
                    let caller = try await AsyncVectortClient.connect(socketPath: daemon.socketPath, timeout: 10)
                    try await caller.send(
                        CallRequest(
                            method: MethodName.projectsGenerate,
                            parameters: ["user": .string(user), "project": .string(project), "prompt": .string("a shop")]))
                    #expect(await fake.waitUntil { $0.calls == 1 })
                    #expect(try await Self.waitForBalance(client, user, 8))
                    daemon.signal(SIGKILL)
                    _ = await daemon.waitForExit()
                }
                let daemon = try await DaemonProcess(options, in: directory)
                let client = try await daemon.connect()
                #expect(try await Self.balance(client, user) == 10)
                let record = try await client.call(
                    MethodName.projectsListGenerations, ["user": .string(user), "project": .string(project)])
                let generation = record["generations"]?.arrayValue?.first
                #expect(generation?["status"] == .string("failed"))
                #expect(generation?["error"] == .string("interrupted"))
                let verify = try await client.call(MethodName.creditsVerify)
                #expect(verify["mismatches"]?.arrayValue?.isEmpty == true, "\(verify)")
            }
        }

        @Test func sigtermDuringAStreamingGenerationAnswersUnavailableAndRecordsTheFailure() async throws {
            try await withFakeLLMServer(.openai, apiKey: Self.key) { fake in
                fake.setDefaultScript(.stall(beforeFirstToken: .seconds(60)))
                let directory = try TemporaryDirectory(prefix: "vtgst")
                var options = Self.options(chain: "openai", fake: fake)
                options.config! += "shutdown:\n  grace_seconds: 0.5\n"
                var user = ""
                var project = ""
                do {
                    let daemon = try await DaemonProcess(options, in: directory)
                    let client = try await daemon.connect()
                    (user, project) = try await Self.userAndProject(client)
                    let caller = try await daemon.connect(callTimeout: 60)
                    let events = Mutex<[String]>([])
                    let generation = Task {
                        try await caller.callStreaming(
                            MethodName.projectsGenerate,
                            ["user": .string(user), "project": .string(project), "prompt": .string("a shop")], timeout: 60
                        ) { reply in events.withLock { $0.append(reply.parameters?["event"]?.stringValue ?? "") } }
                    }
                    #expect(await fake.waitUntil { $0.calls == 1 })
                    #expect(try await Self.waitForBalance(client, user, 8))
                    daemon.signal(SIGTERM)
                    do {
                        _ = try await generation.value
                        Issue.record("expected io.vectort.Unavailable")
                    } catch let error as VectortClientError {
                        _ = await daemon.waitForExit()
                        let wire = try #require(error.remoteError, "the caller got \(error), not a reply: \(daemon.output)")
                        #expect(wire.name == .unavailable)
                        #expect(wire.message.contains("shutting down"))
                    }
                    #expect(events.withLock { $0.first } == "started")
                    #expect(await daemon.waitForExit() == 0)
                }
                // Recorded before the daemon exited: the next start finds nothing to recover.
                let daemon = try await DaemonProcess(options, in: directory)
                let client = try await daemon.connect()
                let record = try await client.call(
                    MethodName.projectsListGenerations, ["user": .string(user), "project": .string(project)])
                let generation = record["generations"]?.arrayValue?.first
                #expect(generation?["status"] == .string("failed"))
                #expect(generation?["error"] == .string("shutdown"))
                #expect(try await Self.balance(client, user) == 10)
                #expect(!daemon.output.contains("interrupted by the previous run"))
            }
        }
    }
}
