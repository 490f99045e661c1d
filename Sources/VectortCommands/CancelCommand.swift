import ArgumentParser
import Foundation
import Protocol

/// `vectortctl cancel`: stop a running generation from anywhere.
struct CancelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel",
        abstract: "Cancel a running generation; returns once its credit hold is released.",
        discussion: "Its Generate call ends with io.vectort.Cancelled. Example: vectortctl cancel g_4ef4a1da85ba0b8b")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Generation id (g_…).")
    var generation: String

    @Option(name: .long, help: "The owner acted for; required when connected with the client role.")
    var user: String?

    struct Cancelled: CommandResult {
        var result: GenerationCancellation

        func encode(to encoder: any Encoder) throws { try result.encode(to: encoder) }

        var text: String { Output.lines("\(result.generation) \(result.status.rawValue)") }
    }

    func run() throws {
        var parameters: [String: JSONValue] = ["generation": .string(generation)]
        if let user { parameters["user"] = .string(user) }
        try global.run {
            let result = try decode(
                GenerationCancellation.self, try global.connect().call(MethodName.projectsCancelGeneration, parameters))
            Output.render(Cancelled(result: result), as: global.format)
        }
    }
}
