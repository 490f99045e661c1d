import Foundation
import Protocol
import Testing

@testable import Engine
@testable import Generation
import VectortCore

/// Follow-up prompts edit the current version: the request carries the app and the
/// conversation, the answer's writes and deletes are merged into it, and only a real change is
/// stored and charged.
@Suite("Edits through the pipeline")
struct EditTests {
    static let edit = """
        I made the text bigger, added an about page and dropped the script.
        <file path="styles.css">
        body { font-family: sans-serif; font-size: 20px; }
        </file>
        <file path="about.html">
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>About</title></head><body><p>About</p></body></html>
        </file>
        <delete path="app.js"/>
        <file path="index.html">
        <!DOCTYPE html>
        <html lang="en">
        <head><meta charset="utf-8"><title>Soap</title><link rel="stylesheet" href="styles.css"></head>
        <body><main id="app"></main><a href="about.html">About</a></body>
        </html>
        </file>

        """

    @Test(arguments: Backend.allCases) func anEditStoresTheBasePlusItsChangesAndSharesTheRest(_ backend: Backend) async throws {
        let provider = ScriptedProvider("primary", [.answer(SampleApp.answer()), .answer(Self.edit)])
        try await withPipeline([provider], on: backend) { h in
            let (user, project) = try await h.project()
            let first = try await h.generate(project, owner: user)
            #expect(first.baseVersion == nil && first.changed == nil, "a new app has no base and no change lists")
            let blobs = try await h.engine.count("blobs")

            let second = try await h.generate(project, owner: user, prompt: "bigger text, an about page, no script")
            #expect(second.versionNumber == 2)
            #expect(second.baseVersion == first.version)
            #expect(second.baseVersionNumber == 1)
            #expect(second.changes == FileChanges(changed: ["index.html", "styles.css"], added: ["about.html"], deleted: ["app.js"]))
            #expect(second.notes == "I made the text bigger, added an about page and dropped the script.")
            #expect(second.creditsCharged == 2)
            #expect(try await h.balance(user) == 6)

            let code = try await h.engine.versions.code(project: project, owner: user)
            #expect(code.files.map(\.path) == ["about.html", "index.html", "styles.css"])
            #expect(try await h.engine.count("blobs") == blobs + 3, "only the new contents are stored")

            let started = h.events.all.filter { $0.event == .started }
            #expect(started.last?.baseVersion == first.version)
            #expect(started.last?.baseVersionNumber == 1)
            #expect(started.last?.contextOmitted == [])
            #expect(started.first?.baseVersion == nil)
            let files = h.events.all.drop { $0.generation != second.generation }.filter { $0.event == .file }
            #expect(files.map(\.path) == ["styles.css", "about.html", "app.js", "index.html"])
            #expect(files.map { $0.deleted ?? false } == [false, false, true, false])

            let list = try await h.engine.versions.list(project: project, owner: user)
            #expect(list.versions.first?.changes == FileChangeCounts(changed: 2, added: 1, deleted: 1))
            #expect(list.versions.first?.baseVersion == first.version)
            #expect(list.versions.last?.changes == nil)

            // What the model was shown: the app's files and the request.
            let request = try #require(provider.requests.last)
            #expect(request.system.contains("<delete path="))
            let text = try #require(request.messages.first?.text)
            #expect(text.contains("The app now (version 1) has these files:"))
            for file in SampleApp.files { #expect(text.contains("<file path=\"\(file.path)\">\n\(file.contents)</file>")) }
            #expect(text.contains("Earlier requests in this conversation, oldest first:\n1. a shop for handmade soap\n"))
            #expect(text.hasSuffix("Change the app as asked:\nbigger text, an about page, no script\n"))
            #expect(request.base == SampleApp.files.sorted { $0.path < $1.path })
            #expect(try await h.engine.ledgerViolations().isEmpty)
        }
    }

    @Test(arguments: Backend.allCases) func theConversationSoFarIsCarriedOldestFirstUpToHistoryTurns(_ backend: Backend) async throws {
        let answers = (1...4).map { n in
            ScriptedProvider.Step.answer("<file path=\"n\(n).txt\">\n\(n)\n</file>\n")
        }
        let provider = ScriptedProvider("primary", [.answer(SampleApp.answer())] + answers)
        var settings = GenerationSettings()
        settings.historyTurns = 3
        try await withPipeline([provider], freeOnSignup: 100, settings: settings, on: backend) { h in
            let (user, project) = try await h.project()
            _ = try await h.generate(project, owner: user, prompt: "first")
            for n in 1...4 { _ = try await h.generate(project, owner: user, prompt: "edit \(n)") }
            let text = try #require(provider.requests.last?.messages.first?.text)
            #expect(text.contains("Earlier requests in this conversation, oldest first:\n1. edit 1\n2. edit 2\n3. edit 3\n"))
            #expect(!text.contains("1. first"))
        }
    }

    @Test(arguments: Backend.allCases) func anEditOfAnOlderVersionStartsFromItAndFreshStartsFromNothing(_ backend: Backend) async throws {
        let provider = ScriptedProvider(
            "primary",
            [
                .answer(SampleApp.answer()),
                .answer("<file path=\"extra.txt\">\nv2\n</file>\n"),
                .answer("<file path=\"other.txt\">\nv3\n</file>\n"),
                .answer(SampleApp.answer(Array(SampleApp.files.prefix(2)) + [ProjectFile(path: "app.js", contents: "console.log(2);\n")])),
            ])
        try await withPipeline([provider], freeOnSignup: 100, on: backend) { h in
            let (user, project) = try await h.project()
            let v1 = try await h.generate(project, owner: user)
            _ = try await h.generate(project, owner: user, prompt: "add extra")
            let v3 = try await h.generate(project, owner: user, prompt: "add other", base: "1")
            #expect(v3.baseVersion == v1.version)
            #expect(v3.changes == FileChanges(added: ["other.txt"]))
            #expect(try await h.engine.versions.code(project: project, owner: user).files.map(\.path).contains("extra.txt") == false)
            let history = try #require(provider.requests.last?.messages.first?.text)
            #expect(history.contains("1. a shop for handmade soap\n") && !history.contains("add extra"))

            let v4 = try await h.generate(project, owner: user, prompt: "start over", fresh: true)
            #expect(v4.baseVersion == nil && v4.changes == nil)
            #expect(provider.requests.last?.base == nil)
            #expect(provider.requests.last?.messages.first?.text.contains("The app now") == false)
            #expect(try await h.engine.versions.code(project: project, owner: user).files.count == 3)
        }
    }

    @Test(arguments: Backend.allCases) func anAnswerThatChangesNothingIsNothingChangedAndCostsNothing(_ backend: Backend) async throws {
        let provider = ScriptedProvider(
            "primary", [.answer(SampleApp.answer()), .answer(SampleApp.answer(prose: "All good already."))])
        try await withPipeline([provider], on: backend) { h in
            let (user, project) = try await h.project()
            _ = try await h.generate(project, owner: user)
            let error = await expectEngineError(.nothingChanged) {
                try await h.generate(project, owner: user, prompt: "is everything fine?")
            }
            #expect(error?.details["reason"] == .string("no_changes"))
            #expect(error?.details["notes"] == .string("All good already."))
            #expect(try await h.balance(user) == 8)
            #expect(try await h.engine.count("versions") == 1)
            #expect(try await h.engine.count("credit_holds", where: "status = 'released'") == 1)
            let records = try await h.pipeline.store.list(project: project, owner: user)
            #expect(records.generations.first?.error == "io.vectort.NothingChanged", "\(records.generations.map { ($0.id, $0.status, $0.error ?? "-") })")
            #expect(try await h.engine.projects.get(project, owner: user).status == .completed)
        }
    }

    @Test(arguments: Backend.allCases) func anInvalidEditGetsOneRepairTurnOnTheMergedTreeAndIsChargedOnce(_ backend: Backend) async throws {
        // Deleting the script the page loads breaks the page; the repair writes a new page.
        let fixedPage = """
            <file path="index.html">
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>Soap</title></head><body><p>Soap</p></body></html>
            </file>
            <delete path="styles.css"/>

            """
        let provider = ScriptedProvider(
            "primary", [.answer(SampleApp.answer()), .answer("<delete path=\"app.js\"/>\n"), .answer(fixedPage)])
        try await withPipeline([provider], on: backend) { h in
            let (user, project) = try await h.project()
            _ = try await h.generate(project, owner: user)
            let result = try await h.generate(project, owner: user, prompt: "remove the script")
            #expect(result.changes == FileChanges(changed: ["index.html"], deleted: ["app.js", "styles.css"]))
            #expect(result.creditsCharged == 2)
            #expect(try await h.balance(user) == 6)
            #expect(provider.requests.last?.purpose == .repair)
            #expect(h.events.all.filter { $0.event == .validation }.map(\.passed) == [true, false, true])
        }
    }

    @Test(arguments: Backend.allCases) func anEditThatStaysInvalidStoresNothingAndChargesNothing(_ backend: Backend) async throws {
        let provider = ScriptedProvider(
            "primary",
            [
                .answer(SampleApp.answer()), .answer("<delete path=\"nope.js\"/>\n"),
                .answer("<delete path=\"still-nope.js\"/>\n"),
            ])
        try await withPipeline([provider], on: backend) { h in
            let (user, project) = try await h.project()
            _ = try await h.generate(project, owner: user)
            let error = await expectEngineError(.generationFailed) {
                try await h.generate(project, owner: user, prompt: "delete nope")
            }
            let issues = try #require(error?.details["issues"]?.arrayValue)
            #expect(issues.first?["rule"] == .string("edit"))
            #expect(issues.first?["path"] == .string("still-nope.js"))
            #expect(try await h.balance(user) == 8)
            #expect(try await h.engine.count("versions") == 1)
        }
    }

    @Test(arguments: Backend.allCases) func anElidedFileIsSentBackForRepair(_ backend: Backend) async throws {
        let base = SampleApp.files + [
            ProjectFile(path: "lib.js", contents: (1...30).map { "export const v\($0) = \($0);" }.joined(separator: "\n") + "\n")
        ]
        let elided = "<file path=\"lib.js\">\nexport const v1 = 1;\n// ... rest unchanged\n</file>\n"
        let whole = "<file path=\"lib.js\">\n" + base[3].contents + "export const v31 = 31;\n</file>\n"
        let provider = ScriptedProvider("primary", [.answer(SampleApp.answer(base)), .answer(elided), .answer(whole)])
        try await withPipeline([provider], on: backend) { h in
            let (user, project) = try await h.project()
            _ = try await h.generate(project, owner: user)
            let result = try await h.generate(project, owner: user, prompt: "add v31")
            #expect(result.changes == FileChanges(changed: ["lib.js"]))
            let repair = try #require(provider.requests.last?.messages.last?.text)
            #expect(repair.contains("- lib.js:2: lib.js leaves code out"))
        }
    }

    @Test(arguments: Backend.allCases) func aLargeAppIsCutToTheBudgetAndLeftOutFilesCannotBeRewritten(_ backend: Backend) async throws {
        let big = (0..<8).map { ProjectFile(path: "data/d\($0).json", contents: "[" + String(repeating: "1,", count: 2000) + "1]\n") }
        let provider = ScriptedProvider(
            "primary",
            [
                .answer(SampleApp.answer(SampleApp.files + big)),
                .answer("<file path=\"data/d5.json\">\n[2]\n</file>\n"),
                .answer("<file path=\"notes.txt\">\nnew\n</file>\n"),
            ])
        var settings = GenerationSettings()
        settings.contextMaxBytes = 5_000
        try await withPipeline([provider], settings: settings, on: backend) { h in
            let (user, project) = try await h.project()
            _ = try await h.generate(project, owner: user)
            let result = try await h.generate(project, owner: user, prompt: "change data/d1.json")
            #expect(result.changes == FileChanges(added: ["notes.txt"]))
            let started = try #require(h.events.all.last { $0.event == .started })
            #expect(started.contextOmitted == (0..<8).filter { $0 != 1 }.map { "data/d\($0).json" })
            let shown = try #require(provider.requests[1].messages.first?.text)
            #expect(shown.contains("<file path=\"data/d1.json\">"), "the file the prompt names is shown")
            #expect(shown.contains("Left out of this request for size, kept as they are: data/d0.json, data/d2.json"))
            let repair = try #require(provider.requests.last?.messages.last?.text)
            #expect(repair.contains("data/d5.json was left out of the request"))
        }
    }

    @Test(arguments: Backend.allCases) func baseVersionAndFreshAreChecked(_ backend: Backend) async throws {
        let provider = ScriptedProvider("primary", [.answer(SampleApp.answer()), .answer(SampleApp.answer())])
        try await withPipeline([provider], on: backend) { h in
            let (user, project) = try await h.project()
            let (other, otherProject) = try await h.project(title: "Other")
            _ = try await h.generate(project, owner: user)
            let foreign = try await h.generate(otherProject, owner: other)
            await expectEngineError(.notFound) {
                try await h.generate(project, owner: user, prompt: "edit", base: foreign.version)
            }
            await expectEngineError(.notFound) { try await h.generate(project, owner: user, prompt: "edit", base: "7") }
            await expectEngineError(.notFound) { try await h.generate(otherProject, owner: user, prompt: "edit", base: "1") }
            await expectEngineError(.invalidParameter, parameter: "fresh") {
                try await h.generate(project, owner: user, prompt: "edit", base: "1", fresh: true)
            }
            #expect(try await h.balance(user) == 8)
            #expect(provider.calls == 2)
        }
    }

    @Test(arguments: Backend.allCases) func anIdempotencyKeyIsBoundToTheBaseAndFresh(_ backend: Backend) async throws {
        let provider = ScriptedProvider(
            "primary", [.answer(SampleApp.answer()), .answer("<file path=\"a.txt\">\na\n</file>\n")])
        try await withPipeline([provider], on: backend) { h in
            let (user, project) = try await h.project()
            _ = try await h.generate(project, owner: user)
            let first = try await h.generate(project, owner: user, prompt: "add a", key: "k-1")
            let replay = try await h.generate(project, owner: user, prompt: "add a", key: "k-1")
            #expect(replay == first, "a replay reads back the base, the changes and the notes")
            #expect(replay.changes == FileChanges(added: ["a.txt"]))
            await expectEngineError(.conflict) { try await h.generate(project, owner: user, prompt: "add a", key: "k-1", base: "1") }
            await expectEngineError(.conflict) { try await h.generate(project, owner: user, prompt: "add a", key: "k-1", fresh: true) }
            #expect(provider.calls == 2)
        }
    }

    @Test(arguments: Backend.allCases) func aFailoverInAnEditKeepsFinishedWritesAndDeletes(_ backend: Backend) async throws {
        let cut = "<delete path=\"app.js\"/>\n<file path=\"a.txt\">\na\n</file>\n<file path=\"b.txt\">\nb partial"
        let primary = ScriptedProvider(
            "primary", [.answer(SampleApp.answer())], then: .failAfter(cut, ProviderFailure(.streamCut, .fallback, message: "cut")))
        let secondary = ScriptedProvider(
            "secondary",
            [
                .answer(
                    "<file path=\"b.txt\">\nb\n</file>\n<file path=\"index.html\">\n"
                        + SampleApp.files[0].contents.replacingOccurrences(of: "<script src=\"app.js\"></script>", with: "")
                        + "</file>\n")
            ])
        try await withPipeline([primary, secondary], on: backend) { h in
            let (user, project) = try await h.project()
            _ = try await h.generate(project, owner: user)
            let result = try await h.generate(project, owner: user, prompt: "a and b, no script")
            #expect(result.provider == "secondary")
            #expect(result.changes == FileChanges(changed: ["index.html"], added: ["a.txt", "b.txt"], deleted: ["app.js"]))
            let fallback = try #require(h.events.all.last { $0.event == .fallback })
            #expect(fallback.kept == ["a.txt", "app.js"])
            let asked = try #require(secondary.requests.first?.messages)
            #expect(asked.dropLast().last?.text == "<file path=\"a.txt\">\na\n</file>\n<delete path=\"app.js\"/>\n")
            #expect(asked.last?.text.contains("These deletions are done: app.js.") == true)
        }
    }
}
