import Foundation
import Protocol
import Testing
import VectortCore
import VectortTesting

extension DaemonSuite {
    @Suite("deployments through the real daemon: live on Vercel, kill -9 with jobs in flight on three platforms")
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
            let secret = try await runCommand(
                Binaries.vectortctl, ["deploy", project, "--platform", "vercel", "--env", "DATABASE_URL=postgres://x", "--user", user],
                environment: ["PATH": "/usr/bin:/bin", "VECTORTD_SOCKET": daemon.socketPath])
            #expect(secret.status == 2 && secret.stderr.contains("VITE_"), "\(secret.stderr)")
            let viteJob = try await runCommand(
                Binaries.vectortctl,
                ["deploy", project, "--platform", "vercel", "--env", "VITE_API_URL=https://api.example.test", "--watch", "--user", user],
                environment: ["PATH": "/usr/bin:/bin", "VECTORTD_SOCKET": daemon.socketPath])
            #expect(viteJob.status == 0 && viteJob.stdout.contains("live: https://"), "\(viteJob.stderr)")
            #expect(vercel.deployments.count == 2)
            #expect(!daemon.output.contains(vercel.token), "the token reached the log")

            // Both jobs count as live in the metrics, each with its time to live.
            func sample(_ name: String, family: String) async throws -> Int64? {
                let families = try await client.call(MethodName.getStats)["metrics"]?.arrayValue ?? []
                let samples = families.first { $0["name"] == .string(family) }?["samples"]?.arrayValue ?? []
                return samples.first { $0["name"] == .string(name) && $0["labels"]?["platform"] == "vercel"
                    && ($0["labels"]?["outcome"] == nil || $0["labels"]?["outcome"] == "live") }?["value"]?.intValue
            }
            let deadline = ContinuousClock.now + .seconds(10)
            while try await sample("vectortd_deployments_total", family: "vectortd_deployments_total") != 2, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(try await sample("vectortd_deployments_total", family: "vectortd_deployments_total") == 2)
            #expect(
                try await sample("vectortd_deployment_time_to_live_seconds_count", family: "vectortd_deployment_time_to_live_seconds") == 2)
        }

        /// Fifty jobs in flight on Vercel, Netlify and Render (through GitHub) survive `kill -9`:
        /// each finishes after the restart, and no platform create call is made twice.
        @Test func killNineWithFiftyJobsOnThreePlatformsCreatesNothingTwice() async throws {
            let vercel = try await FakeVercel.start()
            let netlify = try await FakeNetlify.start()
            let render = try await FakeRender.start()
            let github = try await FakeGitHub.start()
            defer {
                Task {
                    await vercel.shutdown()
                    await netlify.shutdown()
                    await render.shutdown()
                    await github.shutdown()
                }
            }
            vercel.setInstant(true)
            let directory = try TemporaryDirectory(prefix: "vtdk9")
            var options = DaemonProcess.Options()
            options.config = """
                deploy:
                  vercel: {api_base: "\(vercel.baseURL)"}
                  netlify: {api_base: "\(netlify.baseURL)"}
                  render: {api_base: "\(render.baseURL)"}
                github:
                  api_base: "\(github.baseURL)"
                credits:
                  free_on_signup: 1000

                """
            options.credentials = [
                "vercel-token": vercel.token, "netlify-token": netlify.token, "render-api-key": render.token,
                "github-token": github.token,
            ]
            let platforms = Array(repeating: "vercel", count: 20) + Array(repeating: "netlify", count: 15)
                + Array(repeating: "render", count: 15)
            var ids: [String: String] = [:]
            do {
                let daemon = try await DaemonProcess(options, in: directory)
                let client = try await daemon.connect()
                let (user, project) = try await Self.generatedProject(client, email: "k9deploy@example.com")
                for platform in platforms.shuffled() {
                    let job = try await client.call(
                        MethodName.deploymentsStart, ["user": .string(user), "project": .string(project), "platform": .string(platform)])
                    ids[try #require(job["id"]?.stringValue)] = platform
                }
                try await Task.sleep(for: .milliseconds(Int.random(in: 50...1500)))
                daemon.signal(SIGKILL)
                _ = await daemon.waitForExit()
            }
            let daemon = try await DaemonProcess(options, in: directory)
            let client = try await daemon.connect()
            let states = try await Self.waitLive(client, Array(ids.keys))
            for (id, platform) in ids { #expect(states[id]?["state"] == "live", "\(platform) \(id): \(states[id] ?? .null)") }
            #expect(vercel.creates == 20, "a Vercel deployment was created twice")
            #expect(Set(vercel.deployments.compactMap { $0.meta["vectortd_deployment"] }) == Set(ids.filter { $0.value == "vercel" }.keys))
            #expect(netlify.siteCreates == 1, "one site for the project")
            #expect(netlify.deployCreates == 15, "a Netlify deploy was created twice")
            #expect(render.serviceCreates == 1, "one service for the project")
            // Render deploys carry no tag: a job that died before recording its deploy adopts the
            // deploy of the same commit, so there may be fewer than one per job, never more.
            #expect(render.deployCreates <= 15 && render.deployCreates >= 1, "\(render.deployCreates) Render deploys")
            #expect(github.history("ada/paper-planes").count == 2, "the version was pushed once on top of the initial commit")
        }
    }
}
