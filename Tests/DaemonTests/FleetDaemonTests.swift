import Foundation
import Protocol
import Synchronization
import Testing
import VectortCore
import VectortTesting

#if canImport(Glibc)
import Glibc
#endif

extension DaemonSuite {
    /// Two daemons (nodes) on one private PostgreSQL: the money decided by the database, the
    /// same webhook delivered to both, one node killed under load, deploy jobs handed over after
    /// their lease, and each node's breakers seen from the other.
    @Suite("a fleet: two vectortd nodes on one PostgreSQL")
    struct FleetDaemonTests {
        /// A node of the fleet: quick heartbeats and a short lease, so that a dead node is
        /// noticed and its jobs handed over within seconds.
        static func options(_ server: PostgresServer, node: String, extra: String = "") -> DaemonProcess.Options {
            var options = DaemonProcess.Options()
            options.config = """
                log:
                  level: warning
                database:
                  url: "\(server.url(database: "fleet"))"
                node:
                  id: \(node)
                  heartbeat_seconds: 0.5
                  timeout_seconds: 3
                  lease_seconds: 3
                \(extra)
                """
            return options
        }

        /// A private server with the database `fleet`, stopped after `body` however it ends.
        static func withServer(_ body: (PostgresServer) async throws -> Void) async throws {
            let server = try await PostgresServer.start()
            do {
                try await server.createDatabase("fleet")
                try await body(server)
                await server.stop()
            } catch {
                await server.stop()
                throw error
            }
        }

        /// A node with payments on `stripe`, as `PaymentDaemonTests` configures a daemon.
        static func paying(_ server: PostgresServer, node: String, _ stripe: FakeStripe) -> DaemonProcess.Options {
            var options = PaymentDaemonTests.options(stripe)
            options.config = Self.options(server, node: node).config! + (options.config ?? "")
            return options
        }

        static func verifyClean(_ client: AsyncVectortClient) async throws {
            let verification = try await client.call(MethodName.creditsVerify).decode(as: CreditVerification.self)
            #expect(verification.ok, "mismatches: \(verification.mismatches)")
        }

        @Test func twoHundredHoldsThroughTwoNodesAgainstTenCreditsExactlyFiveSucceed() async throws {
            try await Self.withServer { server in
                let a = try await DaemonProcess(Self.options(server, node: "node-a", extra: "credits:\n  free_on_signup: 10\n"))
                let b = try await DaemonProcess(Self.options(server, node: "node-b", extra: "credits:\n  free_on_signup: 10\n"))
                let admin = try await a.connect(timeout: .seconds(60))
                _ = try await b.connect(timeout: .seconds(60))
                let user = try #require(try await admin.call(MethodName.usersCreate, ["email": "fleet@example.com"])["id"]?.stringValue)
                // Four connections a node, 25 holds of 2 credits each, all at once.
                var clients: [AsyncVectortClient] = []
                for daemon in [a, b] {
                    for _ in 0..<4 { clients.append(try await daemon.connect(timeout: .seconds(60), callTimeout: 60)) }
                }
                let outcomes = try await withThrowingTaskGroup(of: [String].self) { group in
                    for (index, client) in clients.enumerated() {
                        group.addTask {
                            var outcomes: [String] = []
                            for call in 0..<25 {
                                do {
                                    _ = try await client.call(
                                        MethodName.creditsHold,
                                        ["user": .string(user), "amount": 2, "reference": .string("fleet-\(index)-\(call)")])
                                    outcomes.append(index < 4 ? "held on a" : "held on b")
                                } catch let failure as VectortClientError {
                                    outcomes.append(failure.remoteError?.name.rawValue ?? "\(failure)")
                                }
                            }
                            return outcomes
                        }
                    }
                    return try await group.reduce(into: []) { $0 += $1 }
                }
                #expect(outcomes.filter { $0.hasPrefix("held") }.count == 5, "\(Dictionary(grouping: outcomes) { $0 }.mapValues(\.count))")
                #expect(outcomes.filter { $0 == ErrorName.insufficientCredits.rawValue }.count == 195)
                for client in [admin, try await b.connect(timeout: .seconds(60))] {
                    let balance = try await client.call(MethodName.creditsGetBalance, ["user": .string(user)]).decode(as: CreditBalance.self)
                    #expect(balance.total == 0 && balance.held == 10, "ten credits held, none left to spend: \(balance)")
                    try await Self.verifyClean(client)
                }
            }
        }

