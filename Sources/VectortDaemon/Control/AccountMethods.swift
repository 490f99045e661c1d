import Engine
import Foundation
import Protocol
import Generation
import VectortCore

/// `io.vectort.Users` and `io.vectort.Projects`.
enum AccountMethods {
    static func register(
        into table: inout MethodTable, users: Users, projects: Projects, versions: Versions, exporter: ZipExporter,
        diffLimit: Int = 256 * 1024
    ) {
        let user = ParameterDescriptor("user", .string, required: true, "user id")
        let optionalUser = ParameterDescriptor("user", .string, "the user acted for (required for client callers)")
        let project = ParameterDescriptor("project", .string, required: true, "project id")
        let limit = ParameterDescriptor("limit", .int, "page size, 1 to 500 (default 50)")
        let after = ParameterDescriptor("after", .string, "next_after of the previous page")

        table.register(
            MethodDescriptor(
                method: MethodName.usersCreate, role: .client,
                parameters: [
                    ParameterDescriptor("email", .string, required: true, "unique, case-insensitive"),
                    ParameterDescriptor("full_name", .string), ParameterDescriptor("password", .string, "8 characters or more"),
                ], summary: "Creates a user with the configured free credits."),
            .async { _, p, _ in
                try await users.create(email: p.required("email"), fullName: p.string("full_name"), password: p.string("password"))
            })
        table.register(
            MethodDescriptor(method: MethodName.usersGet, role: .client, parameters: [user], summary: "One user."),
            .async { _, p, _ in try await users.get(p.required("user")) })
        table.register(
            MethodDescriptor(method: MethodName.usersList, role: .admin, parameters: [limit, after], summary: "Users, oldest first."),
            .async { _, p, _ in try await users.list(limit: p.int("limit", default: 50, in: 1...500), after: p.string("after")) })
        table.register(
            MethodDescriptor(
                method: MethodName.usersImport, role: .admin,
                parameters: [
                    ParameterDescriptor("email", .string, required: true, "unique, case-insensitive"),
                    ParameterDescriptor("password_hash", .string, required: true, "SHA256-crypt ($5$…) or scrypt; rehashed at the first login"),
                    ParameterDescriptor("full_name", .string),
                ], summary: "Brings a user over from the earlier deployment with their password hash (no signup credits)."),
            .async { _, p, _ in
                try await users.importUser(
                    email: p.required("email"), passwordHash: p.required("password_hash"), fullName: p.string("full_name"))
            })
        table.register(
            MethodDescriptor(
                method: MethodName.usersDisable, role: .admin, parameters: [user],
                summary: "Disables a user: nothing that costs credits is allowed any more."),
            .async { _, p, _ in try await users.disable(p.required("user")) })

        table.register(
            MethodDescriptor(
                method: MethodName.projectsCreate, role: .client,
                parameters: [
                    user, ParameterDescriptor("title", .string, required: true),
                    ParameterDescriptor("description", .string), ParameterDescriptor("type", .string),
                ], summary: "Creates a draft project."),
            .async { _, p, _ in
                try await projects.create(
                    user: p.required("user"), title: p.required("title"), description: p.string("description"),
                    type: p.string("type"))
            })
        table.register(
            MethodDescriptor(method: MethodName.projectsGet, role: .client, parameters: [optionalUser, project], summary: "One project."),
            .async { context, p, _ in try await projects.get(p.required("project"), owner: p.owner(context)) })
        table.register(
            MethodDescriptor(
                method: MethodName.projectsList, role: .client, parameters: [user, limit, after],
                summary: "A user's projects, oldest first."),
            .async { _, p, _ in
                try await projects.list(
                    user: p.required("user"), limit: p.int("limit", default: 50, in: 1...500), after: p.string("after"))
            })
        table.register(
            MethodDescriptor(
                method: MethodName.projectsUpdate, role: .client,
                parameters: [
                    optionalUser, project, ParameterDescriptor("title", .string), ParameterDescriptor("description", .string),
                    ParameterDescriptor("config", .object),
                ], summary: "Changes title, description or config."),
            .async { context, p, _ in
                try await projects.update(
                    p.required("project"), owner: p.owner(context), title: p.string("title"),
                    description: p.string("description"), config: p.values["config"]?.objectValue)
            })
        table.register(
            MethodDescriptor(
                method: MethodName.projectsDelete, role: .client, parameters: [optionalUser, project],
                summary: "Deletes a project and its versions."),
            .async { context, p, _ in try await projects.delete(p.required("project"), owner: p.owner(context)) })
        let version = ParameterDescriptor("version", .any, "version id or number (default: current)")
        table.register(
            MethodDescriptor(
                method: MethodName.projectsGetCode, role: .client,
                parameters: [
                    optionalUser, project, version, ParameterDescriptor("path", .string, "one file only"),
                    ParameterDescriptor("built", .bool, "the built site instead of the sources"),
                ],
                summary: "The files of a version."),
            .async { context, p, _ in
                if p.bool("built") == true {
                    return try await versions.builtCode(
                        project: p.required("project"), owner: p.owner(context), version: p.version(), path: p.string("path"))
                }
                return try await versions.code(
                    project: p.required("project"), owner: p.owner(context), version: p.version(), path: p.string("path"))
            })
        table.register(
            MethodDescriptor(
                method: MethodName.projectsDiff, role: .client,
                parameters: [
                    optionalUser, project, ParameterDescriptor("from", .any, required: true, "version id or number"),
                    ParameterDescriptor("to", .any, required: true, "version id or number"),
                ],
                summary: "How one version differs from another, file by file, with unified diffs."),
            .async { context, p, _ in
                try await versions.diff(
                    project: p.required("project"), owner: p.owner(context), from: try p.versionNamed("from"),
                    to: try p.versionNamed("to"), diffLimit: diffLimit)
            })
        table.register(
            MethodDescriptor(
                method: MethodName.projectsRestore, role: .client,
                parameters: [optionalUser, project, ParameterDescriptor("version", .any, required: true, "version id or number")],
                summary: "A new current version identical to an earlier one; no provider call, no charge."),
            .async { context, p, _ in
                try await versions.restore(project: p.required("project"), owner: p.owner(context), version: try p.versionNamed("version"))
            })
        table.register(
            MethodDescriptor(
                method: MethodName.projectsGetBuild, role: .client, parameters: [optionalUser, project, version],
                summary: "What building a version produced: status, errors, the built files."),
            .async { context, p, _ in
                try await versions.build(project: p.required("project"), owner: p.owner(context), version: p.version())
            })
        table.register(
            MethodDescriptor(
                method: MethodName.projectsBuild, role: .admin, parameters: [project, version],
                summary: "Builds a version that has no build yet and stores the result."),
            .async { _, p, _ in
                try await versions.buildNow(project: p.required("project"), owner: nil, version: p.version())
            })
        table.register(
            MethodDescriptor(
                method: MethodName.projectsListVersions, role: .client, parameters: [optionalUser, project],
                summary: "Versions, newest first."),
            .async { context, p, _ in try await versions.list(project: p.required("project"), owner: p.owner(context)) })
        table.register(
            MethodDescriptor(
                method: MethodName.projectsExportZip, role: .client,
                parameters: [optionalUser, project, version, ParameterDescriptor("built", .bool, "the built site")],
                summary: "A version as a ZIP archive (base64)."),
            .async { context, p, _ in
                try await exporter.export(
                    project: p.required("project"), owner: p.owner(context), version: p.version(), built: p.bool("built") == true)
            })
        table.register(
            MethodDescriptor(
                method: MethodName.projectsImportFiles, role: .admin,
                parameters: [
                    project, ParameterDescriptor("files", .object, required: true, "path → UTF-8 contents"),
                    ParameterDescriptor("generation", .string), ParameterDescriptor("provider", .string),
                    ParameterDescriptor("model", .string),
                ], summary: "Stores files as a new version of a project (an addition to version 1)."),
            .async { _, p, _ in
                var files: [ProjectFile] = []
                for (path, contents) in p.values["files"]?.objectValue ?? [:] {
                    switch contents {
                    case .string(let text):
                        files.append(ProjectFile(path: path, contents: text))
                    case .object(let object) where object.count == 1:
                        guard case .string(let encoded)? = object["base64"], let data = Data(base64Encoded: encoded) else {
                            throw WireError.invalidParameter(
                                "files", "the contents of \(path) must be a string or {\"base64\": \"…\"} with base64 text")
                        }
                        files.append(ProjectFile(path: path, bytes: data))
                    default:
                        throw WireError.invalidParameter(
                            "files", "the contents of \(path) must be a string or {\"base64\": \"…\"}")
                    }
                }
                return try await versions.store(
                    project: p.required("project"), files: files.sorted { $0.path < $1.path },
                    origin: .init(generation: p.string("generation"), provider: p.string("provider"), model: p.string("model")))
            })
    }
}
