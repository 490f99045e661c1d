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
                if global.json { Output.json(project) } else { project.printFields() }
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
                if global.json {
                    Output.json(projects)
                    return
                }
                let rows = projects.projects.map {
                    [$0.id, $0.status.rawValue, $0.type ?? "", $0.currentVersion ?? "", $0.updatedAt, $0.title]
                }
                Output.line(Output.table([["ID", "STATUS", "TYPE", "VERSION", "UPDATED", "TITLE"]] + rows))
                Output.nextPage(projects.nextAfter)
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
                if global.json { Output.json(project) } else { project.printFields() }
            }
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a project and all its versions.")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var target: ProjectTarget

        func run() throws {
            try global.run {
                let done = try decode(Done.self, try global.connect().call(MethodName.projectsDelete, target.parameters))
                if global.json { Output.json(done) } else { Output.line("deleted \(done.id)") }
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

extension Project {
    func printFields() {
        let configText = config.isEmpty ? nil : (try? WireCoding.encoder.encode(config)).map { String(decoding: $0, as: UTF8.self) }
        Output.fields([
            ("id", id), ("user", user), ("title", title), ("description", description), ("type", type),
            ("status", status.rawValue), ("version", currentVersion), ("config", configText), ("created", createdAt),
            ("updated", updatedAt),
        ])
    }
}
