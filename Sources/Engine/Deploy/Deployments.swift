public import AsyncHTTPClient
public import Foundation
public import Logging
public import Protocol
public import VectortCore
package import Storage
public import Observability
import Build

/// Deploy settings from configuration and credentials (replaced on reload).
public struct DeploySettings: Sendable, Equatable {
    public struct Platform: Sendable, Equatable {
        public var apiBase: String
        public var token: String?
        public var team: String
        public var deadlineMinutes: Double

        public init(apiBase: String, token: String? = nil, team: String = "", deadlineMinutes: Double) {
            self.apiBase = apiBase
            self.token = token
            self.team = team
            self.deadlineMinutes = deadlineMinutes
        }
    }

    public var stuckMinutes: Double
    public var vercel: Platform
    public var netlify: Platform
    public var render: Platform
    /// Outbound platform calls in flight at once, across all jobs.
    public var maxConcurrentCalls: Int

    public init(
        stuckMinutes: Double = 10, vercel: Platform = Platform(apiBase: "https://api.vercel.com", deadlineMinutes: 50),
        netlify: Platform = Platform(apiBase: "https://api.netlify.com/api/v1", deadlineMinutes: 20),
        render: Platform = Platform(apiBase: "https://api.render.com/v1", deadlineMinutes: 60), maxConcurrentCalls: Int = 16
    ) {
        self.stuckMinutes = stuckMinutes
        self.vercel = vercel
        self.netlify = netlify
        self.render = render
        self.maxConcurrentCalls = maxConcurrentCalls
    }

    func platform(_ name: String) -> Platform? {
        switch name {
        case "vercel": vercel
        case "netlify": netlify
        case "render": render
        default: nil
        }
    }
}

/// `io.vectort.Deployments`: jobs persisted at once, driven by one poller that steps every due
/// job through its `DeploymentMachine`, persisting each transition before acting on it.
public final class Deployments: Sendable {
    package let repository: any DeploymentRepository
    let projects: Projects
    let versions: Versions
    let http: HTTPClient
    let settings: @Sendable () -> DeploySettings
    let clock: any VectortClock
    let logger: Logger
    /// A platform whose credential must not be called before this time (`Retry-After`).
    private let blockedUntil = Locked<[String: Date]>([:])
    /// Exports for platforms that build from a repository (Render).
    let github: GitHubExporter?
    /// Users' own platform accounts, used before the operator's tokens.
    let accounts: ConnectedAccounts?
    let observer: Observer
    /// The last state this node reported of each job not yet ended: a state event goes out
    /// when a job's state changes.
    private let reported = Locked<[String: DeploymentState]>([:])
    /// Tests replace the platform clients.
    let clientFor: Locked<(@Sendable (String, DeploySettings) -> (any DeployPlatformClient)?)?>

    /// Platforms this release deploys to.
    static let implemented: Set<String> = ["vercel", "netlify", "render"]

    package init(
        repository: any DeploymentRepository, projects: Projects, versions: Versions, http: HTTPClient,
        settings: @escaping @Sendable () -> DeploySettings, clock: any VectortClock = SystemClock(),
        observer: Observer = Observer(), logger: Logger, github: GitHubExporter? = nil, accounts: ConnectedAccounts? = nil
    ) {
        self.observer = observer
        self.github = github
        self.accounts = accounts
        self.repository = repository
        self.projects = projects
        self.versions = versions
        self.http = http
        self.settings = settings
        self.clock = clock
        self.logger = logger
        clientFor = Locked(nil)
    }

    // MARK: Calls

    public func platforms() -> PlatformList {
        let settings = settings()
        return PlatformList(platforms: [
            PlatformInfo(
                name: "vercel", configured: settings.vercel.token?.isEmpty == false,
                needs: "the vercel-token credential (deploy.vercel.team_id for a team), or the user's connected Vercel account; deploys the version's built site"),
            PlatformInfo(
                name: "netlify", configured: settings.netlify.token?.isEmpty == false,
                needs: "the netlify-token credential (deploy.netlify.account_slug for a team), or the user's connected Netlify account; deploys the version's built site"),
            PlatformInfo(
                name: "render", configured: settings.render.token?.isEmpty == false && github?.configured == true,
                needs: "the render-api-key and github-token credentials (or the user's connected Render and GitHub accounts): the version is exported to GitHub, then built by a Render static site"),
        ])
    }

