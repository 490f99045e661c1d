import Foundation
import Protocol
import Synchronization
import Testing
import VectortTesting

@testable import Engine
@testable import Generation
import VectortCore

@testable import Storage

private func failure(_ kind: ProviderFailure.Kind, _ disposition: ProviderFailure.Disposition, status: Int? = nil, retryAfter: Duration? = nil) -> ProviderFailure {
    ProviderFailure(kind, disposition, status: status, message: "\(kind.rawValue) from the script", retryAfter: retryAfter)
}

@Suite("Generation pipeline: hold, chain, parse, validate, store, settle")
struct GenerationPipelineTests {
    @Test(arguments: Backend.allCases) func aQuickGenerationStoresAVersionAndChargesItsPriceOnce(_ backend: Backend) async throws {
        let primary = ScriptedProvider("primary", [.answer(SampleApp.answer())])
        try await withPipeline([primary], on: backend) { h in
            let (user, project) = try await h.project()
            let result = try await h.generate(project)

            #expect(result.provider == "primary")
            #expect(result.model == "m-1")
            #expect(result.files == ["app.js", "index.html", "styles.css"])
            #expect(result.creditsCharged == 2)
            #expect(result.versionNumber == 1)
            #expect(result.usage == GenerationUsage(inputTokens: 100, outputTokens: 50))
            #expect(try await h.balance(user) == 8)
            let code = try await h.engine.versions.code(project: project, owner: user)
            #expect(code.version == result.version)
            #expect(Set(code.files) == Set(SampleApp.files))
            let stored = try await h.engine.projects.get(project, owner: user)
            #expect(stored.status == .completed)
            #expect(stored.currentVersion == result.version)

            #expect(h.events.kinds == [.started, .attempt, .file, .file, .file, .validation, .completed])
            #expect(h.events.all.first?.creditsHeld == 2)
            #expect(h.events.all.filter { $0.event == .file }.map(\.path) == ["index.html", "styles.css", "app.js"])
            let record = try await h.pipeline.store.get(result.generation)
            #expect(record.status == .completed)
            #expect(record.attempts.map(\.outcome) == ["success"])
            #expect(record.creditsCharged == 2)
            #expect(try await h.engine.ledgerViolations().isEmpty)
            #expect(primary.requests.first?.system.contains("<file path=") == true)
            #expect(primary.requests.first?.messages.first?.text.contains("a shop for handmade soap") == true)
        }
    }

    @Test(arguments: Backend.allCases) func aRateLimitIsRetriedAfterTheProvidersRetryAfter(_ backend: Backend) async throws {
        let primary = ScriptedProvider(
            "primary", [.fail(failure(.rateLimited, .retry, status: 429, retryAfter: .seconds(3))), .answer(SampleApp.answer())])
        try await withPipeline([primary], on: backend) { h in
            let (user, project) = try await h.project()
            let result = try await h.generate(project)
            #expect(result.provider == "primary")
            #expect(primary.calls == 2)
            #expect(h.time.sleeps == [.seconds(3)])
            let retry = try #require(h.events.all.first { $0.event == .retry })
            #expect(retry.reason == "rate_limited")
            #expect(retry.delaySeconds == 3)
            #expect(try await h.balance(user) == 8)
            let record = try await h.pipeline.store.get(result.generation)
            #expect(record.attempts.map(\.outcome) == ["failed", "success"])
            #expect(record.attempts.first?.status == 429)
        }
    }

    @Test(arguments: Backend.allCases) func backoffGrowsExponentiallyWithinItsCap(_ backend: Backend) async throws {
        let primary = ScriptedProvider(
            "primary",
            [
                .fail(failure(.serverError, .retry, status: 500)), .fail(failure(.overloaded, .retry, status: 529)),
                .fail(failure(.streamCut, .retry)), .answer(SampleApp.answer()),
            ])
        try await withPipeline([primary], retry: RetryPolicy(maxRetries: 3, base: .seconds(1), cap: .seconds(3)), on: backend) { h in
            let (_, project) = try await h.project()
            _ = try await h.generate(project)
            // The harness's jitter takes the top of each range: 1, 2, then the cap of 3 (not 4).
            #expect(h.time.sleeps == [.seconds(1), .seconds(2), .seconds(3)])
        }
    }

