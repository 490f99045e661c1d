import Foundation
import Generation
import Protocol
import Testing
import VectortTesting

@testable import Engine

/// `Projects.CancelGeneration`: another caller stops a running generation.
@Suite("Cancelling a generation from elsewhere")
struct CancelGenerationTests {
    @Test(arguments: Backend.allCases) func aRunningGenerationIsCancelledItsHoldReleasedAndItsCallerTold(_ backend: Backend) async throws {
        let primary = ScriptedProvider("primary", [.hang])
        try await withPipeline([primary], on: backend) { h in
            let (user, project) = try await h.project()
            let call = Task { try await h.generate(project, owner: user) }
            while primary.calls == 0 || h.events.all.first(where: { $0.event == .started }) == nil {
                try await Task.sleep(for: .milliseconds(5))
            }
            let generation = try #require(h.events.all.first { $0.event == .started }?.generation)
            #expect(try await h.balance(user) == 8, "held")

            // Another user cannot see it; its owner cancels it.
            let (stranger, _) = try await h.project()
            await expectEngineError(.notFound) { try await h.pipeline.cancel(generation: generation, owner: stranger) }
            let cancelled = try await h.pipeline.cancel(generation: generation, owner: user)
            #expect(cancelled == GenerationCancellation(generation: generation, status: .cancelled))
            #expect(try await h.balance(user) == 10, "released before the cancel returned")

            let error = await expectEngineError(.cancelled) { try await call.value }
            #expect(error?.details["generation"] == .string(generation))
            let record = try await h.pipeline.store.get(generation)
            #expect(record.status == .cancelled)
            #expect(record.error == "cancelled")
            // Once ended, a cancel is a conflict; an unknown generation is not found.
            await expectEngineError(.conflict) { try await h.pipeline.cancel(generation: generation, owner: nil) }
            await expectEngineError(.notFound) { try await h.pipeline.cancel(generation: "g_0000000000000000", owner: nil) }
            #expect(try await h.engine.ledgerViolations().isEmpty)
        }
    }

    @Test(arguments: Backend.allCases) func aRequestedProviderIsTriedFirstAndAKeyIsBoundToIt(_ backend: Backend) async throws {
        let primary = ScriptedProvider("primary", [])
        let secondary = ScriptedProvider("secondary", [.answer(SampleApp.answer()), .answer(SampleApp.answer())])
        try await withPipeline([primary, secondary], on: backend) { h in
            let (user, project) = try await h.project()
            let result = try await h.pipeline.generate(
                GenerationPipeline.Request(
                    project: project, owner: user, prompt: "a shop", mode: .quick, idempotencyKey: "k-1", provider: "secondary"),
                emit: { _ in })
            #expect(result.provider == "secondary")
            #expect(primary.calls == 0)
            let listed = try await h.engine.versions.list(project: project, owner: user).versions.first
            #expect(listed?.prompt == "a shop", "ListVersions carries the prompt")
            #expect(listed?.baseVersion == nil)
            // The same key with another provider is another request.
            await expectEngineError(.conflict) {
                try await h.pipeline.generate(
                    GenerationPipeline.Request(
                        project: project, owner: user, prompt: "a shop", mode: .quick, idempotencyKey: "k-1", provider: "primary"),
                    emit: { _ in })
            }
            await expectEngineError(.invalidParameter, parameter: "provider") {
                try await h.pipeline.generate(
                    GenerationPipeline.Request(project: project, owner: user, prompt: "a shop", mode: .quick, provider: "nope"),
                    emit: { _ in })
            }
            #expect(try await h.balance(user) == 8)
        }
    }

    @Test(arguments: Backend.allCases) func aFailoverKeepsTheFilesFinishedBeforeTheCutAndAsksOnlyForTheRest(_ backend: Backend) async throws {
        let app = SampleApps.vite(files: 30)
        let blocks = app.map { "<file path=\"\($0.path)\">\n\($0.contents)</file>\n" }
        // Twelve whole files and half of the thirteenth, then the stream breaks.
        let cut = blocks[..<12].joined() + String(blocks[12].prefix(blocks[12].count / 2))
        let primary = ScriptedProvider(
            "primary", [.failAfter(cut, ProviderFailure(.streamCut, .fallback, message: "the stream broke"))])
        let secondary = ScriptedProvider("secondary", [.answer("The rest.\n" + blocks[12...].joined())])
        try await withPipeline([primary, secondary], on: backend) { h in
            let (user, project) = try await h.project()
            let result = try await h.generate(project, owner: user)
            #expect(result.provider == "secondary")
            #expect(result.files.count == 30)
            let code = try await h.engine.versions.code(project: project, owner: user)
            #expect(Set(code.files.map(\.path)) == Set(app.map(\.path)))
            for file in app { #expect(code.files.first { $0.path == file.path }?.contents == file.contents, "\(file.path)") }

            let fallback = try #require(h.events.all.first { $0.event == .fallback })
            #expect(fallback.kept == app[..<12].map(\.path))
            // The second provider was shown the finished files and asked for the rest only.
            let asked = try #require(secondary.requests.first?.messages)
            #expect(asked.last?.text.contains("Write only what is still missing") == true)
            #expect(asked.dropLast().last?.text.contains(app[11].path) == true)
            #expect(asked.dropLast().last?.text.contains(app[12].path) == false, "the file open at the cut is dropped")
            #expect(try await h.balance(user) == 8)
        }
    }

    /// A wait whose task is cancelled before it begins to wait still ends (it once hung there).
    @Test func waitingForAnAbortEndsWhenTheTaskWasCancelledFirst() async throws {
        for _ in 0..<200 {
            let abort = GenerationAbort(user: nil)
            let waiter = Task {
                try await abort.wait()
            }
            waiter.cancel()
            await #expect(throws: CancellationError.self) { try await waiter.value }
        }
        let abort = GenerationAbort(user: nil)
        let waiter = Task { try await abort.wait() }
        while !abort.abort() { await Task.yield() }
        await #expect(throws: GenerationAbort.Aborted.self) { try await waiter.value }
        #expect(abort.settle() == false, "an aborted generation is not stored")
    }
}
