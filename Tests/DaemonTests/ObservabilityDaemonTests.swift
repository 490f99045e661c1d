import Foundation
import Protocol
import Synchronization
import Testing
import VectortTesting

extension DaemonSuite {
    /// Metrics, the event stream and spend through the real daemon: `/metrics` read by
    /// prometheus_client's own parser, `Service.GetStats`, `Events.Subscribe` with a subscriber
    /// that reads and one that stalls, and `Usage.Summary` against the generation records.
    @Suite("observability through the daemon: metrics, events, spend")
    struct ObservabilityDaemonTests {
        static let secret = "whsec_obs_\(UUID().uuidString.prefix(8))"

        /// The template provider priced at $3 / $15 per million tokens, and payments on a fake Stripe.
        static func options(_ stripe: FakeStripe, extra: String = "") -> DaemonProcess.Options {
            var options = DaemonProcess.Options()
            options.config = """
                generation:
                  chain: [template]
                providers:
                  template:
                    price:
                      input_per_mtok: {amount_minor: 300, currency: usd}
                      output_per_mtok: {amount_minor: 1500, currency: usd}
                stripe:
                  api_base: "\(stripe.baseURL)"
                payments:
                  success_url: "https://app.example/billing/done"
                  reconcile_minutes: 600
                \(extra)
                """
            options.credentials["stripe-secret-key"] = stripe.secretKey
            options.credentials["stripe-webhook-secret"] = secret
            return options
        }

        /// The Python of `make test`'s environment, with prometheus_client from PyPI.
        static var python: String {
            if let given = ProcessInfo.processInfo.environment["VECTORT_TEST_PYTHON"], !given.isEmpty { return given }
            let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            return root.appendingPathComponent(".build/test-python/bin/python3").path
        }

        static var parser: String {
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("tools/prometheus-parse.py").path
        }

        /// `/metrics` parsed by prometheus_client: samples by name, each with its labels and value.
        static func scrape(_ address: String) async throws -> [(name: String, labels: [String: String], value: Double)] {
            let result = try await runCommand(python, [parser, "http://\(address)/metrics"])
            try #require(result.status == 0, "prometheus_client could not read /metrics (run make test for its venv): \(result.stderr)")
            let document = try JSONDecoder().decode(JSONValue.self, from: Data(result.stdout.utf8))
            #expect(document["content_type"]?.stringValue?.hasPrefix("text/plain; version=0.0.4") == true)
            var samples: [(String, [String: String], Double)] = []
            for family in document["families"]?.arrayValue ?? [] {
                for sample in family["samples"]?.arrayValue ?? [] {
                    let labels = (sample["labels"]?.objectValue ?? [:]).compactMapValues(\.stringValue)
                    let value: Double =
                        switch sample["value"] {
                        case .int(let number): Double(number)
                        case .double(let number): number
                        default: .nan
                        }
                    samples.append((sample["name"]?.stringValue ?? "", labels, value))
                }
            }
            return samples
        }

        static func value(
            _ samples: [(name: String, labels: [String: String], value: Double)], _ name: String, _ labels: [String: String] = [:]
        ) -> Double? {
            let matching = samples.filter { sample in
                sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value }
            }
            return matching.isEmpty ? nil : matching.reduce(0) { $0 + $1.value }
        }

        static func listener(_ client: AsyncVectortClient, _ name: String) async throws -> String {
            let deadline = ContinuousClock.now + .seconds(20)
            while ContinuousClock.now < deadline {
                if let address = try await client.call(MethodName.getInfo)["listeners"]?[name]?.stringValue { return address }
                try await Task.sleep(for: .milliseconds(10))
            }
            Issue.record("the \(name) listener did not start")
            throw CancellationError()
        }

