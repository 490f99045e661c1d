import Foundation
import Protocol
import VectortCore
import Testing
import VectortTesting

extension DaemonSuite {
    @Suite("payments through the real daemon: purchase, the webhook listener, reconciliation, kill -9")
    struct PaymentDaemonTests {
        static let secret = "whsec_e2e_\(UUID().uuidString.prefix(8))"

        static func options(_ stripe: FakeStripe) -> DaemonProcess.Options {
            var options = DaemonProcess.Options()
            options.config = """
                credits:
                  free_on_signup: 0
                stripe:
                  api_base: "\(stripe.baseURL)"
                payments:
                  success_url: "https://app.example/billing/done"
                  reconcile_minutes: 600

                """
            options.credentials["stripe-secret-key"] = stripe.secretKey
            options.credentials["stripe-webhook-secret"] = "whsec_old\n" + secret
            return options
        }

        /// The listener's URL once it runs (it binds beside the control socket, a moment later).
        static func webhookURL(_ client: AsyncVectortClient) async throws -> String {
            let deadline = ContinuousClock.now + .seconds(20)
            while ContinuousClock.now < deadline {
                if let address = try await client.call(MethodName.getInfo)["listeners"]?["webhook"]?.stringValue {
                    return "http://\(address)/api/webhook/stripe"
                }
                try await Task.sleep(for: .milliseconds(10))
            }
            Issue.record("the webhook listener did not start")
            throw CancellationError()
        }

        static func send(_ body: [UInt8], to url: String, secret: String = secret, age: Int = 0) async throws -> Int {
            let signature = FakeStripe.signatureHeader(
                body: body, secrets: [secret], timestamp: Int(Date().timeIntervalSince1970) - age)
            return try await FakeStripe.deliver(body, to: url, signature: signature).status
        }

        static func ctl(_ daemon: DaemonProcess, _ arguments: [String]) async throws -> CommandResult {
            try await runCommand(
                Binaries.vectortctl, arguments,
                environment: ["PATH": "/usr/bin:/bin", "VECTORTD_SOCKET": daemon.socketPath])
        }

        /// `webhook.listen` equal to `api.listen`: one listener serves the API and the webhook path.
        @Test func theWebhookSharesTheAPIListenerWhenBothHaveOneAddress() async throws {
            let stripe = try await FakeStripe.start()
            defer { Task { await stripe.shutdown() } }
            // A free port: bind one, note it, let it go.
            let probe = try await FakeSMTP.start()
            let port = probe.port
            await probe.shutdown()
            var options = Self.options(stripe)
            options.environment["VECTORTD_API_LISTEN"] = "127.0.0.1:\(port)"
            options.environment["VECTORTD_WEBHOOK_LISTEN"] = "127.0.0.1:\(port)"
            let daemon = try await DaemonProcess(options)
            let client = try await daemon.connect()
            let url = try await Self.webhookURL(client)
            #expect(url == "http://127.0.0.1:\(port)/api/webhook/stripe")
            let info = try await client.call(MethodName.getInfo)
            #expect(info["listeners"]?["api"] == info["listeners"]?["webhook"])
            let user = try #require(try await client.call(MethodName.usersCreate, ["email": "shared@example.com"])["id"]?.stringValue)
            let purchase = try await client.call(MethodName.creditsPurchase, ["user": .string(user), "package": "starter"])
            let session = try #require(purchase["payment"]?["checkout_session"]?.stringValue)
            #expect(try await Self.send(stripe.complete(session), to: url) == 200)
            #expect(try await client.call(MethodName.creditsGetBalance, ["user": .string(user)])["total"] == 80)
            let health = try await FakeStripe.get("http://127.0.0.1:\(port)/healthz")
            #expect(health.status == 200, "the API's own routes answer on the same port")
        }

