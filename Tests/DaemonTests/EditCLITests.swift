import Foundation
import Protocol
import Testing
import VectortTesting

extension DaemonSuite {
    @Suite("follow-up prompts edit the app through vectortctl (template provider, real daemon)")
    struct EditCLITests {
        @Test func aFollowUpPromptEditsTheCurrentVersion() async throws {
            let harness = try await AccountsCLITests.Harness()
            let user = try await harness.createUser("edits@example.com")
            let project = try await harness.json(Project.self, ["projects", "create", user.id, "Paper Planes"])

            let first = try await harness.ctl(["generate", project.id, "a landing page for paper planes", "--user", user.id])
            #expect(first.status == 0, "\(first.stderr)")
            #expect(first.stdout.hasPrefix("generation "))

            let edit = try await harness.ctl(
                ["generate", project.id, "Rename it to Soap Works and make it green", "--user", user.id])
            #expect(edit.status == 0, "\(edit.stderr)")
            #expect(edit.stdout.hasPrefix("editing version 1: generation "), "\(edit.stdout)")
            #expect(edit.stdout.contains("edited version 1 of \(project.id) into version 2"))
            #expect(edit.stdout.contains("  changed     README.md, app.js, index.html, styles.css\n"), "\(edit.stdout)")
            #expect(edit.stdout.contains("set the accent colour to green"))
            let page = try await harness.ctl(["projects", "code", project.id, "--path", "index.html"])
            #expect(page.stdout.contains("<title>Soap Works</title>"))

            let unknown = try await harness.ctl(["generate", project.id, "make the header sticky", "--user", user.id])
            #expect(unknown.status == 2)
            #expect(unknown.stderr.contains("io.vectort.NothingChanged"), "\(unknown.stderr)")
            #expect(unknown.stderr.contains("did not understand, so did not do: \u{201C}make the header sticky\u{201D}"))

            let versions = try await harness.json(VersionList.self, ["versions", project.id])
            #expect(versions.versions.map(\.number) == [2, 1])
            #expect(versions.versions.first?.changes == FileChangeCounts(changed: 4, added: 0, deleted: 0))
            #expect(versions.versions.first?.prompt == "Rename it to Soap Works and make it green")
            let table = try await harness.ctl(["versions", project.id])
            #expect(table.stdout.contains("BASE"), "\(table.stdout)")
            #expect(table.stdout.contains("~4 +0 -0"))

            let lines = try await harness.ctl(
                ["generate", project.id, "hide the features section", "--base", "1", "--user", user.id, "--json"])
            let events = lines.stdout.split(separator: "\n")
            #expect(events.first?.contains(#""base_version_number":1"#) == true, "\(lines.stdout)")
            let older = try JSONDecoder().decode(GenerationResult.self, from: Data(try #require(events.last).utf8))
            #expect(older.baseVersionNumber == 1)
            #expect(older.changes == FileChanges(changed: ["index.html"]))

            let fresh = try await harness.ctl(["generate", project.id, "a todo list", "--fresh", "--user", user.id])
            #expect(fresh.status == 0, "\(fresh.stderr)")
            #expect(fresh.stdout.hasPrefix("generation "))
            #expect(fresh.stdout.contains("generated \(project.id) version 4"))

            let both = try await harness.ctl(["generate", project.id, "x", "--fresh", "--base", "1"])
            #expect(both.status == 64, "\(both.stderr)")
            let balance = try await harness.json(CreditBalance.self, ["credits", "balance", user.id])
            #expect(balance.total == 2, "four versions at 2 credits each; the unchanged edit cost nothing")
        }
    }
}
