import AsyncHTTPClient
import Build
import Foundation
import Logging
import Protocol
import Testing
import VectortTesting

@testable import Engine
import VectortCore

@testable import Storage

@Suite("Deploy jobs: the machine as a value, and jobs driven to live against a fake Vercel")
struct DeploymentTests {
    static let start = Date(timeIntervalSince1970: 1_800_000_000)

    static func machine() -> DeploymentMachine {
        DeploymentMachine(createdAt: start, stuckAfter: .seconds(600), deadline: .seconds(3000))
    }

    @Test func aJobIsCreatedOncePolledAndEndsLive() {
        var m = Self.machine()
        #expect(m.handle(.resume, now: Self.start) == .create)
        #expect(m.state == .uploading)
        #expect(m.handle(.created(platformID: "dpl_1"), now: Self.start) == .poll(after: .seconds(2)))
        #expect(m.state == .building)
        #expect(m.handle(.remote(.building, url: nil, reason: nil), now: Self.start) == .poll(after: .seconds(5)))
        #expect(m.handle(.remote(.building, url: nil, reason: nil), now: Self.start) == .poll(after: .seconds(10)))
        #expect(m.handle(.remote(.ready, url: "https://x.vercel.app", reason: nil), now: Self.start) == .none)
        #expect(m.state == .live && m.url == "https://x.vercel.app")
        #expect(m.handle(.cancel, now: Self.start) == .none, "a terminal job stays as it is")
        #expect(m.state == .live)
    }

    @Test func aRestartLooksUpInsteadOfCreatingAgain() {
        var m = Self.machine()
        m.state = .uploading
        #expect(m.handle(.resume, now: Self.start) == .lookup)
        #expect(m.handle(.notFound, now: Self.start) == .create)
        var known = Self.machine()
        known.state = .building
        known.platformID = "dpl_2"
        #expect(known.handle(.resume, now: Self.start) == .poll(after: .zero))
    }

    @Test func stuckDeadlineRefusedAndCancel() {
        var stuck = Self.machine()
        _ = stuck.handle(.resume, now: Self.start)
        _ = stuck.handle(.created(platformID: "dpl_3"), now: Self.start)
        #expect(stuck.handle(.remote(.building, url: nil, reason: nil), now: Self.start.addingTimeInterval(601)) == .none)
        #expect(stuck.state == .failed && stuck.reason == "stuck")
        var late = Self.machine()
        #expect(late.handle(.resume, now: Self.start.addingTimeInterval(3001)) == .none)
        #expect(late.reason == "deadline_exceeded")
        var refused = Self.machine()
        _ = refused.handle(.resume, now: Self.start)
        #expect(refused.handle(.refused(reason: "vercel: forbidden"), now: Self.start) == .none)
        #expect(refused.state == .failed)
        var cancelled = Self.machine()
        _ = cancelled.handle(.resume, now: Self.start)
        _ = cancelled.handle(.created(platformID: "dpl_4"), now: Self.start)
        #expect(cancelled.handle(.cancel, now: Self.start) == .cancelRemote)
        #expect(cancelled.state == .cancelled)
        var transient = Self.machine()
        _ = transient.handle(.resume, now: Self.start)
        _ = transient.handle(.created(platformID: "dpl_5"), now: Self.start)
        #expect(transient.handle(.transient, now: Self.start) == .poll(after: .seconds(5)))
        #expect(transient.state == .building, "a transient failure does not fail the job")
    }

    @Test(arguments: [0.0, 0.5, 1.0])
    func theScheduleSettlesAt20To30Seconds(_ jitter: Double) {
        let delay = DeploymentMachine.delay(afterPolls: 7, jitter: jitter)
        #expect(delay >= .seconds(20) && delay <= .seconds(30))
    }

    // MARK: Against the fake

    static let site = [
        ProjectFile(path: "index.html", contents: "<!doctype html><script src=\"/assets/app.js\"></script>\n"),
        ProjectFile(path: "assets/app.js", contents: "console.log(1);\n"),
        ProjectFile(path: "logo.png", bytes: [0x89, 0x50, 0x4E, 0x47, 0x00, 0xFF]),
    ]

