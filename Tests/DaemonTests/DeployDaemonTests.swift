import Foundation
import Protocol
import Testing
import VectortCore
import VectortTesting

extension DaemonSuite {
    @Suite("deployments through the real daemon: live on Vercel, kill -9 with jobs in flight")
    struct DeployDaemonTests {
        static func options(_ vercel: FakeVercel) -> DaemonProcess.Options {
            var options = DaemonProcess.Options()
            options.config = "deploy:\n  vercel:\n    api_base: \"\(vercel.baseURL)\"\ncredits:\n  free_on_signup: 1000\n"
            options.credentials["vercel-token"] = vercel.token
            return options
        }

        static func generatedProject(_ client: AsyncVectortClient, email: String) async throws -> (user: String, project: String) {
            let user = try #require(try await client.call(MethodName.usersCreate, ["email": .string(email)])["id"]?.stringValue)
            let project = try #require(
                try await client.call(MethodName.projectsCreate, ["user": .string(user), "title": "Paper Planes"])["id"]?.stringValue)
            _ = try await client.call(
                MethodName.projectsGenerate, ["user": .string(user), "project": .string(project), "prompt": "a landing page"],
                timeout: 120)
            return (user, project)
        }

        static func waitLive(_ client: AsyncVectortClient, _ ids: [String]) async throws -> [String: JSONValue] {
            var states: [String: JSONValue] = [:]
            let deadline = ContinuousClock.now + .seconds(60)
            while ContinuousClock.now < deadline {
                for id in ids { states[id] = try await client.call(MethodName.deploymentsGet, ["deployment": .string(id)]) }
                if states.values.allSatisfy({ ["live", "failed", "cancelled"].contains($0["state"]?.stringValue ?? "") }) { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            return states
        }

        @Test func aGeneratedAppGoesLiveWithItsBuiltSite() async throws {
            let vercel = try await FakeVercel.start()
            defer { Task { await vercel.shutdown() } }
            vercel.setInstant(true)
            let daemon = try await DaemonProcess(Self.options(vercel))
            let client = try await daemon.connect()
            let (user, project) = try await Self.generatedProject(client, email: "live@example.com")
            let platforms = try await client.call(MethodName.deploymentsPlatforms)
            #expect(platforms["platforms"]?.arrayValue?.first?["configured"] == .bool(true))
            let run = try await runCommand(
                Binaries.vectortctl, ["deploy", project, "--platform", "vercel", "--watch", "--user", user],
                environment: ["PATH": "/usr/bin:/bin", "VECTORTD_SOCKET": daemon.socketPath])
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.stdout.contains("live: https://"), "\(run.stdout)")
            let job = try #require(vercel.deployments.first)
            let built = try await client.call(MethodName.projectsGetCode, ["project": .string(project), "built": true])
            for file in built["files"]?.arrayValue ?? [] {
                let path = file["path"]?.stringValue ?? ""
                let bytes = file["contents_base64"]?.stringValue.flatMap { Data(base64Encoded: $0) }.map(Array.init)
                    ?? Array((file["contents"]?.stringValue ?? "").utf8)
                #expect(job.files[path] == bytes, "\(path) differs from the built site")
            }
            let list = try await runCommand(
                Binaries.vectortctl, ["deployments", "list", "--user", user],
                environment: ["PATH": "/usr/bin:/bin", "VECTORTD_SOCKET": daemon.socketPath])
            #expect(list.stdout.contains("live"), "\(list.stdout)")
            #expect(!daemon.output.contains(vercel.token), "the token reached the log")
        }

        /// Jobs in flight survive `kill -9`: each finishes after the restart and none is created twice.
        @Test func killNineWithJobsInFlightCreatesNothingTwice() async throws {
            let vercel = try await FakeVercel.start()
            defer { Task { await vercel.shutdown() } }
            vercel.setInstant(true)
            let directory = try TemporaryDirectory(prefix: "vtdk9")
            let options = Self.options(vercel)
            var ids: [String] = []
            do {
                let daemon = try await DaemonProcess(options, in: directory)
                let client = try await daemon.connect()
                let (user, project) = try await Self.generatedProject(client, email: "k9deploy@example.com")
                for _ in 0..<20 {
                    let job = try await client.call(
                        MethodName.deploymentsStart, ["user": .string(user), "project": .string(project), "platform": "vercel"])
                    ids.append(try #require(job["id"]?.stringValue))
                }
                try await Task.sleep(for: .milliseconds(Int.random(in: 100...1500)))
                daemon.signal(SIGKILL)
                _ = await daemon.waitForExit()
            }
            let daemon = try await DaemonProcess(options, in: directory)
            let client = try await daemon.connect()
            let states = try await Self.waitLive(client, ids)
            for id in ids { #expect(states[id]?["state"] == "live", "\(id): \(states[id] ?? .null)") }
            #expect(vercel.creates == 20, "a deployment was created twice")
            #expect(Set(vercel.deployments.compactMap { $0.meta["vectortd_deployment"] }) == Set(ids))
        }

        /// The same on Netlify: after `kill -9` a job is found by its title and its remaining files
        /// uploaded; one site for the project, one deploy per job.
        @Test func killNineOnNetlifyFindsTheSiteAndTheDeploysAgain() async throws {
            let netlify = try await FakeNetlify.start()
            defer { Task { await netlify.shutdown() } }
            let directory = try TemporaryDirectory(prefix: "vtdk9n")
            var options = DaemonProcess.Options()
            options.config = "deploy:\n  netlify:\n    api_base: \"\(netlify.baseURL)\"\n"
            options.credentials["netlify-token"] = netlify.token
            var ids: [String] = []
            do {
                let daemon = try await DaemonProcess(options, in: directory)
                let client = try await daemon.connect()
                let (user, project) = try await Self.generatedProject(client, email: "k9netlify@example.com")
                for _ in 0..<10 {
                    let job = try await client.call(
                        MethodName.deploymentsStart, ["user": .string(user), "project": .string(project), "platform": "netlify"])
                    ids.append(try #require(job["id"]?.stringValue))
                }
                try await Task.sleep(for: .milliseconds(Int.random(in: 50...800)))
                daemon.signal(SIGKILL)
                _ = await daemon.waitForExit()
            }
            let daemon = try await DaemonProcess(options, in: directory)
            let client = try await daemon.connect()
            let states = try await Self.waitLive(client, ids)
            for id in ids { #expect(states[id]?["state"] == "live", "\(id): \(states[id] ?? .null)") }
            #expect(netlify.siteCreates == 1)
            #expect(netlify.deployCreates == 10, "a deploy was created twice")
        }
    }
}
