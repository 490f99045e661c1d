import Engine
import Foundation
import Protocol

/// `io.vectort.Projects.ExportGitHub`.
enum ExportMethods {
    static func register(into table: inout MethodTable, github: GitHubExporter) {
        table.register(
            MethodDescriptor(
                method: MethodName.projectsExportGitHub, role: .client,
                parameters: [
                    ParameterDescriptor("user", .string, "the user acted for (required for client callers)"),
                    ParameterDescriptor("project", .string, required: true, "project id"),
                    ParameterDescriptor("version", .any, "version id or number (default: current)"),
                    ParameterDescriptor("repo", .string, "name or owner/name (default: the last export's, else one named after the project)"),
                    ParameterDescriptor("private", .bool, "a new repository is private (default true)"),
                    ParameterDescriptor("message", .string, "the commit message"),
                    ParameterDescriptor("force", .bool, "add the version on top of a repository this project never exported to"),
                    ParameterDescriptor("idempotency_key", .string, "a repeat returns the first export's result"),
                ],
                summary: "Pushes a version's whole tree to GitHub as one commit, creating the repository if needed."),
            .async { context, p, _ in
                try await github.export(
                    project: p.required("project"), owner: p.owner(context), version: p.version(), repo: p.string("repo"),
                    private: p.bool("private"), message: p.string("message"), force: p.bool("force") ?? false,
                    idempotencyKey: p.string("idempotency_key"))
            })
    }
}