        @Test func theSameWebhookEventDeliveredToBothNodesAtOnceHasOneEffect() async throws {
            let stripe = try await FakeStripe.start()
            defer { Task { await stripe.shutdown() } }
            try await Self.withServer { server in
                let a = try await DaemonProcess(Self.paying(server, node: "node-a", stripe))
                let b = try await DaemonProcess(Self.paying(server, node: "node-b", stripe))
                let clientA = try await a.connect(timeout: .seconds(60))
                let clientB = try await b.connect(timeout: .seconds(60))
                let urls = [try await PaymentDaemonTests.webhookURL(clientA), try await PaymentDaemonTests.webhookURL(clientB)]
                let user = try #require(try await clientA.call(MethodName.usersCreate, ["email": "buyer@example.com"])["id"]?.stringValue)
                let purchase = try await clientB.call(MethodName.creditsPurchase, ["user": .string(user), "package": "starter"])
                let payment = try #require(purchase["payment"]?["id"]?.stringValue)
                let completed = stripe.complete(try #require(purchase["payment"]?["checkout_session"]?.stringValue))
                // Ten deliveries of the one event to each node, all at once.
                let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                    for index in 0..<20 { group.addTask { try await PaymentDaemonTests.send(completed, to: urls[index % 2]) } }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                #expect(statuses == Array(repeating: 200, count: 20))
                for client in [clientA, clientB] {
                    let balance = try await client.call(MethodName.creditsGetBalance, ["user": .string(user)])
                    #expect(balance["buckets"]?["topup"] == .int(80), "granted once: \(balance)")
                    let paid = try await client.call(MethodName.paymentsGet, ["payment": .string(payment)])
                    #expect(paid["payment"]?["status"] == "paid")
                    #expect(paid["payment"]?["credits_granted"] == .int(80))
                    try await Self.verifyClean(client)
                }
                let entries = try await server.psql(
                    "SELECT count(*) FROM credit_entries WHERE user_id = '\(user)'", database: "fleet")
                #expect(entries.trimmingCharacters(in: .whitespacesAndNewlines) == "1", "one journal entry for one payment")
                let events = try await server.psql("SELECT count(*) FROM stripe_events", database: "fleet")
                #expect(events.trimmingCharacters(in: .whitespacesAndNewlines) == "1", "the event is recorded once")
            }
        }

        /// Node A is killed at a random moment of mixed ledger load (on both nodes) and webhook
        /// deliveries (to both nodes), ten times; node B runs throughout. After each kill, from
        /// node B and from A restarted: every acknowledged grant and settle is there, every
        /// acknowledged webhook took effect once, A's restart released its own holds and none of
        /// B's, and the journal adds up.
        @Test func killNineOfOneNodeUnderLedgerAndWebhookLoadLosesNothingAndAppliesNothingTwice() async throws {
            let stripe = try await FakeStripe.start()
            defer { Task { await stripe.shutdown() } }
            try await Self.withServer { server in
                let directoryA = try TemporaryDirectory(prefix: "vtfa")
                let optionsA = Self.paying(server, node: "node-a", stripe)
                let b = try await DaemonProcess(Self.paying(server, node: "node-b", stripe))
                let clientB = try await b.connect(timeout: .seconds(60), callTimeout: 60)
                let urlB = try await PaymentDaemonTests.webhookURL(clientB)
                var users: [String] = []
                for index in 0..<6 {
                    let user = try await clientB.call(MethodName.usersCreate, ["email": .string("fleet\(index)@example.com")])
                    users.append(try #require(user["id"]?.stringValue))
                }
                let buyer = try #require(try await clientB.call(MethodName.usersCreate, ["email": "buyer@example.com"])["id"]?.stringValue)
                let acknowledged = LedgerCrashTests.Acknowledged()
                let acknowledgedEvents = Locked<Set<String>>([])
                var payments: [String] = []
                // B's own load runs through every round: A's deaths must not disturb it.
                let threadsB = (4..<6).map { worker in
                    LedgerCrashTests.startWorker(
                        socket: b.socketPath, user: users[worker], round: 0, worker: worker, acknowledged: acknowledged)
                }

                var a = try await DaemonProcess(optionsA, in: directoryA)
                for round in 0..<10 {
                    let clientA = try await a.connect(timeout: .seconds(60), callTimeout: 60)
                    let urlA = try await PaymentDaemonTests.webhookURL(clientA)
                    // Three purchases a round; each completion is delivered to A and to B.
                    var deliveries: [(payment: String, body: [UInt8])] = []
                    for _ in 0..<3 {
                        let purchase = try await clientB.call(MethodName.creditsPurchase, ["user": .string(buyer), "package": "starter"])
                        let payment = try #require(purchase["payment"]?["id"]?.stringValue)
                        payments.append(payment)
                        deliveries.append((payment, stripe.complete(try #require(purchase["payment"]?["checkout_session"]?.stringValue))))
                    }
                    let threadsA = (0..<4).map { worker in
                        LedgerCrashTests.startWorker(
                            socket: a.socketPath, user: users[worker], round: round + 1, worker: worker, acknowledged: acknowledged)
                    }
                    let sent = deliveries
                    let webhooks = Task { [urlA, urlB] in
                        await withTaskGroup(of: Void.self) { group in
                            for (index, delivery) in sent.enumerated() {
                                for url in [urlA, urlB] {
                                    group.addTask {
                                        try? await Task.sleep(for: .milliseconds(40 * index + Int.random(in: 0...60)))
                                        if (try? await PaymentDaemonTests.send(delivery.body, to: url)) == 200 {
                                            acknowledgedEvents.withLock { _ = $0.insert(delivery.payment) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    try await Task.sleep(for: .milliseconds(Int.random(in: 50...400)))
                    a.signal(SIGKILL)
                    _ = await a.waitForExit()
                    await webhooks.value
                    for thread in threadsA {
                        await withCheckedContinuation { done in thread.notify(queue: .global()) { done.resume() } }
                    }

                    // From B, with A dead: every acknowledged webhook took effect.
                    for payment in acknowledgedEvents.withLock({ $0 }) {
                        let paid = try await clientB.call(MethodName.paymentsGet, ["payment": .string(payment)])
                        #expect(paid["payment"]?["status"] == "paid" && paid["payment"]?["credits_granted"] == .int(80), "acknowledged event lost: \(paid)")
                    }
                    // Stripe retries what it did not see acknowledged: B takes every one now.
                    for delivery in deliveries {
                        #expect(try await PaymentDaemonTests.send(delivery.body, to: urlB) == 200)
                    }
                    // A restarted under its own id releases its own holds, never B's.
                    a = try await DaemonProcess(optionsA, in: directoryA)
                    let restarted = try await a.connect(timeout: .seconds(60), callTimeout: 60)
                    for user in users.prefix(4) {
                        let balance = try await restarted.call(MethodName.creditsGetBalance, ["user": .string(user)])
                            .decode(as: CreditBalance.self)
                        #expect(balance.held == 0, "node A's holds are released when it starts again: \(balance)")
                    }
                    try await Self.checkAcknowledged(restarted, users: Array(users.prefix(4)), acknowledged: acknowledged, round: round)
                    try await Self.verifyClean(clientB)
                    restarted.close()
                    clientA.close()
                }
                a.signal(SIGKILL)
                _ = await a.waitForExit()
                // B's workers stop at their first failure: had A's restarts released one of B's
                // holds, its settle would have failed.
                for thread in threadsB {
                    #expect(thread.wait(timeout: .now()) == .timedOut, "a worker on node B failed while A was killed")
                }
                b.signal(SIGTERM)
                #expect(await b.waitForExit(timeout: .seconds(60)) == 0)
                for thread in threadsB {
                    await withCheckedContinuation { done in thread.notify(queue: .global()) { done.resume() } }
                }

                // Every payment once: 30 purchases of 80 credits, each journaled once.
                let restartedB = try await DaemonProcess(Self.paying(server, node: "node-b", stripe))
                let client = try await restartedB.connect(timeout: .seconds(60), callTimeout: 60)
                let balance = try await client.call(MethodName.creditsGetBalance, ["user": .string(buyer)]).decode(as: CreditBalance.self)
                #expect(balance.total == 80 * payments.count, "each payment granted exactly once: \(balance)")
                for payment in payments {
                    let paid = try await client.call(MethodName.paymentsGet, ["payment": .string(payment)])
                    #expect(paid["payment"]?["status"] == "paid" && paid["payment"]?["credits_granted"] == .int(80), "\(paid)")
                }
                let purchaseEntries = try await server.psql(
                    "SELECT count(*) FROM credit_entries WHERE user_id = '\(buyer)'", database: "fleet")
                #expect(Int(purchaseEntries.trimmingCharacters(in: .whitespacesAndNewlines)) == payments.count)
                try await Self.checkAcknowledged(client, users: users, acknowledged: acknowledged, round: 10)
                try await Self.verifyClean(client)
                #expect(acknowledged.grants.withLock { $0.count } > 20, "the load acknowledged too little to mean anything")
                #expect(acknowledgedEvents.withLock { $0.count } > 0, "no webhook was acknowledged")
            }
        }

        /// Every acknowledged grant is in the journal; every acknowledged settle reads back as
        /// settled for the same amount (`users`' holds only).
        static func checkAcknowledged(
            _ client: AsyncVectortClient, users: [String], acknowledged: LedgerCrashTests.Acknowledged, round: Int
        ) async throws {
            let entries = try await LedgerCrashTests.journalEntries(client, users: users)
            for grant in acknowledged.grants.withLock({ $0 }) where users.contains(grant.user) {
                #expect(entries[grant.user]?.contains(grant.entry) == true, "round \(round): acknowledged grant \(grant.key) lost")
            }
            for hold in acknowledged.holds.withLock({ Array($0.values) }) where users.contains(hold.user) {
                guard let charged = hold.settledFor else { continue }
                let again = try await client.call(MethodName.creditsSettle, ["hold": .string(hold.id)]).decode(as: CreditHold.self)
                #expect(again.status == .settled && again.charged == charged, "round \(round): acknowledged settle of \(hold.id) lost")
            }
        }

        /// Fifty jobs in flight on the fleet (the platform holding every deployment back), node A
        /// killed: node B takes A's jobs once their lease expires and finishes every one; the
        /// fake platform counts one create call per job.
        @Test func fiftyDeployJobsOfAKilledNodeAreFinishedByTheOtherAfterTheLeaseCreatedOnce() async throws {
            let vercel = try await FakeVercel.start()
            defer { Task { await vercel.shutdown() } }
            vercel.setStall(true)
            try await Self.withServer { server in
                let extra = """
                    deploy:
                      vercel: {api_base: "\(vercel.baseURL)"}
                    credits:
                      free_on_signup: 1000

                    """
                var optionsA = Self.options(server, node: "node-a", extra: extra)
                optionsA.credentials["vercel-token"] = vercel.token
                var optionsB = Self.options(server, node: "node-b", extra: extra)
                optionsB.credentials["vercel-token"] = vercel.token
                let a = try await DaemonProcess(optionsA)
                let b = try await DaemonProcess(optionsB)
                let clientA = try await a.connect(timeout: .seconds(60), callTimeout: 60)
                let clientB = try await b.connect(timeout: .seconds(60), callTimeout: 60)
                let (user, project) = try await DeployDaemonTests.generatedProject(clientA, email: "fleetdeploy@example.com")
                var ids: [String] = []
                for _ in 0..<50 {
                    let job = try await clientA.call(
                        MethodName.deploymentsStart, ["user": .string(user), "project": .string(project), "platform": "vercel"])
                    ids.append(try #require(job["id"]?.stringValue))
                }
                try await Task.sleep(for: .milliseconds(Int.random(in: 50...1500)))
                a.signal(SIGKILL)
                _ = await a.waitForExit()
                let heldByA = try await server.psql(
                    "SELECT count(*) FROM deployments WHERE lease_node = 'node-a' AND lease_until > now()", database: "fleet")
                vercel.setStall(false)
                vercel.setInstant(true)
                let states = try await DeployDaemonTests.waitLive(clientB, ids)
                for id in ids { #expect(states[id]?["state"] == "live", "\(id): \(states[id] ?? .null)") }
                #expect(vercel.creates == 50, "a Vercel deployment was created twice (or never)")
                #expect(Set(vercel.deployments.compactMap { $0.meta["vectortd_deployment"] }) == Set(ids))
                let leftWithA = try await server.psql(
                    "SELECT count(*) FROM deployments WHERE lease_node = 'node-a'", database: "fleet")
                #expect(leftWithA.trimmingCharacters(in: .whitespacesAndNewlines) == "0", "B finished every job A held")
                // Not a test of chance: A held jobs when it died (it polled them for at least 50 ms).
                #expect((Int(heldByA.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0) > 0, "A held no job when it died")
            }
        }

        /// Each node keeps its own breakers: A's provider fails and its breaker opens; B never
        /// called it and keeps its closed. `vectortctl providers --all-nodes` on B shows both.
        @Test func eachNodeKeepsItsOwnBreakersAndAnyNodeShowsTheFleets() async throws {
            try await Self.withServer { server in
                let extra = """
                    generation:
                      chain: [openai, template]
                    providers:
                      openai:
                        base_url: "http://127.0.0.1:1/v1"
                        retries: {max: 0}
                        breaker: {failures: 1, cooldown_seconds: 600, max_cooldown_seconds: 600}

                    """
                var optionsA = Self.options(server, node: "node-a", extra: extra)
                optionsA.credentials["openai-api-key"] = "sk-fleet-test"
                var optionsB = Self.options(server, node: "node-b", extra: extra)
                optionsB.credentials["openai-api-key"] = "sk-fleet-test"
                let a = try await DaemonProcess(optionsA)
                let b = try await DaemonProcess(optionsB)
                let clientA = try await a.connect(timeout: .seconds(60), callTimeout: 60)
                _ = try await b.connect(timeout: .seconds(60), callTimeout: 60)
                let (user, project) = try await GenerationDaemonTests.userAndProject(clientA)
                let result = try await clientA.call(
                    MethodName.projectsGenerate, ["user": .string(user), "project": .string(project), "prompt": "a soap shop"],
                    timeout: 120)
                #expect(result["provider"] == "template", "openai refused the connection; the chain fell back")

                // B's view, once A has published after its failure (every half second).
                var fleet: ProviderList?
                let deadline = ContinuousClock.now + .seconds(60)
                while ContinuousClock.now < deadline {
                    let run = try await PaymentDaemonTests.ctl(b, ["providers", "--all-nodes", "--json"])
                    #expect(run.status == 0, "\(run.stderr)")
                    let list = try JSONDecoder().decode(ProviderList.self, from: Data(run.stdout.utf8))
                    let openAIOnA = list.nodes?.first { $0.node == "node-a" }?.providers.first { $0.name == "openai" }
                    fleet = list
                    if openAIOnA?.state == "open" { break }
                    try await Task.sleep(for: .milliseconds(200))
                }
                let nodes = try #require(fleet?.nodes)
                #expect(nodes.map(\.node) == ["node-b", "node-a"], "this node first, then the others")
                #expect(nodes[0].current && !nodes[1].current)
                #expect(nodes.allSatisfy { $0.live })
                #expect(nodes[0].publishedAt == nil && nodes[1].publishedAt != nil)
                #expect(nodes[0].providers.first { $0.name == "openai" }?.state == "closed", "B's own breaker never saw a failure")
                #expect(nodes[1].providers.first { $0.name == "openai" }?.state == "open", "A's breaker opened on its failure")
                #expect(nodes[1].chain == ["openai", "template"])
                #expect(fleet?.providers.first { $0.name == "openai" }?.state == "closed", "the plain list is B's own")

                let text = try await PaymentDaemonTests.ctl(b, ["providers", "--all-nodes"])
                #expect(text.stdout.contains("NODE"), "\(text.stdout)")
                #expect(text.stdout.contains("node-b: this node"), "\(text.stdout)")
                #expect(text.stdout.contains("node-a: live, published"), "\(text.stdout)")
                let plain = try await PaymentDaemonTests.ctl(b, ["providers"])
                #expect(!plain.stdout.contains("NODE") && !plain.stdout.contains("node-a"), "\(plain.stdout)")
            }
        }
    }
}