    @Test(arguments: Backend.allCases) func anAuthenticationFailureFallsBackAtOnceWithoutRetrying(_ backend: Backend) async throws {
        let primary = ScriptedProvider("primary", [.fail(failure(.authentication, .fallback, status: 401))])
        let secondary = ScriptedProvider("secondary", model: "m-2", [.answer(SampleApp.answer())])
        try await withPipeline([primary, secondary], on: backend) { h in
            let (user, project) = try await h.project()
            let result = try await h.generate(project)
            #expect(result.provider == "secondary")
            #expect(result.model == "m-2")
            #expect(primary.calls == 1)
            #expect(h.time.sleeps.isEmpty)
            let fallback = try #require(h.events.all.first { $0.event == .fallback })
            #expect(fallback.provider == "primary")
            #expect(fallback.to == "secondary")
            #expect(fallback.reason == "authentication")
            #expect(try await h.balance(user) == 8)
        }
    }

    @Test(arguments: Backend.allCases) func whenEveryProviderFailsTheHoldIsReleasedAndNothingIsCharged(_ backend: Backend) async throws {
        let primary = ScriptedProvider("primary", [])
        let secondary = ScriptedProvider("secondary", [], then: .fail(failure(.overloaded, .retry, status: 529)))
        try await withPipeline([primary, secondary], on: backend) { h in
            let (user, project) = try await h.project()
            let error = await expectEngineError(.unavailable) { try await h.generate(project) }
            #expect(error?.details["reason"] == .string("overloaded"))
            #expect(primary.calls == 3)
            #expect(secondary.calls == 3)
            #expect(try await h.balance(user) == 10)
            #expect(try await h.engine.count("credit_holds", where: "status = 'released'") == 1)
            #expect(try await h.engine.count("credit_entries", where: "kind = 'usage'") == 0)
            #expect(try await h.engine.count("versions") == 0)
            let records = try await h.pipeline.store.list(project: project, owner: user)
            #expect(records.generations.map(\.status) == [.failed])
            #expect(records.generations.first?.attempts.count == 6)
            #expect(records.generations.first?.creditsCharged == 0)
            #expect(try await h.engine.projects.get(project, owner: user).status == .failed)
            #expect(try await h.engine.ledgerViolations().isEmpty)
        }
    }

    /// Broken answers (no files at all) count for the breaker; an app the platform does not build
    /// (no entry point: what the request asked for) never does, however often it comes.
    @Test func brokenAnswersOpenTheBreakerButAnAppThePlatformDoesNotBuildNeverDoes() async throws {
        let breaker = BreakerPolicy(failures: 2, window: .seconds(60), cooldown: .seconds(30))
        let prose = ScriptedProvider("primary", [], then: .answer("I would rather describe the app than write it."))
        let backup = ScriptedProvider("secondary", [], then: .answer(SampleApp.answer()))
        try await withPipeline([prose, backup], freeOnSignup: 100, retry: RetryPolicy(maxRetries: 0), breaker: breaker) { h in
            let (_, project) = try await h.project()
            for _ in 0..<2 { _ = try await h.generate(project, fresh: true) }
            #expect(await h.registry.list().providers.first?.state == "open", "answers without files are the provider's failures")
        }

        // A library with no page: nothing this platform can build or serve.
        let noEntry = "<file path=\"lib/util.js\">\nexport const x = 1;\n</file>\n"
        let unbuildable = ScriptedProvider("primary", [], then: .answer(noEntry))
        let other = ScriptedProvider("secondary", [], then: .answer(SampleApp.answer()))
        try await withPipeline([unbuildable, other], freeOnSignup: 100, retry: RetryPolicy(maxRetries: 0), breaker: breaker) { h in
            let (_, project) = try await h.project()
            for _ in 0..<4 {
                let result = try await h.generate(project, fresh: true)
                #expect(result.provider == "secondary")
            }
            #expect(unbuildable.calls == 8, "every generation asked it, and its repair turn")
            #expect(await h.registry.list().providers.first?.state == "closed", "a request's app the platform does not build is not a provider failure")
        }
    }

