import ArgumentParser
import Protocol

struct Describe: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List every method vectortd serves, with its role, streaming, and parameters.")

    @OptionGroup var global: GlobalOptions

    func run() throws {
        try global.run {
            let client = try global.connect()
            let description = try decode(ServiceDescription.self, try client.call(MethodName.describe))
            Output.render(description, as: global.format)
        }
    }
}

extension ServiceDescription: CommandResult {
    var text: String {
        let rows = methods.map { method -> [String] in
            let parameters = method.parameters.map { "\($0.name)\($0.required ? "" : "?"): \($0.type.rawValue)" }
            return [
                method.method, method.role.rawValue, method.streams ? "streams" : "",
                "{" + parameters.joined(separator: ", ") + "}",
            ]
        }
        return Output.lines(Output.table([["METHOD", "ROLE", "STREAM", "PARAMETERS"]] + rows))
    }
}
