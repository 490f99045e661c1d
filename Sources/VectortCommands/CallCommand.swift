import ArgumentParser
import Foundation
import Protocol

struct Call: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Call any method with JSON parameters and print the replies as JSON.",
        discussion: "Example: vectortctl call io.vectort.Service.GetInfo '{}'")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Full method name, such as io.vectort.Service.Ping.")
    var method: String

    @Argument(help: "Parameters as one JSON object (default {}).")
    var parameters: String = "{}"

    @Flag(name: .long, help: "Ask for a streamed answer; prints each reply as it arrives.")
    var more = false

    func validate() throws {
        guard method.hasPrefix("io.vectort."), method.split(separator: ".").count >= 4 else {
            throw ValidationError("method must be a full name such as io.vectort.Service.Ping")
        }
        _ = try parsedParameters()
    }

    private func parsedParameters() throws -> [String: JSONValue] {
        guard let value = try? WireCoding.decoder.decode(JSONValue.self, from: Data(parameters.utf8)),
            case .object(let object) = value
        else {
            throw ValidationError("parameters must be one JSON object, such as '{\"user\": \"u_1\"}'")
        }
        return object
    }

    func run() throws {
        let parameters = try parsedParameters()
        try global.run {
            let client = try global.connect()
            if more {
                let final = try client.callStreaming(method, parameters) { reply in
                    Output.render(JSONValue.object(reply.parameters ?? [:]), as: global.format)
                }
                Output.render(final, as: global.format)
            } else {
                Output.render(try client.call(method, parameters), as: global.format)
            }
        }
    }
}

extension JSONValue: CommandResult {
    /// A reply `call` does not know the shape of reads as JSON for people too.
    var text: String { Output.lines(Output.json(self, pretty: true)) }
}