        @Test func countersAndHistogramsMoveWithGenerationsPaymentsAndHTTPCallsAndCarryNoIDs() async throws {
            let stripe = try await FakeStripe.start()
            defer { Task { await stripe.shutdown() } }
            let daemon = try await DaemonProcess(Self.options(stripe))
            let client = try await daemon.connect()
            let metrics = try await Self.listener(client, "metrics")
            let api = try await Self.listener(client, "api")
            let webhook = try await Self.listener(client, "webhook")

            let user = try #require(try await client.call(MethodName.usersCreate, ["email": "watched@example.com"])["id"]?.stringValue)
            let project = try #require(
                try await client.call(MethodName.projectsCreate, ["user": .string(user), "title": "Soap Shop", "type": "shop"])["id"]?
                    .stringValue)
            let result = try await client.call(
                MethodName.projectsGenerate, ["user": .string(user), "project": .string(project), "prompt": "a shop for soap"],
                timeout: 60)
            let generation = try #require(result["generation"]?.stringValue)
            // The template reports its tokens; at $3 / $15 per million the cost is exact.
            let input = try #require(result["usage"]?["input_tokens"]?.intValue)
            let output = try #require(result["usage"]?["output_tokens"]?.intValue)
            let micros = (input * 300 + output * 1500) * 10_000
            #expect(result["cost"] == .object(["amount_micros": .int((micros + 500_000) / 1_000_000), "currency": "usd"]))

            let purchase = try await client.call(MethodName.creditsPurchase, ["user": .string(user), "package": "starter"])
            let session = try #require(purchase["payment"]?["checkout_session"]?.stringValue)
            let body = stripe.complete(session)
            let signature = FakeStripe.signatureHeader(body: body, secrets: [Self.secret], timestamp: Int(Date().timeIntervalSince1970))
            #expect(try await FakeStripe.deliver(body, to: "http://\(webhook)/api/webhook/stripe", signature: signature).status == 200)
            #expect(try await FakeStripe.get("http://\(api)/api/projects/\(project)").status == 401)
            #expect(try await FakeStripe.get("http://\(api)/healthz").status == 200)
            _ = try? await client.call("io.vectort.Nope.Missing")