    @Test(arguments: Backend.allCases) func anOpenBreakerSkipsItsProviderWithoutCallingIt(_ backend: Backend) async throws {
        let primary = ScriptedProvider("primary", [], then: .fail(failure(.serverError, .retry, status: 503)))
        let secondary = ScriptedProvider("secondary", [.answer(SampleApp.answer()), .answer(SampleApp.answer())])
        let breaker = BreakerPolicy(failures: 2, window: .seconds(60), cooldown: .seconds(30))
        try await withPipeline([primary, secondary], retry: RetryPolicy(maxRetries: 1), breaker: breaker, on: backend) { h in
            let (_, project) = try await h.project()
            _ = try await h.generate(project)
            #expect(primary.calls == 2)
            #expect(await h.registry.list().providers.first?.state == "open")

            let result = try await h.generate(project, fresh: true)
            #expect(result.provider == "secondary")
            #expect(primary.calls == 2, "an open breaker must not let a call through")
            let record = try await h.pipeline.store.get(result.generation)
            #expect(record.attempts.map(\.outcome) == ["skipped", "success"])

            let reset = try await h.registry.reset("primary")
            #expect(reset.state == "closed")
        }
    }

    @Test(arguments: Backend.allCases) func aCutOffAnswerIsContinuedByTheSameProvider(_ backend: Backend) async throws {
        let full = SampleApp.answer()
        let cut = full.index(full.startIndex, offsetBy: full.count * 2 / 3)
        let primary = ScriptedProvider(
            "primary", [.answer(String(full[..<cut]), finish: .length), .answer(String(full[cut...]))])
        try await withPipeline([primary], on: backend) { h in
            let (user, project) = try await h.project()
            let result = try await h.generate(project)
            #expect(result.files == ["app.js", "index.html", "styles.css"])
            #expect(primary.requests.map(\.purpose) == [.generate, .continue])
            let continued = try #require(primary.requests.last)
            #expect(continued.messages.dropLast().last?.role == .assistant)
            #expect(continued.messages.dropLast().last?.text == String(full[..<cut]))
            #expect(h.events.kinds.contains(.continue))
            let code = try await h.engine.versions.code(project: project, owner: user)
            #expect(Set(code.files) == Set(SampleApp.files))
        }
    }

    @Test(arguments: Backend.allCases) func anAnswerStillCutOffAfterTwoContinuationsFallsBack(_ backend: Backend) async throws {
        let truncated = "<file path=\"index.html\">\n<html><body>"
        let primary = ScriptedProvider(
            "primary",
            [.answer(truncated, finish: .length), .answer("<p>more", finish: .length), .answer("<p>still more", finish: .length)])
        let secondary = ScriptedProvider("secondary", [.answer(SampleApp.answer())])
        try await withPipeline([primary, secondary], on: backend) { h in
            let (_, project) = try await h.project()
            let result = try await h.generate(project)
            #expect(result.provider == "secondary")
            #expect(primary.requests.map(\.purpose) == [.generate, .continue, .continue])
            #expect(h.events.all.first { $0.event == .fallback }?.reason == "truncated")
        }
    }

    @Test(arguments: Backend.allCases) func anAnswerWithoutFilesEverywhereIsAGenerationFailureWithNoCharge(_ backend: Backend) async throws {
        let primary = ScriptedProvider("primary", [.answer("I cannot write files, but here is an idea.")])
        try await withPipeline([primary], on: backend) { h in
            let (user, project) = try await h.project()
            let error = await expectEngineError(.generationFailed) { try await h.generate(project) }
            #expect(error?.details["reason"] == .string("no_files"))
            #expect(try await h.balance(user) == 10)
        }
    }

