import Foundation
import Protocol
import Synchronization
import Testing
import VectortTesting

#if canImport(Glibc)
import Glibc
#endif

extension DaemonSuite {
    /// Mixed ledger load through the real daemon, `kill -9` at a random moment, restart, and
    /// check that everything acknowledged is there and the journal still adds up.
    @Suite("Crash safety of the credit ledger")
    struct LedgerCrashTests {
        /// What the load generator saw acknowledged before the crash.
        final class Acknowledged: Sendable {
            struct Grant: Sendable {
                var user: String
                var key: String
                var entry: Int64
                var amount: Int
            }

            struct Hold: Sendable {
                var id: String
                var user: String
                var amount: Int
                var settledFor: Int?
            }

            let grants = Mutex<[Grant]>([])
            let holds = Mutex<[String: Hold]>([:])
        }

        @Test func everyAcknowledgedWriteSurvivesKillNine() async throws {
            let directory = try TemporaryDirectory(prefix: "vtk9")
            var options = DaemonProcess.Options()
            options.config = "credits:\n  free_on_signup: 0\n"
            var users: [String] = []
            do {
                let daemon = try await DaemonProcess(options, in: directory)
                let client = try await daemon.connect()
                for i in 0..<4 {
                    let user = try await client.call(MethodName.usersCreate, ["email": .string("crash\(i)@example.com")])
                    users.append(try #require(user["id"]?.stringValue))
                }
                daemon.signal(SIGKILL)
                _ = await daemon.waitForExit()
            }
            let acknowledged = Acknowledged()
            for round in 0..<20 {
                let daemon = try await DaemonProcess(options, in: directory)
                _ = try await daemon.connect()
                let threads = (0..<4).map { worker in
                    Self.startWorker(
                        socket: daemon.socketPath, user: users[worker], round: round, worker: worker,
                        acknowledged: acknowledged)
                }
                try await Task.sleep(for: .milliseconds(Int.random(in: 30...250)))
                daemon.signal(SIGKILL)
                _ = await daemon.waitForExit()
                for thread in threads {
                    await withCheckedContinuation { done in thread.notify(queue: .global()) { done.resume() } }
                }
                try await check(directory: directory, options: options, users: users, acknowledged: acknowledged)
            }
            #expect(acknowledged.grants.withLock { $0.count } > 20, "the load acknowledged too little to mean anything")
            #expect(acknowledged.holds.withLock { $0.count } > 20)
        }

        /// Restarts the daemon and checks every acknowledged operation and the journal.
        private func check(
            directory: TemporaryDirectory, options: DaemonProcess.Options, users: [String], acknowledged: Acknowledged
        ) async throws {
            let daemon = try await DaemonProcess(options, in: directory)
            let client = try await daemon.connect()
            let verification = try await client.call(MethodName.creditsVerify).decode(as: CreditVerification.self)
            #expect(verification.ok, "mismatches: \(verification.mismatches)")

            let entries = try await Self.journalEntries(client, users: users)
            for user in users {
                let balance = try await client.call(MethodName.creditsGetBalance, ["user": .string(user)]).decode(as: CreditBalance.self)
                #expect(balance.held == 0, "holds left by the crash are released at start")
                #expect(balance.buckets.values.allSatisfy { $0 >= 0 })
            }
            for grant in acknowledged.grants.withLock({ $0 }) {
                #expect(entries[grant.user]?.contains(grant.entry) == true, "acknowledged grant \(grant.key) lost")
            }
            for hold in acknowledged.holds.withLock({ Array($0.values) }) {
                if let charged = hold.settledFor {
                    // Settling again is a no-op that shows the stored outcome.
                    let again = try await client.call(MethodName.creditsSettle, ["hold": .string(hold.id)]).decode(as: CreditHold.self)
                    #expect(again.status == .settled && again.charged == charged, "acknowledged settle of \(hold.id) lost")
                } else {
                    // Released at start, released before the crash, or settled by a call whose
                    // reply the crash swallowed: any of these, but never unknown.
                    do {
                        let again = try await client.call(MethodName.creditsRelease, ["hold": .string(hold.id)])
                            .decode(as: CreditHold.self)
                        #expect(again.status == .released, "acknowledged hold \(hold.id)")
                    } catch let failure as VectortClientError where failure.remoteError?.name == .conflict {
                        let error = failure.remoteError
                        #expect(error?.message.contains("settled") == true, "acknowledged hold \(hold.id): \(failure)")
                    }
                }
            }
            daemon.signal(SIGKILL)
            _ = await daemon.waitForExit()
        }

        /// The ids of every journal entry of `users`, page by page.
        static func journalEntries(_ client: AsyncVectortClient, users: [String]) async throws -> [String: Set<Int64>] {
            var entries: [String: Set<Int64>] = [:]
            for user in users {
                var after: String?
                repeat {
                    var parameters: [String: JSONValue] = ["user": .string(user), "limit": 500]
                    if let after { parameters["after"] = .string(after) }
                    let page = try await client.call(MethodName.creditsHistory, parameters).decode(as: CreditHistory.self)
                    entries[user, default: []].formUnion(page.entries.map(\.id))
                    after = page.nextAfter
                } while after != nil
            }
            return entries
        }

        /// One connection doing grant, hold, then settle or release, until the daemon dies
        /// (every call then fails and the thread ends).
        static func startWorker(
            socket: String, user: String, round: Int, worker: Int, acknowledged: Acknowledged
        ) -> DispatchGroup {
            let group = DispatchGroup()
            group.enter()
            Thread {
                defer { group.leave() }
                guard let client = try? VectortClient.connect(socketPath: socket, timeout: 5) else { return }
                var step = 0
                while true {
                    step += 1
                    do {
                        let key = "r\(round)-w\(worker)-s\(step)"
                        let grant = try client.call(
                            MethodName.creditsGrant,
                            ["user": .string(user), "amount": 5, "reason": "crash test", "idempotency_key": .string(key)]
                        ).decode(as: CreditGrant.self)
                        acknowledged.grants.withLock {
                            $0.append(.init(user: user, key: key, entry: grant.entry, amount: 5))
                        }
                        let hold = try client.call(
                            MethodName.creditsHold,
                            ["user": .string(user), "amount": 3, "reference": .string("gen-\(key)")]
                        ).decode(as: CreditHold.self)
                        acknowledged.holds.withLock { $0[hold.id] = .init(id: hold.id, user: user, amount: 3) }
                        if step % 2 == 0 {
                            let settled = try client.call(MethodName.creditsSettle, ["hold": .string(hold.id), "amount": 2])
                                .decode(as: CreditHold.self)
                            acknowledged.holds.withLock { $0[hold.id]?.settledFor = settled.charged }
                        } else {
                            _ = try client.call(MethodName.creditsRelease, ["hold": .string(hold.id)])
                        }
                    } catch {
                        return
                    }
                }
            }.start()
            return group
        }
    }
}
