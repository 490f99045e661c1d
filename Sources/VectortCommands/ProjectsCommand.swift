import ArgumentParser
import Foundation
import Protocol

struct Projects: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create, list, show and delete projects; read, import and export their versions.",
        subcommands: [
            Create.self, List.self, Show.self, Delete.self, Code.self, Versions.self, ExportZip.self, Import.self,
        ])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a draft project for a user.")

        @OptionGroup var global: GlobalOptions

        @Argument(help: "Owner's user id (u_…).")
        var user: String

        @Argument(help: "Title of the project.")
        var title: String

        @Option(name: .long, help: "What the project is.")
        var description: String?

        @Option(name: .long, help: "Kind of project, such as web or api.")
        var type: String?

        func run() throws {
            var parameters: [String: JSONValue] = ["user": .string(user), "title": .string(title)]
            if let description { parameters["description"] = .string(description) }
            if let type { parameters["type"] = .string(type) }
            try global.run {
                let project = try decode(Project.self, try global.connect().call(MethodName.projectsCreate, parameters))
                Output.render(project, as: global.format)
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a user's projects, oldest first.")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var page: PageOptions

        @Argument(help: "Owner's user id (u_…).")
        var user: String

        func run() throws {
            try global.run {
                let client = try global.connect()
                let projects = try page.fetch(
                    ["user": .string(user)],
                    call: { try decode(ProjectPage.self, try client.call(MethodName.projectsList, $0)) },
                    next: \.nextAfter, merge: { $0.projects += $1.projects; $0.nextAfter = $1.nextAfter })
                Output.render(projects, as: global.format)
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one project.")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var target: ProjectTarget

        func run() throws {
            try global.run {
                let project = try decode(Project.self, try global.connect().call(MethodName.projectsGet, target.parameters))
                Output.render(project, as: global.format)
            }
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a project and all its versions.")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var target: ProjectTarget

        /// The id of the project deleted.
        struct Result: CommandResult {
            var done: Done

            func encode(to encoder: any Encoder) throws { try done.encode(to: encoder) }

            var text: String { Output.lines("deleted \(done.id)") }
        }

        func run() throws {
            try global.run {
                let done = try decode(Done.self, try global.connect().call(MethodName.projectsDelete, target.parameters))
                Output.render(Result(done: done), as: global.format)
            }
        }
    }
}

/// The project a command acts on, and the user acted for.
struct ProjectTarget: ParsableArguments {
    @Argument(help: "Project id (p_…).")
    var project: String

    @Option(name: .long, help: "The owner acted for; required when connected with the client role.")
    var user: String?

    var parameters: [String: JSONValue] {
        var parameters: [String: JSONValue] = ["project": .string(project)]
        if let user { parameters["user"] = .string(user) }
        return parameters
    }
}

extension Project: CommandResult {
    var text: String {
        let configText = config.isEmpty ? nil : (try? WireCoding.encoder.encode(config)).map { String(decoding: $0, as: UTF8.self) }
        return Output.lines(Output.fields([
            ("id", id), ("user", user), ("title", title), ("description", description), ("type", type),
            ("status", status.rawValue), ("version", currentVersion), ("config", configText), ("created", createdAt),
            ("updated", updatedAt),
        ]))
    }
}

extension ProjectPage: CommandResult {
    var text: String {
        let rows = projects.map {
            [$0.id, $0.status.rawValue, $0.type ?? "", $0.currentVersion ?? "", $0.updatedAt, $0.title]
        }
        let header = ["ID", "STATUS", "TYPE", "VERSION", "UPDATED", "TITLE"]
        return Output.page(Output.table([header] + rows), nextAfter: nextAfter)
    }
}