    @Test(arguments: Backend.allCases) func anAnswerWhoseFilesAreAllOverTheLimitIsTooLargeNotEmpty(_ backend: Backend) async throws {
        let huge = "<file path=\"index.html\">\n" + String(repeating: "<p>too much</p>\n", count: 200) + "</file>\n"
        let primary = ScriptedProvider("primary", [.answer(huge)])
        var settings = GenerationSettings()
        settings.limits = VersionLimits(maxFiles: 10, maxBytes: 1024)
        try await withPipeline([primary], settings: settings, on: backend) { h in
            let (user, project) = try await h.project()
            let error = await expectEngineError(.generationFailed) { try await h.generate(project) }
            #expect(error?.details["reason"] == .string("too_large"))
            #expect(error?.message.contains("index.html is larger than the limit of 1024 bytes") == true, "\(String(describing: error))")
            #expect(try await h.balance(user) == 10)
        }
    }

    @Test(arguments: Backend.allCases) func advancedModePlansThenRepairsFilesThatFailValidation(_ backend: Backend) async throws {
        var broken = SampleApp.files
        broken[0] = ProjectFile(path: "index.html", contents: "<!DOCTYPE html>\n<html><body><main id=\"app\">\n")
        let primary = ScriptedProvider(
            "primary",
            [
                .answer("Files: index.html, styles.css, app.js"), .answer(SampleApp.answer(broken)),
                .answer(SampleApp.answer([SampleApp.files[0]])),
            ])
        try await withPipeline([primary], on: backend) { h in
            let (user, project) = try await h.project()
            let result = try await h.generate(project, mode: .advanced)
            #expect(result.creditsCharged == 4)
            #expect(try await h.balance(user) == 6)
            #expect(primary.requests.map(\.purpose) == [.plan, .generate, .repair])
            #expect(primary.requests[1].messages.count == 3)
            #expect(primary.requests[2].messages.last?.text.contains("index.html") == true)
            let validations = h.events.all.filter { $0.event == .validation }
            #expect(validations.map(\.passed) == [false, true])
            let code = try await h.engine.versions.code(project: project, owner: user, path: "index.html")
            #expect(code.files.first?.contents == SampleApp.files[0].contents)
        }
    }

    @Test(arguments: Backend.allCases) func quickModeRepairsOnceThenFailsWithTheIssues(_ backend: Backend) async throws {
        var broken = SampleApp.files
        broken[0] = ProjectFile(path: "index.html", contents: "<!DOCTYPE html>\n<html><body><main id=\"app\">\n")
        let primary = ScriptedProvider(
            "primary", [.answer(SampleApp.answer(broken)), .answer(SampleApp.answer([broken[0]]))])
        try await withPipeline([primary], on: backend) { h in
            let (user, project) = try await h.project()
            let error = await expectEngineError(.generationFailed) { try await h.generate(project) }
            #expect(error?.details["reason"] == .string("invalid_output"))
            if case .array(let issues)? = error?.details["issues"] {
                #expect(!issues.isEmpty)
            } else {
                Issue.record("the error lists no issues: \(String(describing: error))")
            }
            #expect(primary.calls == 2, "the answer and one repair")
            #expect(try await h.balance(user) == 10)
        }
    }

    @Test(arguments: Backend.allCases) func quickModeRepairTurnFixesTheAnswerAndChargesOnce(_ backend: Backend) async throws {
        var broken = SampleApp.files
        broken[0] = ProjectFile(path: "index.html", contents: "<!DOCTYPE html>\n<html><body><main id=\"app\">\n")
        let primary = ScriptedProvider(
            "primary", [.answer(SampleApp.answer(broken)), .answer(SampleApp.answer([SampleApp.files[0]]))])
        try await withPipeline([primary], on: backend) { h in
            let (user, project) = try await h.project()
            let result = try await h.generate(project)
            #expect(primary.calls == 2)
            #expect(result.creditsCharged == 2)
            #expect(try await h.balance(user) == 8)
        }
    }

