import Foundation
import Generation
import Protocol
import Testing
import VectortCore
import VectortTesting

@testable import Engine

@Suite("At most generation.max_concurrent_per_user generations per user")
struct ConcurrencyLimitTests {
    @Test(arguments: Backend.allCases) func theThirdConcurrentGenerationOfOneUserIsRefusedAndHoldsNothing(_ backend: Backend) async throws {
        // Two calls hang; a third call of the same provider answers (another user's).
        let primary = ScriptedProvider("primary", [.hang, .hang, .answer(SampleApp.answer())])
        try await withPipeline([primary], freeOnSignup: 20, settings: GenerationSettings(maxConcurrentPerUser: 2), on: backend) { h in
            let user = try await h.engine.user()
            var made: [String] = []
            for title in ["One", "Two", "Three"] {
                made.append(try await h.engine.projects.create(user: user, title: title).id)
            }
            let projects = made
            let first = projects[0], second = projects[1]
            let running = [
                Task { try await h.generate(first, owner: user) }, Task { try await h.generate(second, owner: user) },
            ]
            while h.events.all.filter({ $0.event == .started }).count < 2 { try await Task.sleep(for: .milliseconds(5)) }
            #expect(try await h.balance(user) == 16, "two holds")

            // The third, even from an admin caller (no owner), is refused before any hold or call.
            let refused = await expectEngineError(.rateLimited) { try await h.generate(projects[2], owner: nil) }
            #expect(refused?.details["reason"] == "concurrent_generations")
            #expect(refused?.details["limit"] == .int(2))
            #expect((refused?.details["retry_after_seconds"]?.intValue ?? 0) >= 1)
            #expect(try await h.balance(user) == 16, "nothing more held")
            #expect(primary.calls == 2, "no provider call for the refused one")

            // Another user is not limited by them.
            let (other, otherProject) = try await h.project()
            let result = try await h.generate(otherProject, owner: other)
            #expect(result.creditsCharged == 2)

            // Once one ends, the user may start again (the provider's script is spent: it fails,
            // but not for the limit).
            let started = h.events.all.filter { $0.event == .started && $0.project != otherProject }.compactMap(\.generation)
            _ = try await h.pipeline.cancel(generation: started[0], owner: user)
            do {
                _ = try await h.generate(projects[2], owner: user)
            } catch let error as EngineError {
                #expect(error.wireError.name != .rateLimited, "a slot is free again")
            }
            _ = try await h.pipeline.cancel(generation: started[1], owner: user)
            for task in running { _ = try? await task.value }
            #expect(try await h.engine.ledgerViolations().isEmpty)
        }
    }
}