    static func withVercel<T>(
        inlineLimit: Int? = nil, on backend: Backend = .sqlite, _ body: (TestEngine, FakeVercel, Deployments, String, String) async throws -> T
    ) async throws -> T {
        let vercel = try await FakeVercel.start()
        let result: Result<T, any Error>
        do {
            result = .success(
                try await withEngine(on: backend) { engine in
                    let settings = DeploySettings(
                        stuckMinutes: 10, vercel: .init(apiBase: vercel.baseURL, token: vercel.token, deadlineMinutes: 50))
                    let deployments = Deployments(
                        repository: engine.storage.deployments, projects: engine.projects, versions: engine.versions,
                        http: HTTPClient.shared, settings: { settings }, clock: engine.clock, logger: Logger(label: "deploy-tests"))
                    if let inlineLimit {
                        deployments.clientFor.value = { platform, settings in
                            var client = VercelClient(
                                http: HTTPClient.shared, base: settings.vercel.apiBase, token: settings.vercel.token ?? "", teamID: "")
                            client.inlineLimit = inlineLimit
                            return client
                        }
                    }
                    let user = try await engine.user()
                    let project = try await engine.projects.create(user: user, title: "Soap").id
                    let version = try await engine.versions.store(project: project, owner: user, files: [ProjectFile(path: "src/main.jsx", contents: "x\n")])
                    _ = try await engine.storage.versions.storeBuild(
                        project: project, owner: user, version: version.id,
                        build: VersionBuild(status: .ok, durationMs: 1, errors: [], files: Self.site), now: engine.clock.date)
                    return try await body(engine, vercel, deployments, user, project)
                })
        } catch {
            result = .failure(error)
        }
        await vercel.shutdown()
        return try result.get()
    }

    /// Steps every due job, moving the test clock on, until `done` or the steps run out.
    static func drive(_ engine: TestEngine, _ deployments: Deployments, until done: () async throws -> Bool) async throws {
        for _ in 0..<60 {
            for record in try await engine.storage.deployments.due(at: engine.clock.date, limit: 100) {
                await deployments.step(record)
            }
            if try await done() { return }
            engine.clock.advance(by: .seconds(31))
        }
    }