    @Test(arguments: Backend.allCases) func cancellingAsTheProviderIsCalledLeavesNothingHeldWhetherOrNotTheStartCommitted(_ backend: Backend) async throws {
        for _ in 0..<20 {
            let primary = ScriptedProvider("primary", [.hang])
            try await withPipeline([primary], on: backend) { h in
                let (user, project) = try await h.project()
                let call = Task { try await h.generate(project) }
                while primary.calls == 0 { await Task.yield() }
                call.cancel()
                _ = try? await call.value
                #expect(try await h.balance(user) == 10)
                let records = try await h.pipeline.store.list(project: project, owner: user)
                #expect(records.generations.allSatisfy { $0.status == .cancelled })
                #expect(try await h.engine.ledgerViolations().isEmpty)
            }
        }
    }

    @Test(arguments: Backend.allCases) func cancellingTheCallReleasesTheHold(_ backend: Backend) async throws {
        let primary = ScriptedProvider("primary", [.hang])
        try await withPipeline([primary], on: backend) { h in
            let (user, project) = try await h.project()
            let call = Task { try await h.generate(project) }
            // The provider may be called before the hold commits; `started` follows the hold.
            while primary.calls == 0 || !h.events.kinds.contains(.started) { try await Task.sleep(for: .milliseconds(5)) }
            #expect(try await h.balance(user) == 8)
            call.cancel()
            await #expect(throws: CancellationError.self) { try await call.value }
            #expect(try await h.balance(user) == 10)
            let records = try await h.pipeline.store.list(project: project, owner: user)
            #expect(records.generations.map(\.status) == [.cancelled])
            #expect(records.generations.first?.attempts.map(\.outcome) == ["cancelled"])
            #expect(try await h.engine.ledgerViolations().isEmpty)
        }
    }

    // SQLite only for now: on PostgreSQL, twice in full runs beside every other suite, this
    // generation took minutes to reach its provider call (not once alone); under
    // investigation (docs/architecture.md, "PostgreSQL").
    @Test(arguments: [Backend.sqlite]) func aGenerationPastItsDeadlineTimesOutAndChargesNothing(_ backend: Backend) async throws {
        let primary = ScriptedProvider("primary", [.hang])
        let settings = GenerationSettings(deadlineQuick: .seconds(30))
        let clock = TestClock()
        try await withPipeline([primary], settings: settings, deadlineClock: clock, on: backend) { h in
            let (user, project) = try await h.project()
            async let timedOut = expectEngineError(.timeout) { try await h.generate(project) }
            // The deadline passes on virtual time once the generation waits for it.
            #expect(await clock.waitForSleepers())
            clock.advance(by: .seconds(30))
            let error = await timedOut
            #expect(error?.details["seconds"] == .double(30))
            #expect(try await h.balance(user) == 10)
            let record = try await h.pipeline.store.list(project: project, owner: user).generations.first
            #expect(record?.status == .failed)
            #expect(record?.error == "timeout")
        }
    }

    @Test(arguments: Backend.allCases) func aWaitLongerThanTheDeadlineIsNotRetriedButFallsBack(_ backend: Backend) async throws {
        let primary = ScriptedProvider(
            "primary", [.fail(failure(.rateLimited, .retry, status: 429, retryAfter: .seconds(60)))])
        let secondary = ScriptedProvider("secondary", [.answer(SampleApp.answer())])
        try await withPipeline([primary, secondary], retry: RetryPolicy(maxRetries: 3, base: .seconds(1), cap: .seconds(120)), on: backend) { h in
            let (_, project) = try await h.project()
            let result = try await h.generate(project)
            #expect(result.provider == "secondary")
            #expect(primary.calls == 1)
            #expect(h.time.sleeps.isEmpty)
        }
    }