        @Test func aPurchaseIsPaidThroughTheSignedWebhookOnce() async throws {
            let stripe = try await FakeStripe.start()
            defer { Task { await stripe.shutdown() } }
            let daemon = try await DaemonProcess(Self.options(stripe))
            let client = try await daemon.connect()
            let info = try await client.call(MethodName.getInfo)
            #expect(info["payments"]?["enabled"] == .bool(true))
            #expect(info["payments"]?["webhook_secrets"] == .int(2))
            let user = try #require(try await client.call(MethodName.usersCreate, ["email": "buyer@example.com"])["id"]?.stringValue)

            let purchase = try await Self.ctl(daemon, ["credits", "purchase", user, "starter", "--json"])
            #expect(purchase.status == 0, "\(purchase.stderr)")
            let result = try JSONDecoder().decode(PurchaseResult.self, from: Data(purchase.stdout.utf8))
            #expect(result.checkoutURL.hasPrefix(stripe.baseURL + "/pay/"))
            let text = try await Self.ctl(daemon, ["credits", "purchase", user, "micro"])
            #expect(text.stdout.hasPrefix(stripe.baseURL + "/pay/cs_test_"), "\(text.stdout)")

            let url = try await Self.webhookURL(client)
            let completed = stripe.complete(try #require(result.payment.checkoutSession))
            // Refused bodies first: nothing may be stored for them.
            #expect(try await Self.send(completed, to: url, secret: "whsec_forged") == 400)
            #expect(try await Self.send(completed, to: url, age: 301) == 400)
            #expect(try await FakeStripe.deliver(completed, to: url, signature: nil).status == 400)
            #expect(try await Self.send(Array(completed.dropLast(10)), to: url) == 400)
            let oversized = Array(repeating: UInt8(ascii: " "), count: 1_048_577)
            #expect(try await Self.send(oversized, to: url) == 413)
            #expect(try await FakeStripe.get(url).status == 405)
            let health = try await FakeStripe.get(url.replacingOccurrences(of: "/api/webhook/stripe", with: "/healthz"))
            #expect(health.status == 200)
            #expect(health.text == "ok\n")
            let before = try await client.call(MethodName.paymentsGet, ["payment": .string(result.payment.id)])
            #expect(before["events"]?.arrayValue?.isEmpty == true)

            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<10 { group.addTask { try await Self.send(completed, to: url) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses == Array(repeating: 200, count: 10))
            let balance = try await client.call(MethodName.creditsGetBalance, ["user": .string(user)])
            #expect(balance["buckets"]?["topup"] == .int(80))

            #expect(try await Self.send(stripe.refund(result.payment.checkoutSession!, amount: 2000), to: url) == 200)
            let after = try await client.call(MethodName.creditsGetBalance, ["user": .string(user)])
            #expect(after["total"] == .int(0))
            let list = try await Self.ctl(daemon, ["payments", "list", "--user", user])
            #expect(list.stdout.contains("refunded"), "\(list.stdout)")
            let shown = try await Self.ctl(daemon, ["payments", "show", result.payment.id])
            #expect(shown.stdout.contains("checkout.session.completed"), "\(shown.stdout)")
            #expect(shown.stdout.contains("charge.refunded"))
            let verify = try await client.call(MethodName.creditsVerify)
            #expect(verify["mismatches"]?.arrayValue?.isEmpty == true)
            #expect(!daemon.output.contains(Self.secret), "a webhook secret reached the log")
            #expect(!daemon.output.contains(stripe.secretKey), "the Stripe key reached the log")
        }

        @Test func withTheWebhookDownTheReconcilerGrants() async throws {
            let stripe = try await FakeStripe.start()
            defer { Task { await stripe.shutdown() } }
            let daemon = try await DaemonProcess(Self.options(stripe))
            let client = try await daemon.connect()
            let user = try #require(try await client.call(MethodName.usersCreate, ["email": "late@example.com"])["id"]?.stringValue)
            let purchase = try await client.call(MethodName.creditsPurchase, ["user": .string(user), "package": "micro"])
            stripe.complete(try #require(purchase["payment"]?["checkout_session"]?.stringValue))
            let reconcile = try await Self.ctl(daemon, ["payments", "reconcile", "--json"])
            #expect(reconcile.status == 0, "\(reconcile.stderr)")
            let report = try JSONDecoder().decode(ReconcileReport.self, from: Data(reconcile.stdout.utf8))
            #expect(report.applied == 1)
            let balance = try await client.call(MethodName.creditsGetBalance, ["user": .string(user)])
            #expect(balance["total"] == .int(10))
            #expect(try await Self.ctl(daemon, ["payments", "reconcile"]).stdout.contains("0 applied"))
        }

        @Test func withoutAStripeKeyPurchaseIsUnavailableAndNothingElseBreaks() async throws {
            let daemon = try await DaemonProcess()
            let client = try await daemon.connect()
            let info = try await client.call(MethodName.getInfo)
            #expect(info["payments"]?["enabled"] == .bool(false))
            let user = try #require(try await client.call(MethodName.usersCreate, ["email": "nokey@example.com"])["id"]?.stringValue)
            let result = try await Self.ctl(daemon, ["credits", "purchase", user, "micro", "--success-url", "https://x.example/"])
            #expect(result.status == 2)
            #expect(result.stderr.contains("io.vectort"), "\(result.stderr)")
            let plain = try await Self.ctl(daemon, ["credits", "purchase", user, "micro", "--json"])
            #expect(plain.stderr.contains("payments_not_configured") || plain.stderr.contains("success_url"), "\(plain.stderr)")
        }

        /// Deliveries that got a 200 survive `kill -9` with their effect exactly once; Stripe's
        /// retries after the restart change nothing more.
        @Test func everyAcknowledgedEventSurvivesKillNine() async throws {
            let stripe = try await FakeStripe.start()
            defer { Task { await stripe.shutdown() } }
            let directory = try TemporaryDirectory(prefix: "vtpk9")
            let options = Self.options(stripe)
            var events: [[UInt8]] = []
            var user = ""
            do {
                let daemon = try await DaemonProcess(options, in: directory)
                let client = try await daemon.connect()
                user = try #require(try await client.call(MethodName.usersCreate, ["email": "k9@example.com"])["id"]?.stringValue)
                for _ in 0..<60 {
                    let purchase = try await client.call(MethodName.creditsPurchase, ["user": .string(user), "package": "micro"])
                    events.append(stripe.complete(try #require(purchase["payment"]?["checkout_session"]?.stringValue)))
                }
                daemon.signal(SIGTERM)
                _ = await daemon.waitForExit()
            }
            // Sessions whose `completed` event got a 200 from some daemon.
            let acknowledged = Locked(Set<Int>())
            let bodies = events
            for round in 0..<20 {
                let daemon = try await DaemonProcess(options, in: directory)
                let client = try await daemon.connect()
                let url = try await Self.webhookURL(client)
                let batch = (0..<8).map { _ in Int.random(in: 0..<bodies.count) }
                let delivering = Task {
                    await withTaskGroup(of: Void.self) { group in
                        for index in batch {
                            group.addTask {
                                if (try? await Self.send(bodies[index], to: url)) == 200 {
                                    acknowledged.withLock { _ = $0.insert(index) }
                                }
                            }
                        }
                    }
                }
                try await Task.sleep(for: .milliseconds(Int.random(in: 0...40) + round % 3))
                daemon.signal(SIGKILL)
                _ = await daemon.waitForExit()
                await delivering.value
            }
            do {
                // What was acknowledged is there, before any retry.
                let daemon = try await DaemonProcess(options, in: directory)
                let client = try await daemon.connect()
                // The reconciler's start-up run may grant more meanwhile: the paid sessions are read
                // before and after the balance, until no grant fell between (each grant and its
                // payment's status change commit together, so the balance then matches them).
                func paidSessions() async throws -> Set<String> {
                    let paid = try await client.call(MethodName.paymentsList, ["user": .string(user), "status": "paid", "limit": 200])
                    return Set((paid["payments"]?.arrayValue ?? []).compactMap { $0["checkout_session"]?.stringValue })
                }
                var sessions: Set<String> = []
                var balance: JSONValue = .null
                for _ in 0..<50 {
                    sessions = try await paidSessions()
                    balance = try await client.call(MethodName.creditsGetBalance, ["user": .string(user)])
                    if try await paidSessions() == sessions { break }
                }
                let ids = acknowledged.withLock { $0 }
                for index in ids {
                    let text = String(decoding: events[index], as: UTF8.self)
                    #expect(sessions.contains { text.contains($0) }, "an acknowledged payment was lost")
                }
                #expect(balance["total"] == .int(Int64(sessions.count * 10)))
                daemon.signal(SIGTERM)
                _ = await daemon.waitForExit()
            }
            // Every event delivered again, to a daemon that runs to the end.
            let daemon = try await DaemonProcess(options, in: directory)
            let client = try await daemon.connect()
            let url = try await Self.webhookURL(client)
            for body in events { #expect(try await Self.send(body, to: url) == 200) }
            let balance = try await client.call(MethodName.creditsGetBalance, ["user": .string(user)])
            #expect(balance["total"] == .int(Int64(events.count * 10)), "each payment granted exactly once")
            let verify = try await client.call(MethodName.creditsVerify)
            #expect(verify["mismatches"]?.arrayValue?.isEmpty == true)
            #expect(!acknowledged.withLock { $0 }.isEmpty, "the load acknowledged nothing before the kills")
        }
    }
}
