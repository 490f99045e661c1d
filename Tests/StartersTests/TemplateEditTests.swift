import Foundation
import Protocol
import Testing

@testable import Generation
@testable import Starters
import VectortCore

@Suite("Template provider edits: what it understands it applies, what it does not it says")
struct TemplateEditTests {
    static func starter(_ kind: StarterKind = .landing, title: String = "Paper Planes") -> [ProjectFile] {
        StarterTemplates.files(kind, for: AppBrief(prompt: "an app about paper planes", title: title))
    }

    /// The answer to `prompt` applied to `base` the way the pipeline applies it.
    static func edit(_ prompt: String, _ base: [ProjectFile]) async throws -> (files: [ProjectFile], prose: String) {
        let provider = TemplateProvider()
        var text = ""
        for try await event in provider.stream(
            CompletionRequest(
                system: "", messages: [ChatMessage(.user, prompt)], purpose: .generate,
                brief: AppBrief(prompt: prompt, title: "ignored"), base: base))
        {
            if case .text(let chunk) = event { text += chunk }
        }
        var parser = FileStreamParser(edits: true)
        _ = parser.feed(text)
        _ = parser.finish()
        var tree = TreeEdit(base)
        tree.apply(parser, rules: TreeEdit.Rules(base: base, omitted: []))
        #expect(tree.issues.isEmpty)
        return (tree.files, parser.prose)
    }

    static func file(_ files: [ProjectFile], _ path: String) throws -> String {
        try #require(files.first { $0.path == path }).contents
    }

    @Test func theTitleAndTheAccentColourChangeAsAsked() async throws {
        let base = Self.starter()
        let (files, prose) = try await Self.edit("Rename it to Soap & Suds, and make it green", base)
        let changes = TreeEdit.changes(from: base, to: files)
        #expect(changes.changed == ["README.md", "app.js", "index.html", "styles.css"])
        let page = try Self.file(files, "index.html")
        #expect(page.contains("<title>Soap &amp; Suds</title>"))
        #expect(page.contains("<h1>Soap &amp; Suds</h1>"))
        #expect(!page.contains("Paper Planes"))
        #expect(try Self.file(files, "README.md").hasPrefix("# Soap &amp; Suds\n"))
        #expect(try Self.file(files, "app.js").contains("What is Soap \\u0026 Suds?"))
        let styles = try Self.file(files, "styles.css")
        #expect(styles.contains("  --accent: #16a34a;"))
        #expect(styles.contains("    --accent: #4ade80;"))
        #expect(!styles.contains("#4f46e5"))
        #expect(prose.contains("changed the title to \u{201C}Soap & Suds\u{201D}"))
        #expect(prose.contains("set the accent colour to green"))
        #expect(!prose.contains("did not understand"))
    }

    @Test func aSectionIsHiddenAndShownAgain() async throws {
        let base = Self.starter()
        let (hidden, prose) = try await Self.edit("remove the FAQ section", base)
        #expect(try Self.file(hidden, "index.html").contains(#"data-starter-section="questions" hidden>"#))
        #expect(prose.contains("hid the questions section"))
        let (shown, again) = try await Self.edit("add the questions section back", hidden)
        #expect(try Self.file(shown, "index.html") == Self.file(base, "index.html"))
        #expect(again.contains("showed the questions section again"))
    }

    @Test func whatItDoesNotUnderstandItSaysAndDoesNotPretend() async throws {
        let base = Self.starter(.shop)
        let (files, prose) = try await Self.edit("make the header sticky and use a blue accent", base)
        #expect(TreeEdit.changes(from: base, to: files).changed == ["styles.css"])
        #expect(prose.contains("set the accent colour to blue"))
        #expect(prose.contains("did not understand, so did not do: \u{201C}make the header sticky\u{201D}"))

        let (unchanged, nothing) = try await Self.edit("add a checkout with Stripe", base)
        #expect(unchanged == base)
        #expect(nothing.hasPrefix("I changed nothing."))
        #expect(nothing.contains("did not understand, so did not do: \u{201C}add a checkout with Stripe\u{201D}"))
    }

    @Test func anAppItDidNotMakeIsLeftAlone() async throws {
        let react = [
            ProjectFile(path: "index.html", contents: "<!doctype html><div id=\"root\"></div>\n"),
            ProjectFile(path: "src/App.jsx", contents: "export default function App() { return <h1>Hi</h1>; }\n"),
            ProjectFile(path: "styles.css", contents: ":root {\n  --accent: #123456;\n}\n"),
        ]
        let (files, prose) = try await Self.edit("make it green and rename it to Other", react)
        #expect(files == react)
        #expect(prose.contains("only edits the starter apps it made"))
    }

    @Test(arguments: StarterKind.allCases)
    func everyStarterCarriesTheMarkerAndItsSectionsCanBeHidden(_ kind: StarterKind) async throws {
        let base = Self.starter(kind)
        #expect(try Self.file(base, "index.html").contains(TemplateEdit.generatorMarker))
        for section in TemplateTests.sections[kind] ?? [] {
            let (files, _) = try await Self.edit("hide the \(section) section", base)
            #expect(try Self.file(files, "index.html").contains("data-starter-section=\"\(section)\" hidden"))
        }
    }

    @Test func clausesSplitAtPunctuationAndConjunctions() {
        #expect(
            TemplateEdit.clauses("Rename it to Soap. Make it green, and then hide the FAQ; please add stats")
                == ["Rename it to Soap", "Make it green", "hide the FAQ", "add stats"])
    }
}