    @Test(arguments: Backend.allCases) func notEnoughCreditsFailsBeforeAnyProviderIsCalled(_ backend: Backend) async throws {
        let primary = ScriptedProvider("primary", [.answer(SampleApp.answer())])
        try await withPipeline([primary], freeOnSignup: 1, on: backend) { h in
            let (user, project) = try await h.project()
            let before = try await h.engine.rowCounts()
            await expectEngineError(.insufficientCredits) { try await h.generate(project) }
            #expect(primary.calls == 0)
            #expect(try await h.engine.rowCounts() == before)
            #expect(try await h.engine.count("generations") == 0)
            #expect(try await h.balance(user) == 1)
        }
    }

    @Test func aStartThatFailsAfterTheProviderCallBeganCancelsTheCallAndLeavesNoTrace() async throws {
        // The provider call begins beside the start transaction when the credits are there.
        // Here they are spent by someone else between that check and the hold.
        let primary = ScriptedProvider("primary", [.hang])
        try await withPipeline([primary]) { h in
            let (user, project) = try await h.project()
            let writerBusy = Mutex(false)
            let spender = Task {
                try await h.engine.writer.write { db in
                    writerBusy.withLock { $0 = true }
                    let deadline = Date() + 30
                    while primary.calls == 0 && Date() < deadline { usleep(1000) }
                    return try SQLiteLedger.hold(db, user: user, amount: 10, reference: "elsewhere", now: Date())
                }
            }
            while !writerBusy.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(1)) }
            let before = try await h.engine.count("generations")

