import Engine
import Protocol
import Generation
import VectortCore

/// `io.vectort.Projects.Generate`, `Projects.ListGenerations` and `io.vectort.Providers`.
enum GenerationMethods {
    static func register(
        into table: inout MethodTable, pipeline: GenerationPipeline, store: GenerationStore, registry: ProviderRegistry,
        engine: Engine
    ) {
        let optionalUser = ParameterDescriptor("user", .string, "the user acted for (required for client callers)")
        let project = ParameterDescriptor("project", .string, required: true, "project id")

        table.register(
            MethodDescriptor(
                method: MethodName.projectsGenerate, role: .client, streams: true,
                parameters: [
                    optionalUser, project,
                    ParameterDescriptor("prompt", .string, required: true, "what to build"),
                    ParameterDescriptor("mode", .string, "quick (default) or advanced"),
                    ParameterDescriptor("idempotency_key", .string, "the same key returns the first completed result"),
                    ParameterDescriptor("provider", .string, "a configured provider to try first, then the chain without it"),
                    ParameterDescriptor("base_version", .any, "the version to edit, id or number (default: the current one)"),
                    ParameterDescriptor("fresh", .bool, "start from nothing even when the project has a version"),
                ],
                summary: "Edits the project's current version (or writes a new app) as a new version; streams progress events with more."),
            .onLoop { context, p, replies in
                let modeText = p.string("mode") ?? GenerationMode.quick.rawValue
                guard let mode = GenerationMode(rawValue: modeText) else {
                    throw WireError.invalidParameter("mode", "mode must be quick or advanced, not \"\(modeText)\"")
                }
                return try await pipeline.generate(
                    GenerationPipeline.Request(
                        project: p.required("project"), owner: p.owner(context), prompt: p.required("prompt"), mode: mode,
                        idempotencyKey: p.string("idempotency_key"), provider: p.string("provider"),
                        baseVersion: p.versionNamedIfGiven("base_version"), fresh: p.bool("fresh") ?? false),
                    emit: { event in try await replies.yield(event) })
            })
        table.register(
            MethodDescriptor(
                method: MethodName.projectsCancelGeneration, role: .client,
                parameters: [optionalUser, ParameterDescriptor("generation", .string, required: true, "generation id")],
                summary: "Cancels a running generation from any connection; returns once its hold is released."),
            .async { context, p, _ in
                try await pipeline.cancel(generation: p.required("generation"), owner: p.owner(context))
            })
        table.register(
            MethodDescriptor(
                method: MethodName.projectsListGenerations, role: .client,
                parameters: [optionalUser, project, ParameterDescriptor("limit", .int, "1 to 200 (default 20)")],
                summary: "A project's generations with every provider attempt, newest first (an addition to version 1)."),
            .async { context, p, _ in
                try await store.list(
                    project: p.required("project"), owner: p.owner(context), limit: p.int("limit", default: 20, in: 1...200))
            })
        table.register(
            MethodDescriptor(
                method: MethodName.providersList, role: .client,
                parameters: [
                    ParameterDescriptor(
                        "all_nodes", .bool,
                        "admin: also every node's providers as it last published them (an addition to version 1)")
                ],
                summary: "Providers with breaker state, failures, last error, p50 latency and success rate."),
            .async { context, p, _ in
                var list = await registry.list()
                if p.bool("all_nodes") == true {
                    // Node ids name hosts and directories: the fleet's view is for operators.
                    guard context.role >= .admin else {
                        throw WireError.permissionDenied(method: MethodName.providersList + " {all_nodes}", requiredRole: .admin)
                    }
                    list.nodes = try await engine.fleetProviders(current: list)
                }
                return list
            })
        table.register(
            MethodDescriptor(
                method: MethodName.providersReset, role: .admin,
                parameters: [ParameterDescriptor("provider", .string, required: true, "provider name")],
                summary: "Closes a provider's circuit breaker."),
            .async { _, p, _ in try await registry.reset(p.required("provider")) })
    }
}
