import ArgumentParser
import Foundation
import Protocol

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Edit a project's app from a prompt (or write a new one), showing each step as it happens.",
        discussion: """
            Streams io.vectort.Projects.Generate: every provider call, retry, fallback, file and validation \
            result is printed as it arrives, then a summary of the stored version (generation, provider and \
            model, files, credits charged, tokens, duration). Credits are held when the generation starts and \
            charged when the version is stored; a generation that fails or is interrupted (Ctrl-C) releases them.

            A project that has a version is edited: the first line says "editing version N", the model sees \
            the app and the earlier prompts, writes only what changes, and the summary lists the files changed, \
            added and deleted. --base N edits version N instead of the current one; --fresh writes a new app \
            from nothing. An answer that changes nothing stores no version, charges nothing and exits 2 with \
            io.vectort.NothingChanged (what the provider said is printed).

            --timeout bounds the whole generation (default 300 s). With --json, each event is printed as it \
            arrives as one JSON object per line, and the final result is the last line.

            Errors exit 2 with the error name: io.vectort.InsufficientCredits (not enough credits), \
            io.vectort.Unavailable (every provider failed), io.vectort.GenerationFailed (the answers never \
            became a valid app; its validation issues are listed). A timeout exits 5.

            Examples:
              vectortctl generate p_3f2a "a todo list with due dates" --mode advanced
              vectortctl generate p_3f2a "make the header sticky"
              vectortctl generate p_3f2a "undo the dark theme" --base 2
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

    @Option(name: .long, help: "Edit this version (a number or an id) instead of the current one.")
    var base: String?

    @Flag(name: .long, help: "Write a new app from nothing, even when the project has a version.")
    var fresh = false

    func validate() throws {
        guard !prompt.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw ValidationError("PROMPT must not be empty")
        }
        guard GenerationMode(rawValue: mode) != nil else { throw ValidationError("--mode must be quick or advanced") }
        if fresh && base != nil { throw ValidationError("--fresh starts from nothing: it cannot be given with --base") }
    }

    func run() throws {
        var parameters = target.parameters
        parameters["prompt"] = .string(prompt)
        parameters["mode"] = .string(mode)
        if let idempotencyKey { parameters["idempotency_key"] = .string(idempotencyKey) }
        if let provider { parameters["provider"] = .string(provider) }
        if let base { parameters["base_version"] = Int(base).map { .int(Int64($0)) } ?? .string(base) }
        if fresh { parameters["fresh"] = .bool(true) }
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