    public func start(
        project id: String, owner: String?, platform: String, version: String?, settings requested: [String: JSONValue]?,
        idempotencyKey: String?
    ) async throws -> Deployment {
        try EngineError.refuseNUL(["project": id, "platform": platform, "version": version, "idempotency_key": idempotencyKey])
        guard Self.implemented.contains(platform) else {
            throw EngineError.invalid("platform", "platform must be vercel, netlify or render, not \"\(platform)\"")
        }
        let options = requested ?? [:]
        for key in options.keys where !["env", "framework", "name", "team"].contains(key) {
            throw EngineError.invalid("settings", "unknown setting \"\(key)\" (env, framework, name, team)")
        }
        _ = try Self.env(options["env"], platform: platform)
        if let name = options["name"], name.stringValue.map(Self.validName) != true {
            throw EngineError.invalid("settings", "settings.name must be 1 to 100 lower-case letters, digits and -")
        }
        if let team = options["team"],
            team.stringValue.map({ (1...100).contains($0.count) && $0.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") } })
                != true
        {
            throw EngineError.invalid("settings", "settings.team must be 1 to 100 letters, digits, - and _ (a Vercel team id, Netlify account slug or Render owner id)")
        }
        if let framework = options["framework"] {
            guard platform == "render" else {
                throw EngineError.invalid(
                    "settings", "settings.framework applies to Render only: \(platform) receives the site vectortd built")
            }
            guard let name = framework.stringValue, ["vite", "static"].contains(name) else {
                throw EngineError.invalid("settings", "settings.framework must be vite or static")
            }
        }
        if let key = idempotencyKey, key.isEmpty || key.utf8.count > 255 {
            throw EngineError.invalid("idempotency_key", "idempotency_key must be 1 to 255 bytes")
        }
        let project = try await projects.get(id, owner: owner)
        let build = try await versions.build(project: id, owner: owner, version: version)
        // Render builds from the repository; the others serve our build.
        guard build.status == .ok || platform == "render" else {
            throw EngineError(
                WireError(
                    .conflict, "version \(build.version) has no successful build (\(build.status.rawValue))",
                    ["reason": .string("version \(build.version) has no successful build")]))
        }
        guard try await configured(platform, user: project.user) else {
            throw EngineError(
                WireError(
                    .unavailable, "\(platform) is not configured on this daemon (see Deployments.Platforms)",
                    ["reason": "platform_not_configured", "platform": .string(platform)]))
        }
        let (deployment, _) = try await repository.create(
            DeploymentCreate(
                user: project.user, project: id, version: build.version, platform: platform, settings: options,
                idempotencyKey: idempotencyKey), now: clock.date)
        var log = logger
        log[metadataKey: "deployment"] = "\(deployment.id)"
        log[metadataKey: "project"] = "\(id)"
        log[metadataKey: "platform"] = "\(platform)"
        log.info("deployment queued", metadata: ["version": "\(build.version)"])
        report(deployment)
        return deployment
    }

    public func get(_ id: String, owner: String?) async throws -> Deployment {
        try await repository.get(id, user: owner).deployment
    }

    public func list(owner: String?, project: String?, state: String?, limit: Int, after: String?) async throws -> DeploymentList {
        var filter: DeploymentState?
        if let state {
            guard let known = DeploymentState(rawValue: state) else {
                throw EngineError.invalid("state", "state must be one of \(DeploymentState.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            filter = known
        }
        return try await repository.list(user: owner, project: project, state: filter, limit: limit, after: after)
    }

    /// Cancels a job that has not ended; the platform's deployment is cancelled too.
    public func cancel(_ id: String, owner: String?) async throws -> Deployment {
        let record = try await repository.get(id, user: owner)
        guard !record.deployment.state.isTerminal else {
            throw EngineError.conflict("deployment \(id) is \(record.deployment.state.rawValue)")
        }
        var machine = machine(for: record, settings: settings())
        let action = machine.handle(.cancel, now: clock.date)
        let saved = try await persist(record.deployment.id, machine, next: nil)
        if action == .cancelRemote, let platformID = machine.platformID,
            let client = try? await client(record.deployment.platform, user: record.deployment.user, team: record.settings["team"]?.stringValue)
        {
            do { try await client.cancel(platformID) } catch {
                logger.warning("the platform did not cancel the deployment", metadata: ["deployment": "\(id)", "error": "\(error)"])
            }
        }
        return saved
    }

    public func inFlight() async throws -> Int { try await repository.activeCount() }

    /// Creations (and look-ups after a crash) of one platform project, site or service run one
    /// at a time: concurrent jobs of a project would otherwise race to create its site.
    private let creating = KeyedLock()

    /// Sites built with a job's own `settings.env`, by job id, while the job runs (a rebuild is
    /// deterministic, so losing one only costs building it again).
    private let rebuilt = Locked<[(id: String, files: [ProjectFile])]>([])

    /// Jobs not ended, as the poller last counted them (for the service status line).
    public var inFlightCount: Int { counted.value }
    private let counted = Locked(0)

    /// `Watch`: hands each state the job reaches to `emit` and returns the job once it ended.
    public func watch(
        _ id: String, owner: String?, every interval: Duration = .milliseconds(250),
        emit: @escaping @Sendable (Deployment) async throws -> Void
    ) async throws -> Deployment {
        var last: DeploymentState?
        while true {
            let job = try await repository.get(id, user: owner).deployment
            if job.state.isTerminal { return job }
            if job.state != last {
                try await emit(job)
                last = job.state
            }
            try await clock.sleep(for: interval)
        }
    }

    // MARK: The poller

    /// Steps every due job until cancelled: one loop for all jobs, at most
    /// `maxConcurrentCalls` platform calls at once.
    public func run(interval: Duration = .milliseconds(250)) async {
        // A previous process may have pushed jobs back while it worked on them; it is gone.
        if let resumed = try? await repository.resumeAll(now: clock.date), resumed > 0 {
            logger.info("deployments resumed", metadata: ["deployments.resumed": "\(resumed)"])
        }
        var sinceCount = 19
        while !Task.isCancelled {
            sinceCount += 1
            if sinceCount >= 20, let count = try? await repository.activeCount() {
                counted.value = count
                sinceCount = 0
            }
            do {
                let due = try await repository.due(at: clock.date, limit: 256)
                let limit = max(1, settings().maxConcurrentCalls)
                await withTaskGroup(of: Void.self) { group in
                    var running = 0
                    for record in due {
                        if running >= limit {
                            await group.next()
                            running -= 1
                        }
                        group.addTask { await self.step(record) }
                        running += 1
                    }
                }
            } catch {
                logger.warning("deploy poller could not read its jobs", metadata: ["error": "\(error)"])
            }
            try? await clock.sleep(for: interval)
        }
    }

    /// One job, as far as it can go now; persisted after each transition.
    func step(_ record: DeploymentRecord) async {
        let settings = settings()
        let job = record.deployment
        var log = logger
        log[metadataKey: "deployment"] = "\(job.id)"
        log[metadataKey: "project"] = "\(job.project)"
        log[metadataKey: "platform"] = "\(job.platform)"
        var machine = machine(for: record, settings: settings)
        let client: any DeployPlatformClient
        do {
            guard let made = try await self.client(job.platform, user: job.user, team: record.settings["team"]?.stringValue) else {
                _ = machine.handle(.refused(reason: "\(job.platform) is no longer configured"), now: clock.date)
                _ = try? await persist(job.id, machine, next: nil, lease: record.lease)
                return
            }
            client = made
        } catch {
            // The user's connected account cannot be read: the job says so, it never falls back.
            let reason = (error as? EngineError)?.wireError.message ?? "\(error)"
            _ = machine.handle(.refused(reason: reason), now: clock.date)
            _ = try? await persist(job.id, machine, next: nil, lease: record.lease)
            return
        }
        if let until = blockedUntil.withLock({ $0[job.platform] }), until > clock.date {
            // The platform asked us to wait: no call for this credential before then.
            _ = try? await persist(job.id, machine, next: until, lease: record.lease)
            return
        }
        var action = machine.handle(.resume, now: clock.date)
        do {
            for _ in 0..<8 {
                switch action {
                case .create:
                    // Persisted first: after a crash this job is looked up, never created twice blindly.
                    if job.platform == "render" { machine.state = .exporting }
                    _ = try await persist(job.id, machine, next: clock.date.addingTimeInterval(60), lease: record.lease)
                    let context = context(record)
                    let id = try await creating.withLock("\(job.platform)\u{0}\(context.name)") { try await client.create(context) }
                    action = machine.handle(.created(platformID: id), now: clock.date)
                    log.info("deployment created", metadata: ["platform_id": "\(id)"])
                case .lookup:
                    let context = context(record)
                    if let id = try await creating.withLock("\(job.platform)\u{0}\(context.name)", { try await client.lookup(context) }) {
                        action = machine.handle(.created(platformID: id), now: clock.date)
                    } else {
                        action = machine.handle(.notFound, now: clock.date)
                    }
                case .poll(let after) where after > .zero:
                    _ = try await persist(job.id, machine, next: clock.date.addingTimeInterval(DeploymentMachine.seconds(after)), lease: record.lease)
                    return
                case .poll:
                    guard let platformID = machine.platformID else { return }
                    let (remote, url, reason) = try await client.status(platformID)
                    action = machine.handle(.remote(remote, url: url, reason: reason), now: clock.date)
                case .cancelRemote, .none:
                    let saved = try await persist(job.id, machine, next: nil, lease: record.lease)
                    if saved.state.isTerminal {
                        log.info(
                            "deployment \(saved.state.rawValue)",
                            metadata: ["url": "\(saved.url ?? "")", "reason": "\(saved.reason ?? "")"])
                    }
                    return
                }
            }
        } catch let failure as DeployFailure {
            switch failure {
            case .transient(let message, let retryAfter):
                if let retryAfter {
                    let until = clock.date.addingTimeInterval(min(max(retryAfter, 1), 3600))
                    blockedUntil.withLock { $0[job.platform] = max($0[job.platform] ?? until, until) }
                }
                action = machine.handle(.transient, now: clock.date)
                log.notice("deployment call failed; trying again", metadata: ["error": "\(message)"])
            case .refused(let reason):
                action = machine.handle(.refused(reason: reason), now: clock.date)
            }
            var next: Date?
            if case .poll(let after) = action {
                next = clock.date.addingTimeInterval(DeploymentMachine.seconds(after))
                if let until = blockedUntil.withLock({ $0[job.platform] }), until > (next ?? .distantPast) { next = until }
            }
            _ = try? await persist(job.id, machine, next: next, lease: record.lease)
        } catch let error as EngineError {
            _ = machine.handle(.refused(reason: error.wireError.message), now: clock.date)
            _ = try? await persist(job.id, machine, next: nil, lease: record.lease)
        } catch is DeploymentLeaseLost {
            // Another node holds the job now (this node's lease expired): it goes on from what
            // was saved last, and this node makes no further call for it.
            log.notice("deploy job taken over by another node")
        } catch {
            log.warning("deployment step failed", metadata: ["error": "\(error)"])
        }
    }

    // MARK: Helpers

    func machine(for record: DeploymentRecord, settings: DeploySettings) -> DeploymentMachine {
        let job = record.deployment
        var machine = DeploymentMachine(
            state: job.state, platformID: job.platformID, createdAt: Timestamps.parse(job.createdAt) ?? clock.date,
            lastProgress: record.lastProgress, polls: record.polls,
            stuckAfter: .milliseconds(Int64(settings.stuckMinutes * 60_000)),
            deadline: .milliseconds(Int64((settings.platform(job.platform)?.deadlineMinutes ?? 60) * 60_000)))
        machine.url = job.url
        machine.reason = job.reason
        return machine
    }

    /// Saves the job's state; `lease` fences the save (a poller's step): when another node
    /// took the job meanwhile it throws `DeploymentLeaseLost` and this node goes no further.
    private func persist(_ id: String, _ machine: DeploymentMachine, next: Date?, lease: Int64? = nil) async throws
        -> Deployment
    {
        if machine.state.isTerminal { rebuilt.withLock { $0.removeAll { $0.id == id } } }
        let saved = try await repository.save(
            DeploymentUpdate(
                id: id, state: machine.state, platformID: machine.platformID, url: machine.url, reason: machine.reason,
                lastProgress: machine.lastProgress, polls: machine.polls, nextStepAt: machine.state.isTerminal ? nil : next,
                lease: lease),
            now: clock.date)
        report(saved)
        return saved
    }

    /// A job's state, when it changed: a `deployment.state` event, and at its end the outcome
    /// and (live) the time it took.
    private func report(_ job: Deployment) {
        let changed = reported.withLock { reported -> Bool in
            let changed = reported[job.id] != job.state
            if job.state.isTerminal { reported[job.id] = nil } else { reported[job.id] = job.state }
            return changed
        }
        guard changed else { return }
        var fields: [String: JSONValue] = [
            "deployment": .string(job.id), "project": .string(job.project), "platform": .string(job.platform),
            "state": .string(job.state.rawValue),
        ]
        if let url = job.url { fields["url"] = .string(url) }
        if let reason = job.reason { fields["reason"] = .string(reason) }
        observer.events.publish("deployment.state", fields)
        guard job.state.isTerminal else { return }
        observer.metrics.increment(Metric.deployments, [job.platform, job.state.rawValue])
        if job.state == .live, let created = Timestamps.parse(job.createdAt) {
            observer.metrics.record(
                Metric.deploymentTimeToLive, [job.platform], Duration.milliseconds(Int64(max(0, clock.date.timeIntervalSince(created)) * 1000)))
        }
    }

    /// The jobs not ended, as `Events.Subscribe`'s snapshot shows them.
    public func snapshot() async throws -> [JSONValue] {
        var found: [JSONValue] = []
        for state in DeploymentState.allCases where !state.isTerminal {
            let page = try await repository.list(user: nil, project: nil, state: state, limit: 200, after: nil)
            for job in page.deployments {
                found.append(.object([
                    "deployment": .string(job.id), "project": .string(job.project), "platform": .string(job.platform),
                    "state": .string(job.state.rawValue), "created_at": .string(job.createdAt),
                ]))
            }
        }
        return found
    }

    private func context(_ record: DeploymentRecord) -> DeployJobContext {
        let job = record.deployment
        let github = github
        let env = (try? Self.env(record.settings["env"], platform: job.platform)) ?? [:]
        return DeployJobContext(
            id: job.id, name: record.settings["name"]?.stringValue ?? Self.defaultName(job), env: env,
            framework: record.settings["framework"]?.stringValue,
            files: { try await self.siteFiles(job, env: env) },
            export: {
                guard let github else { throw DeployFailure.refused("GitHub export is not configured (github-token)") }
                return try await github.export(
                    project: job.project, owner: nil, version: job.version, repo: nil, private: false,
                    message: "\(job.platform) deployment \(job.id)", force: false)
            },
            sources: { try await self.versions.code(project: job.project, owner: nil, version: job.version).files })
    }

    /// The site to upload: the version's build, or, with `settings.env`, the version built again
    /// with those `VITE_*` values into the job's own output.
    private func siteFiles(_ job: Deployment, env: [String: String]) async throws -> [ProjectFile] {
        do {
            guard !env.isEmpty else {
                return try await versions.builtCode(project: job.project, owner: nil, version: job.version).files
            }
            if let cached = rebuilt.withLock({ $0.first { $0.id == job.id }?.files }) { return cached }
            guard let builder = versions.builder, builder.settings.enabled else {
                throw DeployFailure.refused("settings.env needs a build, and builds are off on this daemon")
            }
            let sources = try await versions.code(project: job.project, owner: nil, version: job.version).files
            let build = try await builder.build(sources, env: env)
            guard build.status == .ok else {
                let first = build.errors.first.map { ": \($0.path ?? "")\($0.line.map { ":\($0)" } ?? "") \($0.message)" } ?? ""
                throw DeployFailure.refused("the build with settings.env failed\(first)")
            }
            rebuilt.withLock { cache in
                cache.removeAll { $0.id == job.id }
                cache.append((job.id, build.files))
                if cache.count > 8 { cache.removeFirst(cache.count - 8) }
            }
            return build.files
        } catch let error as EngineError where error.wireError.name == .notFound {
            throw DeployFailure.refused("the version's built site is gone (its project was deleted)")
        }
    }

    /// `settings.env` checked: names of letters, digits and `_` not starting with a digit, values
    /// strings, bounded. A static site (Vercel, Netlify) only receives `VITE_*` names, which Vite
    /// bakes into the bundle at build time (so they are public); Render gets every name as a
    /// service environment variable.
    static func env(_ value: JSONValue?, platform: String) throws -> [String: String] {
        guard let value, value != .null else { return [:] }
        guard let object = value.objectValue else {
            throw EngineError.invalid("settings", "settings.env must be an object of NAME: \"value\" strings")
        }
        guard object.count <= 100 else { throw EngineError.invalid("settings", "settings.env has more than 100 entries") }
        var env: [String: String] = [:]
        var total = 0
        for (name, entry) in object.sorted(by: { $0.key < $1.key }) {
            guard let first = name.unicodeScalars.first, name.utf8.count <= 128,
                first == "_" || (first.isASCII && first.properties.isAlphabetic),
                name.unicodeScalars.allSatisfy({ $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) })
            else {
                throw EngineError.invalid(
                    "settings", "settings.env name \"\(name)\" is not a variable name (letters, digits and _, not starting with a digit)")
            }
            guard let text = entry.stringValue else {
                throw EngineError.invalid("settings", "settings.env.\(name) must be a string")
            }
            guard !text.contains("\u{0}") else { throw EngineError.invalid("settings", "settings.env.\(name) holds a NUL byte") }
            if platform != "render" && !name.hasPrefix("VITE_") {
                throw EngineError.invalid(
                    "settings",
                    "settings.env.\(name): a static deployment only receives VITE_ variables, which the build bakes into the site; \(platform) never sees \(name)")
            }
            total += name.utf8.count + text.utf8.count
            env[name] = text
        }
        guard total <= 32 * 1024 else { throw EngineError.invalid("settings", "settings.env is larger than 32 KB") }
        return env
    }

    /// Whether a job of `user` on `platform` has its tokens: the user's connected account or the
    /// operator's credential (and for Render, GitHub's too).
    func configured(_ platform: String, user: String) async throws -> Bool {
        guard Self.implemented.contains(platform) else { return false }
        let operatorToken = settings().platform(platform)?.token?.isEmpty == false
        let own = try await accounts?.token(user: user, platform: platform) != nil
        guard operatorToken || own else { return false }
        guard platform == "render" else { return true }
        return try await github?.configured(for: user) == true
    }

    /// The client for a job of `user`: with the user's connected account when there is one (in
    /// the account's own scope, not the operator's team), else with the operator's token.
    func client(_ platform: String, user: String, team requested: String? = nil) async throws -> (any DeployPlatformClient)? {
        let settings = settings()
        if let make = clientFor.value { return make(platform, settings) }
        guard let platformSettings = settings.platform(platform) else { return nil }
        let own = try await accounts?.token(user: user, platform: platform)
        guard let token = own ?? platformSettings.token, !token.isEmpty else { return nil }
        let team = requested ?? (own == nil ? platformSettings.team : "")
        switch platform {
        case "vercel":
            return VercelClient(http: http, base: platformSettings.apiBase, token: token, connected: own != nil, teamID: team)
        case "netlify":
            return NetlifyClient(http: http, base: platformSettings.apiBase, token: token, connected: own != nil, account: team)
        case "render":
            return RenderClient(http: http, base: platformSettings.apiBase, token: token, connected: own != nil, owner: team)
        default:
            return nil
        }
    }

    static func defaultName(_ job: Deployment) -> String {
        "vectortd-" + job.project.replacingOccurrences(of: "_", with: "-")
    }

    static func validName(_ name: String) -> Bool {
        (1...100).contains(name.count) && name.allSatisfy { ($0.isASCII && ($0.isLowercase || $0.isNumber)) || $0 == "-" }
    }
}