            let samples = try await Self.scrape(metrics)
            #expect(Self.value(samples, "vectortd_registrations_total", ["via": "control"]) == 1)
            #expect(
                Self.value(samples, "vectortd_generations_total", ["mode": "quick", "provider": "template", "outcome": "completed"]) == 1)
            #expect(Self.value(samples, "vectortd_generation_duration_seconds_count", ["mode": "quick", "outcome": "completed"]) == 1)
            #expect(Self.value(samples, "vectortd_generation_first_file_seconds_count", ["mode": "quick"]) == 1)
            #expect(
                Self.value(samples, "vectortd_provider_attempts_total", ["provider": "template", "outcome": "success"]) == 1)
            #expect(Self.value(samples, "vectortd_provider_tokens_total", ["provider": "template", "kind": "output"]) == Double(output))
            let spend = try #require(Self.value(samples, "vectortd_provider_spend_total", ["provider": "template", "currency": "usd"]))
            #expect(abs(spend - Double((micros + 500_000) / 1_000_000) / 1e6) < 1e-9)
            #expect(Self.value(samples, "vectortd_credits_total", ["operation": "spent", "bucket": "free"]) == 2)
            #expect(Self.value(samples, "vectortd_credits_total", ["operation": "granted", "bucket": "topup"]) == 80)
            #expect(Self.value(samples, "vectortd_checkout_sessions_created_total", ["package": "starter"]) == 1)
            #expect(Self.value(samples, "vectortd_checkout_sessions_paid_total", ["package": "starter"]) == 1)
            #expect(
                Self.value(samples, "vectortd_webhook_events_total", ["type": "checkout.session.completed", "outcome": "applied"]) == 1)
            #expect(
                Self.value(samples, "vectortd_http_requests_total", ["route": "/api/projects/{id}", "method": "GET", "status": "401"])
                    == 1)
            #expect(Self.value(samples, "vectortd_http_request_duration_seconds_count", ["route": "/healthz"]) == 1)
            #expect(
                Self.value(samples, "vectortd_control_calls_total", ["method": "io.vectort.Projects.Generate", "error": "none"]) == 1)
            #expect(Self.value(samples, "vectortd_control_calls_total", ["method": "unknown", "error": "MethodNotFound"]) == 1)
            #expect((Self.value(samples, "vectortd_ledger_batch_size_count") ?? 0) >= 4)
            #expect((Self.value(samples, "vectortd_ledger_commit_seconds_count") ?? 0) >= 4)
            #expect(Self.value(samples, "vectortd_builds_total") != nil || Self.value(samples, "vectortd_generations_total") != nil)

            // No label carries an id: bounded label sets only.
            let ids = [user, project, generation, session, try #require(purchase["payment"]?["id"]?.stringValue)]
            for sample in samples {
                for value in sample.labels.values {
                    #expect(!ids.contains { value.contains($0) }, "\(sample.name) has a label with an id: \(value)")
                    #expect(value.range(of: "^(u|p|g|pay|dep|v)_[0-9a-f]{8,}", options: .regularExpression) == nil, "\(sample.name): \(value)")
                }
            }

            // GetStats and vectortctl stats read the same registry.
            let stats = try await client.call(MethodName.getStats)
            let families = stats["metrics"]?.arrayValue ?? []
            let generations = try #require(families.first { $0["name"] == "vectortd_generations_total" })
            #expect(generations["type"] == "counter")
            #expect(generations["help"]?.stringValue?.isEmpty == false)
            #expect(generations["samples"]?.arrayValue?.first?["value"] == .double(1) || generations["samples"]?.arrayValue?.first?["value"] == .int(1))
            let table = try await runCommand(
                Binaries.vectortctl, ["stats", "--filter", "generations_total"],
                environment: ["PATH": "/usr/bin:/bin", "VECTORTD_SOCKET": daemon.socketPath])
            #expect(table.status == 0, "\(table.stderr)")
            #expect(table.stdout.contains("vectortd_generations_total") && table.stdout.contains("provider=template"), "\(table.stdout)")

            // Usage.Summary sums match the generation record.
            let usage = try await client.call(MethodName.usageSummary, ["group_by": "provider"])
            let record = try await client.call(MethodName.projectsListGenerations, ["project": .string(project)])
            let first = try #require(record["generations"]?.arrayValue?.first)
            #expect(usage["total"]?["cost"] == first["cost"])
            #expect(usage["total"]?["cost"] == result["cost"])
            #expect(usage["total"]?["credits_charged"] == .int(2))
            #expect(usage["total"]?["input_tokens"] == .int(input))
            #expect(usage["rows"]?.arrayValue?.first?["key"] == "template")
            #expect(first["attempts"]?.arrayValue?.first?["cost"] == result["cost"])
        }

        @Test func aSubscriberSeesAGenerationInOrderAndAStalledOneIsToldItLaggedWithoutSlowingTheEngine() async throws {
            let stripe = try await FakeStripe.start()
            defer { Task { await stripe.shutdown() } }
            let daemon = try await DaemonProcess(Self.options(stripe, extra: "events:\n  buffer: 16\n"))
            let client = try await daemon.connect()

            // A subscriber that reads, following generations only.
            let watcher = try await daemon.connect()
            let seen = Mutex<[JSONValue]>([])
            let following = Task {
                try await watcher.callStreaming(MethodName.eventsSubscribe, ["kinds": ["generation."]], timeout: 120) { reply in
                    seen.withLock { $0.append(.object(reply.parameters ?? [:])) }
                }
            }
            defer { following.cancel() }
            try #require(await Polling.until { seen.withLock { $0.first?["event"] == "snapshot" } ? true : nil } != nil)

            let user = try #require(try await client.call(MethodName.usersCreate, ["email": "events@example.com"])["id"]?.stringValue)
            let project = try #require(
                try await client.call(MethodName.projectsCreate, ["user": .string(user), "title": "Tea Shop", "type": "shop"])["id"]?
                    .stringValue)
            let result = try await client.call(
                MethodName.projectsGenerate, ["user": .string(user), "project": .string(project), "prompt": "a shop for tea"],
                timeout: 60)
            let generation = try #require(result["generation"]?.stringValue)
            try #require(
                await Polling.until { seen.withLock { $0.contains { $0["event"] == "generation.completed" } } ? true : nil } != nil)
            let kinds = seen.withLock { $0.compactMap { $0["event"]?.stringValue } }
            #expect(kinds.first == "snapshot")
            #expect(kinds.dropFirst().first == "generation.started")
            #expect(kinds.last == "generation.completed")
            let files = result["files"]?.arrayValue?.count ?? 0
            #expect(kinds.filter { $0 == "generation.file" }.count == files)
            #expect(!kinds.contains("user.created"), "kinds filters by prefix")
            let completed = try #require(seen.withLock { $0.last })
            #expect(completed["generation"] == .string(generation))
            #expect(completed["cost"] == result["cost"])

            // How long a user takes to create with nobody stalled…
            func createTimes(_ count: Int, prefix: String) async throws -> [Duration] {
                var times: [Duration] = []
                for index in 0..<count {
                    let started = ContinuousClock.now
                    _ = try await client.call(MethodName.usersCreate, ["email": .string("\(prefix)\(index)@example.com")])
                    times.append(ContinuousClock.now - started)
                }
                return times.sorted()
            }
            let before = try await createTimes(40, prefix: "before")

            // …and with a subscriber that never reads while thousands of events go out.
            let stalled = try await daemon.connect()
            try await stalled.send(CallRequest(method: MethodName.eventsSubscribe, parameters: ["kinds": ["user."]], more: true))
            var flooders: [AsyncVectortClient] = []
            for _ in 0..<8 { flooders.append(try await daemon.connect()) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (worker, own) in flooders.enumerated() {
                    group.addTask {
                        for index in 0..<500 {
                            _ = try await own.call(MethodName.usersCreate, ["email": .string("flood\(worker)-\(index)@example.com")])
                        }
                    }
                }
                try await group.waitForAll()
            }
            let during = try await createTimes(40, prefix: "during")
            let medianBefore = before[before.count / 2]
            let medianDuring = during[during.count / 2]
            #expect(
                medianDuring < max(medianBefore * 10, .milliseconds(250)),
                "a stalled subscriber slowed the engine: median \(medianBefore) before, \(medianDuring) during")

            // The stalled one, reading at last, finds that it lost events and was told so.
            var lagged: Int64?
            let deadline = ContinuousClock.now + .seconds(30)
            while lagged == nil, ContinuousClock.now < deadline {
                let reply = try await stalled.receive(deadline: deadline)
                if reply.parameters?["event"] == "lagged" { lagged = reply.parameters?["dropped"]?.intValue }
            }
            let dropped = try #require(lagged, "the stalled subscriber was never told it lagged")
            #expect(dropped > 0)
            let stats = try await client.call(MethodName.getStats)
            let lost = stats["metrics"]?.arrayValue?.first { $0["name"] == "vectortd_events_dropped_total" }
            #expect(lost != nil)
        }

        @Test func subscribeWithoutMoreAndUsageWithABadGroupAreRefused() async throws {
            let stripe = try await FakeStripe.start()
            defer { Task { await stripe.shutdown() } }
            let daemon = try await DaemonProcess(Self.options(stripe))
            let client = try await daemon.connect()
            let refusals: [(String, [String: JSONValue], String)] = [
                (MethodName.eventsSubscribe, [:], "more"),
                (MethodName.usageSummary, ["group_by": "week"], "group_by"),
                (MethodName.usageSummary, ["group_by": "day", "since": "yesterday"], "since"),
            ]
            for (method, parameters, named) in refusals {
                let message: String
                do {
                    _ = try await client.call(method, parameters)
                    message = "accepted"
                } catch {
                    message = "\(error)"
                }
                #expect(message.contains("InvalidParameter") && message.contains(named), "\(method) \(parameters): \(message)")
            }
            let usage = try await client.call(MethodName.usageSummary, ["group_by": "day"])
            #expect(usage["total"]?["generations"] == .int(0))
        }
    }
}

