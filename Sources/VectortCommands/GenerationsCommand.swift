import ArgumentParser
import Protocol

struct Generations: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the generations of a project, newest first, with their outcome and cost.",
        discussion: """
            Each generation shows its status (running, completed, failed, cancelled), mode, the provider and \
            model that produced it, credits charged, provider calls made, duration and, for a failure, the \
            error. --json prints the records with every provider call (attempts) in full.

            Example: vectortctl generations p_3f2a --limit 5
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var target: ProjectTarget

    @Option(name: .long, help: "At most this many generations, 1 to 200.")
    var limit: Int?

    func validate() throws {
        if let limit, !(1...200).contains(limit) { throw ValidationError("--limit must be 1 to 200") }
    }

    func run() throws {
        var parameters = target.parameters
        if let limit { parameters["limit"] = .int(Int64(limit)) }
        try global.run {
            let list = try decode(
                GenerationList.self, try global.connect().call(MethodName.projectsListGenerations, parameters))
            Output.render(list, as: global.format)
        }
    }
}

extension GenerationList: CommandResult {
    var text: String {
        let rows = generations.map { record -> [String] in
            let source = [record.provider, record.model].compactMap { $0 }.joined(separator: "/")
            let error = [record.error, record.errorMessage].compactMap { $0 }.joined(separator: ": ")
            return [
                record.id, record.status.rawValue, record.startedAt, record.mode.rawValue, source.isEmpty ? "-" : source,
                String(record.creditsCharged), String(record.attempts.count),
                record.durationMs.map { QuantityDisplay.duration(milliseconds: $0) } ?? "-",
                QuantityDisplay.truncated(error, to: 60),
            ]
        }
        let header = ["ID", "STATUS", "STARTED", "MODE", "MODEL", "CREDITS", "ATTEMPTS", "DURATION", "ERROR"]
        return Output.lines(Output.table([header] + rows))
    }
}