            await expectEngineError(.insufficientCredits) { try await h.generate(project) }
            _ = try await spender.value
            #expect(primary.calls == 1)
            #expect(h.events.all.isEmpty)
            #expect(try await h.engine.count("generations") == before)
            #expect(try await h.balance(user) == 0)
            #expect(await h.registry.list().providers.first?.failures == 0)
            #expect(try await h.engine.ledgerViolations().isEmpty)
        }
    }

    @Test func eventsSentBeforeTheStartWaitBehindStartedInOrder() async throws {
        let sent = Mutex<[GenerationEvent.Kind]>([])
        let gate = EventGate { event in sent.withLock { $0.append(event.event) } }
        try await gate.emit(GenerationEvent(.attempt))
        try await gate.emit(GenerationEvent(.file))
        #expect(sent.withLock { $0 }.isEmpty)
        try await gate.open(with: GenerationEvent(.started))
        try await gate.emit(GenerationEvent(.validation))
        #expect(sent.withLock { $0 } == [.started, .attempt, .file, .validation])
    }

    @Test(arguments: Backend.allCases) func theSameIdempotencyKeyReturnsTheFirstResultAndChargesOnce(_ backend: Backend) async throws {
        let primary = ScriptedProvider("primary", [.answer(SampleApp.answer())])
        try await withPipeline([primary], on: backend) { h in
            let (user, project) = try await h.project()
            let first = try await h.generate(project, key: "k-1")
            let second = try await h.generate(project, key: "k-1")
            #expect(second == first)
            #expect(primary.calls == 1)
            #expect(try await h.balance(user) == 8)
            await expectEngineError(.conflict) { try await h.generate(project, prompt: "something else", key: "k-1") }
        }
    }

    @Test(arguments: Backend.allCases) func aReplayReadsBackExactlyTheResultTheFirstCallReturned(_ backend: Backend) async throws {
        // Paths whose byte order and Swift's string order could differ.
        let files = SampleApp.files + ["Z.txt", "a.txt", "é.txt", "z/é.txt", "zz.txt", "\u{FB01}.txt", "fi.txt"].map {
            ProjectFile(path: $0, contents: "x\n")
        }
        let primary = ScriptedProvider("primary", [.answer(SampleApp.answer(files))])
        try await withPipeline([primary], on: backend) { h in
            let (_, project) = try await h.project()
            let first = try await h.generate(project, key: "k-replay")
            let replay = try await h.generate(project, key: "k-replay")
            #expect(replay == first)
            #expect(first.files.count == files.count)
            #expect(primary.calls == 1)
        }
    }

    @Test(arguments: Backend.allCases) func aFailedGenerationFreesItsIdempotencyKey(_ backend: Backend) async throws {
        let primary = ScriptedProvider("primary", [.fail(failure(.authentication, .fallback, status: 401)), .answer(SampleApp.answer())])
        try await withPipeline([primary], on: backend) { h in
            let (user, project) = try await h.project()
            await expectEngineError(.unavailable) { try await h.generate(project, key: "k-2") }
            let result = try await h.generate(project, key: "k-2")
            #expect(result.creditsCharged == 2)
            #expect(try await h.balance(user) == 8)
        }
    }

    @Test(arguments: Backend.allCases) func anInvalidRequestFailsTheCallWithoutTryingOtherProviders(_ backend: Backend) async throws {
        let primary = ScriptedProvider("primary", [.fail(failure(.invalidRequest, .fail, status: 400))])
        let secondary = ScriptedProvider("secondary", [.answer(SampleApp.answer())])
        try await withPipeline([primary, secondary], on: backend) { h in
            let (user, project) = try await h.project()
            await expectEngineError(.invalidParameter, parameter: "prompt") { try await h.generate(project) }
            #expect(secondary.calls == 0)
            #expect(try await h.balance(user) == 10)
        }
    }

    @Test(arguments: Backend.allCases) func anotherUsersProjectIsNotFoundAndNothingIsHeld(_ backend: Backend) async throws {
        let primary = ScriptedProvider("primary", [.answer(SampleApp.answer())])
        try await withPipeline([primary], on: backend) { h in
            let (owner, project) = try await h.project()
            let stranger = try await h.engine.user()
            await expectEngineError(.notFound) { try await h.generate(project, owner: stranger) }
            await expectEngineError(.invalidParameter, parameter: "prompt") { try await h.generate(project, prompt: "  ") }
            #expect(primary.calls == 0)
            #expect(try await h.balance(owner) == 10)
            #expect(try await h.balance(stranger) == 10)
        }
    }

    @Test(arguments: Backend.allCases) func aSecondGenerationOfTheSameProjectWhileOneRunsIsAConflict(_ backend: Backend) async throws {
        let primary = ScriptedProvider("primary", [.hang])
        try await withPipeline([primary], on: backend) { h in
            let (user, project) = try await h.project()
            let call = Task { try await h.generate(project) }
            while primary.calls == 0 { try await Task.sleep(for: .milliseconds(5)) }
            await expectEngineError(.conflict) { try await h.generate(project) }
            await expectEngineError(.conflict) { try await h.engine.projects.delete(project, owner: user) }
            call.cancel()
            _ = try? await call.value
            #expect(try await h.balance(user) == 10)
        }
    }

    @Test(arguments: Backend.allCases) func anEmptyChainIsUnavailableWithItsOwnReason(_ backend: Backend) async throws {
        try await withPipeline([], on: backend) { h in
            let (user, project) = try await h.project()
            let error = await expectEngineError(.unavailable) { try await h.generate(project) }
            #expect(error?.details["reason"] == .string("no_providers"))
            #expect(try await h.balance(user) == 10)
        }
    }

    @Test(arguments: Backend.allCases) func generationsLeftRunningByACrashAreReleasedAtStart(_ backend: Backend) async throws {
        try await withPipeline([], on: backend) { h in
            let (user, project) = try await h.project()
            let started = try await h.pipeline.store.start(
                .init(project: project, owner: nil, prompt: "x", mode: .quick, price: 2, idempotencyKey: nil))
            guard case .started(let id, _, _) = started else {
                Issue.record("expected a new generation")
                return
            }
            #expect(try await h.balance(user) == 8)
            #expect(try await h.pipeline.store.recoverInterrupted() == 1)
            #expect(try await h.balance(user) == 10)
            let record = try await h.pipeline.store.get(id)
            #expect(record.status == .failed)
            #expect(record.error == "interrupted")
            #expect(try await h.engine.projects.get(project, owner: user).status == .failed)
            #expect(try await h.engine.ledgerViolations().isEmpty)
        }
    }
}