extension DaemonSuite {
    /// Clients take replies as large as the daemon's `control.max_message_bytes` (from `GetInfo`),
    /// and say plainly when a reply is over what they accept.
    @Suite("reply size limits of the client")
    struct ReplyLimitTests {
        @Test func theHandshakeRaisesTheLimitToTheDaemonsAndAnOversizedReplyIsNamed() async throws {
            var options = DaemonProcess.Options()
            options.config = "control:\n  max_message_bytes: 33554432\n"
            let daemon = try await DaemonProcess(options)
            let socket = daemon.socketPath
            let info = try await daemon.connect().call(MethodName.getInfo)
            #expect(info["limits"]?["max_message_bytes"] == .int(33_554_432))

            let (described, refusal) = try await Blocking.run { () throws -> (Int, String) in
                // A client that starts at 4 KiB: the handshake lifts it to the daemon's 32 MiB.
                let lifted = try VectortClient.connect(socketPath: socket, maxMessageBytes: 4096)
                let methods = try lifted.call(MethodName.describe)["methods"]?.arrayValue?.count ?? 0
                // Without the handshake it keeps 4 KiB, and the Describe reply is larger.
                let small = try VectortClient.connect(socketPath: socket, handshake: false, maxMessageBytes: 4096)
                do {
                    _ = try small.call(MethodName.describe)
                    return (methods, "accepted")
                } catch {
                    return (methods, "\(error)")
                }
            }
            #expect(described > 50)
            #expect(refusal.contains("more than this client accepts (4096 bytes"), "\(refusal)")
        }
    }
}
