import ArgumentParser
import Foundation
import Protocol

struct DeployCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deploy",
        abstract: "Deploy a project's version to a platform (vercel, netlify, render); --watch follows it until it is live.",
        discussion: """
            Queues a deploy job and prints it; the daemon's poller takes it to live. The version must have built \
            (see `build`): its built site is what goes live. With --watch, each state change is printed until the \
            job ends, then `live: URL` (exit 0) or `failed: reason` (exit 1).
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var target: ProjectTarget

    @Option(name: .long, help: "vercel, netlify or render (render exports to GitHub first).")
    var platform: String

    @Option(name: .long, help: "Version id or number (default: the current one).")
    var version: String?

    @Option(name: .long, help: "The platform project name (lower-case letters, digits, -).")
    var name: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "NAME=value for settings.env (repeatable). Vercel and Netlify take VITE_ names only, built into the public bundle; Render takes any name as a service variable.",
            valueName: "NAME=value"))
    var env: [String] = []

    @Option(name: .long, help: "A repeat with the same key returns the same deployment.")
    var idempotencyKey: String?

    @Flag(name: .long, help: "Follow the job until it ends.")
    var watch = false

    func run() throws {
        var parameters = target.parameters
        parameters["platform"] = .string(platform)
        if let version { parameters["version"] = Int(version).map { .int(Int64($0)) } ?? .string(version) }
        var settings: [String: JSONValue] = [:]
        if let name { settings["name"] = .string(name) }
        if !env.isEmpty {
            var values: [String: JSONValue] = [:]
            for entry in env {
                guard let equals = entry.firstIndex(of: "="), equals != entry.startIndex else {
                    throw ValidationError("--env \(entry): expected NAME=value")
                }
                values[String(entry[..<equals])] = .string(String(entry[entry.index(after: equals)...]))
            }
            settings["env"] = .object(values)
        }
        if !settings.isEmpty { parameters["settings"] = .object(settings) }
        if let idempotencyKey { parameters["idempotency_key"] = .string(idempotencyKey) }
        try global.run {
            let client = try global.connect()
            let job = try decode(Deployment.self, try client.call(MethodName.deploymentsStart, parameters))
            guard watch else {
                Output.render(job, as: global.format)
                return
            }
            try Deployments.follow(job, client: client, user: target.user, global: global)
        }
    }
}

struct Deployments: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deployments", abstract: "Deploy jobs: list, show, cancel, watch.",
        subcommands: [List.self, Show.self, Cancel.self, Watch.self])

    /// Prints each state the job reaches (streamed by `Deployments.Watch`) until it ends; exit
    /// 1 unless it is live.
    static func follow(_ first: Deployment, client: VectortClient, user: String?, global: GlobalOptions) throws {
        if !first.state.isTerminal { Output.render(Progress(job: first), as: global.streamFormat) }
        var parameters: [String: JSONValue] = ["deployment": .string(first.id)]
        if let user { parameters["user"] = .string(user) }
        var last = first.state
        let final = try client.callStreaming(MethodName.deploymentsWatch, parameters, timeout: global.timeout ?? 3600) { reply in
            guard let job = try? decode(Deployment.self, .object(reply.parameters ?? [:])), job.state != last else { return }
            last = job.state
            Output.render(Progress(job: job), as: global.streamFormat)
        }
        let job = try decode(Deployment.self, final)
        Output.render(job, as: global.format)
        if job.state != .live { throw ExitCode(ExitCodes.failure) }
    }

    struct Progress: CommandResult {
        var job: Deployment
        func encode(to encoder: any Encoder) throws { try job.encode(to: encoder) }
        var text: String { Output.lines("\(job.id) \(job.platform): \(job.state.rawValue)") }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List deploy jobs, newest first.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var page: PageOptions
        @Option(name: .long, help: "Only this user's (required for client callers).") var user: String?
        @Option(name: .long, help: "Only this project's.") var project: String?
        @Option(name: .long, help: "queued, uploading, building, live, failed or cancelled.") var state: String?

        func run() throws {
            var parameters: [String: JSONValue] = [:]
            if let user { parameters["user"] = .string(user) }
            if let project { parameters["project"] = .string(project) }
            if let state { parameters["state"] = .string(state) }
            try global.run {
                let client = try global.connect()
                let list = try page.fetch(
                    parameters, call: { try decode(DeploymentList.self, try client.call(MethodName.deploymentsList, $0)) },
                    next: \.nextAfter, merge: { $0.deployments += $1.deployments; $0.nextAfter = $1.nextAfter })
                Output.render(list, as: global.format)
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a deploy job.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var target: DeploymentTarget

        func run() throws {
            let parameters = target.parameters
            try global.run {
                Output.render(try decode(Deployment.self, try global.connect().call(MethodName.deploymentsGet, parameters)), as: global.format)
            }
        }
    }

    struct Cancel: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Cancel a deploy job that has not ended (and its deployment on the platform).")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var target: DeploymentTarget

        func run() throws {
            let parameters = target.parameters
            try global.run {
                Output.render(try decode(Deployment.self, try global.connect().call(MethodName.deploymentsCancel, parameters)), as: global.format)
            }
        }
    }

    struct Watch: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Follow a deploy job until it ends.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var target: DeploymentTarget

        func run() throws {
            let parameters = target.parameters
            try global.run {
                let client = try global.connect()
                let job = try decode(Deployment.self, try client.call(MethodName.deploymentsGet, parameters))
                try Deployments.follow(job, client: client, user: target.user, global: global)
            }
        }
    }
}

/// The job a `deployments` command acts on, and the user a client caller acts for.
struct DeploymentTarget: ParsableArguments {
    @Argument(help: "Deployment id (dep_…).")
    var deployment: String

    @Option(name: .long, help: "The user it belongs to (required for client callers).")
    var user: String?

    var parameters: [String: JSONValue] {
        var parameters: [String: JSONValue] = ["deployment": .string(deployment)]
        if let user { parameters["user"] = .string(user) }
        return parameters
    }
}

extension Deployment: CommandResult {
    var text: String {
        switch state {
        case .live: return Output.lines("live: \(url ?? "")", "  \(id) \(platform) version \(version)")
        case .failed: return Output.lines("failed: \(reason ?? "")", "  \(id) \(platform) version \(version)")
        default: return Output.lines("\(id) \(platform): \(state.rawValue)")
        }
    }
}

extension DeploymentList: CommandResult {
    var text: String {
        let rows = deployments.map { [$0.id, $0.project, $0.platform, $0.state.rawValue, $0.url ?? $0.reason ?? "", $0.createdAt] }
        return Output.lines(Output.table([["DEPLOYMENT", "PROJECT", "PLATFORM", "STATE", "URL / REASON", "CREATED"]] + rows))
    }
}