    @Test(arguments: Backend.allCases) func aBuiltVersionGoesLiveWithItsFilesByteForByte(_ backend: Backend) async throws {
        try await Self.withVercel(on: backend) { engine, vercel, deployments, user, project in
            let job = try await deployments.start(project: project, owner: user, platform: "vercel", version: nil, settings: nil, idempotencyKey: "d-1")
            #expect(job.state == .queued)
            let again = try await deployments.start(project: project, owner: user, platform: "vercel", version: nil, settings: nil, idempotencyKey: "d-1")
            #expect(again.id == job.id)
            try await Self.drive(engine, deployments) { try await deployments.get(job.id, owner: user).state.isTerminal }
            let done = try await deployments.get(job.id, owner: user)
            #expect(done.state == .live)
            #expect(done.url?.hasPrefix("https://") == true)
            #expect(vercel.creates == 1)
            let received = try #require(vercel.deployment(tagged: job.id))
            for file in Self.site { #expect(received.files[file.path] == file.bytes, "\(file.path)") }
            #expect(received.files["vercel.json"] != nil, "client-side routes survive a reload")
        }
    }

    @Test(arguments: Backend.allCases) func theSHAPathUploadsWhatVercelMisses(_ backend: Backend) async throws {
        try await Self.withVercel(inlineLimit: 10, on: backend) { engine, vercel, deployments, user, project in
            let job = try await deployments.start(project: project, owner: user, platform: "vercel", version: nil, settings: nil, idempotencyKey: nil)
            try await Self.drive(engine, deployments) { try await deployments.get(job.id, owner: user).state.isTerminal }
            #expect(try await deployments.get(job.id, owner: user).state == .live)
            #expect(vercel.log.filter { $0.path == "/v2/files" }.count == Self.site.count + 1)
            #expect(vercel.creates == 1)
        }
    }

    @Test(arguments: Backend.allCases) func aRateLimitStormSlowsTheJobWithoutFailingItAndNothingIsSentMeanwhile(_ backend: Backend) async throws {
        try await Self.withVercel(on: backend) { engine, vercel, deployments, user, project in
            let job = try await deployments.start(project: project, owner: user, platform: "vercel", version: nil, settings: nil, idempotencyKey: nil)
            vercel.throttle(3, retryAfter: 120)
            var elapsed: Duration = .zero
            var requestsWhileBlocked = 0
            for _ in 0..<80 {
                let before = vercel.log.count
                let blocked = vercel.log.last?.throttled == true
                for record in try await engine.storage.deployments.due(at: engine.clock.date, limit: 100) {
                    await deployments.step(record)
                }
                if blocked && elapsed < .seconds(120) && vercel.log.count > before { requestsWhileBlocked += 1 }
                if try await deployments.get(job.id, owner: user).state.isTerminal { break }
                engine.clock.advance(by: .seconds(10))
                elapsed = vercel.log.last?.throttled == true && vercel.log.count > before ? .seconds(10) : elapsed + .seconds(10)
            }
            #expect(try await deployments.get(job.id, owner: user).state == .live)
            #expect(vercel.log.filter(\.throttled).count == 3)
            #expect(vercel.creates == 1)
            #expect(requestsWhileBlocked == 0, "a request went out before the Retry-After had passed")
        }
    }

    @Test(arguments: Backend.allCases) func stuckAndFailedBuildsAndCancel(_ backend: Backend) async throws {
        try await Self.withVercel(on: backend) { engine, vercel, deployments, user, project in
            vercel.setStall(true)
            let stuck = try await deployments.start(project: project, owner: user, platform: "vercel", version: nil, settings: nil, idempotencyKey: nil)
            try await Self.drive(engine, deployments) { try await deployments.get(stuck.id, owner: user).state.isTerminal }
            let record = try await deployments.get(stuck.id, owner: user)
            #expect(record.state == .failed)
            #expect(record.reason == "stuck" || record.reason == "deadline_exceeded")
            vercel.setStall(false)
            vercel.setFail(true)
            let failing = try await deployments.start(project: project, owner: user, platform: "vercel", version: nil, settings: nil, idempotencyKey: nil)
            try await Self.drive(engine, deployments) { try await deployments.get(failing.id, owner: user).state.isTerminal }
            #expect(try await deployments.get(failing.id, owner: user).reason?.contains("BUILD_FAILED") == true)
            vercel.setFail(false)
            vercel.setStall(true)
            let cancelled = try await deployments.start(project: project, owner: user, platform: "vercel", version: nil, settings: nil, idempotencyKey: nil)
            for record in try await engine.storage.deployments.due(at: engine.clock.date, limit: 100) { await deployments.step(record) }
            #expect(try await deployments.cancel(cancelled.id, owner: user).state == .cancelled)
            #expect(vercel.deployment(tagged: cancelled.id)?.readyState == "CANCELED")
            await expectEngineError(.conflict) { try await deployments.cancel(cancelled.id, owner: user) }
        }
    }

    @Test(arguments: Backend.allCases) func badStartsAreNamedAndQueueNothing(_ backend: Backend) async throws {
        try await Self.withVercel(on: backend) { engine, _, deployments, user, project in
            await expectEngineError(.invalidParameter, parameter: "platform") {
                try await deployments.start(project: project, owner: user, platform: "heroku", version: nil, settings: nil, idempotencyKey: nil)
            }
            let badSettings: [[String: JSONValue]] =
                [["SECRET": "x"], ["VITE_1X": "x", "1X": "y"], ["VITE_N": 3], ["VITE A": "x"], "VITE_X=1"].map { ["env": $0] }
                + [["framework": "vite"], ["team": "a team"], ["team": 7], ["region": "iad1"], ["name": "Upper"]]
            for settings in badSettings {
                await expectEngineError(.invalidParameter, parameter: "settings") {
                    try await deployments.start(
                        project: project, owner: user, platform: "vercel", version: nil, settings: settings, idempotencyKey: nil)
                }
            }
            await expectEngineError(.invalidParameter, parameter: "settings") {
                try await deployments.start(
                    project: project, owner: user, platform: "render", version: nil, settings: ["framework": "next"], idempotencyKey: nil)
            }
            // settings.team replaces the configured scope for that job.
            let scoped = try #require(try await deployments.client("vercel", user: user, team: "team_acme") as? VercelClient)
            #expect(scoped.teamID == "team_acme")
            #expect(RenderClient.buildSettings([], framework: "vite") == ("npm ci && npm run build", "dist"))
            #expect(RenderClient.buildSettings([ProjectFile(path: "package.json", contents: #"{"scripts":{"build":"vite build"}}"#)], framework: "static") == ("", "./"))
            let other = try await engine.user()
            await expectEngineError(.notFound) {
                try await deployments.start(project: project, owner: other, platform: "vercel", version: nil, settings: nil, idempotencyKey: nil)
            }
            let unbuilt = try await engine.projects.create(user: user, title: "Plain").id
            _ = try await engine.versions.store(project: unbuilt, owner: user, files: [ProjectFile(path: "a.txt", contents: "a\n")])
            await expectEngineError(.conflict) {
                try await deployments.start(project: unbuilt, owner: user, platform: "vercel", version: nil, settings: nil, idempotencyKey: nil)
            }
            let error = await expectEngineError(.unavailable) {
                try await deployments.start(project: project, owner: user, platform: "netlify", version: nil, settings: nil, idempotencyKey: nil)
            }
            #expect(error?.details["reason"] == .string("platform_not_configured"))
            #expect(try await engine.count("deployments") == 0)
        }
    }

    @Test(arguments: Backend.allCases) func aBuiltVersionGoesLiveOnNetlifyOnOneSitePerProject(_ backend: Backend) async throws {
        let netlify = try await FakeNetlify.start()
        defer { Task { await netlify.shutdown() } }
        try await Self.withVercel(on: backend) { engine, _, _, user, project in
            let settings = DeploySettings(
                stuckMinutes: 10, netlify: .init(apiBase: netlify.baseURL, token: netlify.token, deadlineMinutes: 20))
            let deployments = Deployments(
                repository: engine.storage.deployments, projects: engine.projects, versions: engine.versions,
                http: HTTPClient.shared, settings: { settings }, clock: engine.clock, logger: Logger(label: "deploy-tests"))
            for round in 0..<2 {
                let job = try await deployments.start(
                    project: project, owner: user, platform: "netlify", version: nil, settings: nil, idempotencyKey: "n-\(round)")
                try await Self.drive(engine, deployments) { try await deployments.get(job.id, owner: user).state.isTerminal }
                let done = try await deployments.get(job.id, owner: user)
                #expect(done.state == .live, "\(done.reason ?? "")")
                #expect(done.url?.hasSuffix(".netlify.app") == true)
                let deploy = try #require(netlify.deploy(titled: job.id))
                for file in Self.site { #expect(deploy.files[file.path] == file.bytes, "\(file.path)") }
                #expect(deploy.files["_redirects"] == Array("/*    /index.html   200\n".utf8))
            }
            #expect(netlify.siteCreates == 1, "one site per project")
            #expect(netlify.deployCreates == 2)
        }
    }

    @Test(arguments: Backend.allCases) func renderBuildsTheExportedRepositoryAsAStaticSite(_ backend: Backend) async throws {
        let render = try await FakeRender.start()
        let github = try await FakeGitHub.start()
        defer {
            Task {
                await render.shutdown()
                await github.shutdown()
            }
        }
        try await Self.withVercel(on: backend) { engine, _, _, user, project in
            let exporter = GitHubExporter(
                projects: engine.projects, versions: engine.versions, http: HTTPClient.shared,
                settings: { GitHubSettings(apiBase: github.baseURL, token: github.token) })
            let settings = DeploySettings(
                stuckMinutes: 10, render: .init(apiBase: render.baseURL, token: render.token, deadlineMinutes: 60))
            let deployments = Deployments(
                repository: engine.storage.deployments, projects: engine.projects, versions: engine.versions,
                http: HTTPClient.shared, settings: { settings }, clock: engine.clock, logger: Logger(label: "deploy-tests"),
                github: exporter)
            #expect(deployments.platforms().platforms.first { $0.name == "render" }?.configured == true)
            for round in 0..<2 {
                let job = try await deployments.start(
                    project: project, owner: user, platform: "render", version: nil, settings: nil, idempotencyKey: "r-\(round)")
                try await Self.drive(engine, deployments) { try await deployments.get(job.id, owner: user).state.isTerminal }
                let done = try await deployments.get(job.id, owner: user)
                #expect(done.state == .live, "\(done.reason ?? "")")
                #expect(done.url == "https://\(Deployments.defaultName(done)).onrender.com")
            }
            #expect(render.serviceCreates == 1, "one service per project")
            #expect(render.deployCreates == 2)
            let service = try #require(render.services.first)
            #expect(service.repo == "https://github.com/ada/soap")
            #expect(service.buildCommand.isEmpty && service.publishPath == "./", "a plain static site is published as it is")
            #expect(Set(github.files("ada/soap").keys) == ["src/main.jsx"], "the sources went to GitHub")

            // settings.env: every name reaches Render as a service variable, replaced by the next job's.
            for (round, env) in [["DATABASE_URL": "postgres://db/app", "VITE_TITLE": "Soap"], ["API_KEY": "k"]].enumerated() {
                let job = try await deployments.start(
                    project: project, owner: user, platform: "render", version: nil,
                    settings: ["env": .object(env.mapValues { .string($0) })], idempotencyKey: "env-\(round)")
                try await Self.drive(engine, deployments) { try await deployments.get(job.id, owner: user).state.isTerminal }
                #expect(try await deployments.get(job.id, owner: user).state == .live)
                #expect(render.services.first?.env == env)
            }
            #expect(render.serviceCreates == 1)
        }
    }

    /// An app that reads `import.meta.env.VITE_API_URL`.
    static let envApp: [ProjectFile] = [
        ProjectFile(path: "index.html", contents: """
            <!doctype html>
            <html><head><title>Env</title></head><body><div id="root"></div><script type="module" src="/src/main.jsx"></script></body></html>
            """),
        ProjectFile(path: "src/main.jsx", contents: """
            import { createRoot } from 'react-dom/client'
            createRoot(document.getElementById('root')).render(<p>{import.meta.env.VITE_API_URL ?? 'no api'}</p>)
            """),
    ]

    @Test(.enabled(if: BuildSettings().resolvedEsbuild() != nil && FileManager.default.fileExists(atPath: "/usr/share/nodejs/react")))
    func viteVariablesRebuildTheSiteForThatDeploymentOnly() async throws {
        var buildSettings = BuildSettings()
        buildSettings.scratchDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("vtde-\(UUID().uuidString.prefix(8))").path
        let builder = try SiteBuilder(settings: buildSettings)
        let vercel = try await FakeVercel.start()
        defer { Task { await vercel.shutdown() } }
        vercel.setInstant(true)
        try await withEngine(builder: builder) { engine in
            let settings = DeploySettings(stuckMinutes: 10, vercel: .init(apiBase: vercel.baseURL, token: vercel.token, deadlineMinutes: 50))
            let deployments = Deployments(
                repository: engine.storage.deployments, projects: engine.projects, versions: engine.versions,
                http: HTTPClient.shared, settings: { settings }, clock: engine.clock, logger: Logger(label: "deploy-tests"))
            let user = try await engine.user()
            let project = try await engine.projects.create(user: user, title: "Env").id
            let version = try await engine.versions.store(project: project, owner: user, files: Self.envApp)
            _ = version
            #expect(try await engine.versions.build(project: project, owner: user, version: nil).status == .ok)
            let url = "https://api.example.test/v1"
            var sites: [[String: [UInt8]]] = []
            for (round, env) in [["VITE_API_URL": url], ["VITE_API_URL": url], [:]].enumerated() {
                let job = try await deployments.start(
                    project: project, owner: user, platform: "vercel", version: nil,
                    settings: env.isEmpty ? nil : ["env": .object(env.mapValues { .string($0) })], idempotencyKey: "v-\(round)")
                try await Self.drive(engine, deployments) { try await deployments.get(job.id, owner: user).state.isTerminal }
                #expect(try await deployments.get(job.id, owner: user).state == .live)
                sites.append(try #require(vercel.deployment(tagged: job.id)).files)
            }
            let withURL = { (site: [String: [UInt8]]) in
                site.contains { $0.key.hasSuffix(".js") && String(decoding: $0.value, as: UTF8.self).contains(url) }
            }
            #expect(withURL(sites[0]), "the value is in the bundle")
            #expect(sites[0] == sites[1], "the same env builds the same site")
            #expect(!withURL(sites[2]), "a deployment without env gets the version's own build")
            let built = try await engine.versions.builtCode(project: project, owner: user, version: nil).files
            for file in built { #expect(sites[2][file.path] == file.bytes, "\(file.path)") }
        }
    }
}
