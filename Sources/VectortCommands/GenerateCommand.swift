import ArgumentParser
import Foundation
import Protocol

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate a new version of a project from a prompt, showing each step as it happens.",
        discussion: """
            Streams io.vectort.Projects.Generate: every provider call, retry, fallback, file and validation \
            result is printed as it arrives, then a summary of the stored version (generation, provider and \
            model, files, credits charged, tokens, duration). Credits are held when the generation starts and \
            charged when the version is stored; a generation that fails or is interrupted (Ctrl-C) releases them.

            --timeout bounds the whole generation (default 300 s). With --json, each event is printed as it \
            arrives as one JSON object per line, and the final result is the last line.

            Errors exit 2 with the error name: io.vectort.InsufficientCredits (not enough credits), \
            io.vectort.Unavailable (every provider failed), io.vectort.GenerationFailed (the answers never \
            became a valid app; its validation issues are listed). A timeout exits 5.

            Example: vectortctl generate p_3f2a "a todo list with due dates" --mode advanced
            """)

    /// Advanced mode takes up to 90 s per provider call, and retries and fallbacks add to it.
    static let defaultTimeout: Double = 300

    @OptionGroup var global: GlobalOptions
    @OptionGroup var target: ProjectTarget

    @Argument(help: "What to build, in plain words.")
    var prompt: String

    @Option(
        name: .long, help: "quick (one call) or advanced (a planning turn first, a repair turn if validation fails).",
        completion: .list(GenerationMode.allCases.map(\.rawValue)))
    var mode = GenerationMode.quick.rawValue

    @Option(name: .long, help: "A repeat with the same key returns the first result instead of generating again.")
    var idempotencyKey: String?

    @Option(name: .long, help: "A configured provider to try first (see `providers`); then the chain without it.")
    var provider: String?

    func validate() throws {
        guard !prompt.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw ValidationError("PROMPT must not be empty")
        }
        guard GenerationMode(rawValue: mode) != nil else { throw ValidationError("--mode must be quick or advanced") }
    }

    func run() throws {
        var parameters = target.parameters
        parameters["prompt"] = .string(prompt)
        parameters["mode"] = .string(mode)
        if let idempotencyKey { parameters["idempotency_key"] = .string(idempotencyKey) }
        if let provider { parameters["provider"] = .string(provider) }
        try global.run {
            let client = try global.connect()
            let final: JSONValue
            do {
                final = try client.callStreaming(
                    MethodName.projectsGenerate, parameters, timeout: global.timeout ?? Self.defaultTimeout
                ) { reply in
                    Output.render(GenerationProgress.Step(event: reply.parameters ?? [:]), as: global.streamFormat)
                }
            } catch let error as VectortClientError {
                guard let wire = error.remoteError else { throw error }
                var failure = FailureReport(error)
                failure.details = GenerationProgress.errorDetails(wire)
                global.report(failure)
                throw ExitCode(ExitCodes.code(for: error))
            }
            Output.render(try GenerationProgress.Summary(reply: final), as: global.streamFormat)
        }
    }
}
