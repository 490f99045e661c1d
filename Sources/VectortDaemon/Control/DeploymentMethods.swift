import Engine
import Foundation
import Protocol
import ServiceLifecycle

/// `io.vectort.Deployments`.
enum DeploymentMethods {
    static func register(into table: inout MethodTable, deployments: Deployments) {
        let user = ParameterDescriptor("user", .string, "the user acted for (required for client callers)")
        let deployment = ParameterDescriptor("deployment", .string, required: true, "deployment id")
        table.register(
            MethodDescriptor(
                method: MethodName.deploymentsPlatforms, role: .client,
                summary: "Each platform, whether it is configured and what it needs."),
            .immediate { _, _ in deployments.platforms() })
        table.register(
            MethodDescriptor(
                method: MethodName.deploymentsStart, role: .client,
                parameters: [
                    user, ParameterDescriptor("project", .string, required: true, "project id"),
                    ParameterDescriptor("platform", .string, required: true, "vercel, netlify or render"),
                    ParameterDescriptor("version", .any, "version id or number (default: current)"),
                    ParameterDescriptor("settings", .object, "{env, framework, name, team}"),
                    ParameterDescriptor("idempotency_key", .string, "a repeat returns the same deployment"),
                ], summary: "Queues a deploy job and returns at once; the poller takes it to live."),
            .async { context, p, _ in
                try await deployments.start(
                    project: p.required("project"), owner: p.owner(context), platform: p.required("platform"),
                    version: p.version(), settings: p.values["settings"]?.objectValue,
                    idempotencyKey: p.string("idempotency_key"))
            })
        table.register(
            MethodDescriptor(method: MethodName.deploymentsGet, role: .client, parameters: [user, deployment], summary: "A deploy job."),
            .async { context, p, _ in try await deployments.get(p.required("deployment"), owner: p.owner(context)) })
        table.register(
            MethodDescriptor(
                method: MethodName.deploymentsList, role: .client,
                parameters: [
                    user, ParameterDescriptor("project", .string), ParameterDescriptor("state", .string),
                    ParameterDescriptor("limit", .int, "1 to 200 (default 50)"), ParameterDescriptor("after", .string),
                ], summary: "Deploy jobs, newest first."),
            .async { context, p, _ in
                try await deployments.list(
                    owner: p.owner(context), project: p.string("project"), state: p.string("state"),
                    limit: p.int("limit", default: 50, in: 1...200), after: p.string("after"))
            })
        table.register(
            MethodDescriptor(
                method: MethodName.deploymentsCancel, role: .client, parameters: [user, deployment],
                summary: "Cancels a deploy job that has not ended, and its deployment on the platform."),
            .async { context, p, _ in try await deployments.cancel(p.required("deployment"), owner: p.owner(context)) })
        table.register(
            MethodDescriptor(
                method: MethodName.deploymentsWatch, role: .client, streams: true, parameters: [user, deployment],
                summary: "Streams each state the job reaches (with more); the final reply is the job once it ended."),
            .onLoop { context, p, replies in
                try await deployments.watch(p.required("deployment"), owner: p.owner(context)) { job in
                    try await replies.yield(job)
                }
            })
    }
}

/// The one poller of every deploy job.
struct DeployPollerService: Service {
    let deployments: Deployments

    func run() async throws {
        await cancelWhenGracefulShutdown { await deployments.run() }
    }
}
