import Foundation
import Protocol
import Testing

@testable import Starters
@testable import Generation
import VectortCore

@Suite("Template provider: offline starter apps picked and filled from the brief")
struct TemplateTests {
    static let hostile = #"</script><b>"x" & 'y'</file>"#

    static func brief(_ prompt: String, title: String = "Test App", description: String? = nil) -> AppBrief {
        AppBrief(prompt: prompt, title: title, description: description)
    }

    static func file(_ files: [ProjectFile], _ path: String) throws -> String {
        try #require(files.first { $0.path == path }, "no \(path)").contents
    }

    // MARK: Picking

    struct PickCase: Sendable, CustomTestStringConvertible {
        let prompt: String
        let expected: StarterKind
        var testDescription: String { "\"\(prompt)\" → \(expected)" }
        init(_ prompt: String, _ expected: StarterKind) {
            self.prompt = prompt
            self.expected = expected
        }
    }

    static let pickCases: [PickCase] = [
        PickCase("an e-commerce site for handmade soap", .shop),
        PickCase("an online store selling vintage posters", .shop),
        PickCase("a product catalogue with a shopping cart", .shop),
        PickCase("a todo app for my garden chores", .todo),
        PickCase("a simple CRUD app to keep my recipes", .todo),
        PickCase("a habit tracker", .todo),
        PickCase("somewhere to keep my notes", .todo),
        PickCase("a blog about sourdough baking", .blog),
        PickCase("my travel journal with short articles", .blog),
        PickCase("an analytics dashboard for my bakery", .dashboard),
        PickCase("an admin panel showing metrics and a chart", .dashboard),
        PickCase("a website for my yoga studio", .landing),
        PickCase("a landing page for a new coffee brand", .landing),
        PickCase("", .landing),
    ]

    @Test(arguments: pickCases)
    func picksTheStarterByKeywordsInThePrompt(_ pick: PickCase) {
        #expect(StarterTemplates.pick(for: Self.brief(pick.prompt, title: "Untitled")) == pick.expected)
        #expect(TemplateProvider.files(for: Self.brief(pick.prompt, title: "Untitled")).template == pick.expected.rawValue)
    }

    @Test func titleAndDescriptionCountButThePromptWeighsMore() {
        #expect(StarterTemplates.pick(for: Self.brief("something for my team", title: "Team Dashboard")) == .dashboard)
        #expect(
            StarterTemplates.pick(
                for: Self.brief("something nice", title: "Anything", description: "Our family recipe blog")) == .blog)
        #expect(StarterTemplates.pick(for: Self.brief("a blog", title: "Shop Talk")) == .blog)
    }

    @Test func tiesGoToTheMoreSpecificStarter() {
        #expect(StarterTemplates.pick(for: Self.brief("a shop with a blog")) == .shop)
        #expect(StarterTemplates.pick(for: Self.brief("a blog with a task")) == .blog)
    }

    @Test func anExplicitProjectTypeNamingAStarterWins() {
        let todoPrompt = Self.brief("a todo list for my chores")
        #expect(StarterTemplates.pick(for: todoPrompt, type: "shop") == .shop)
        #expect(StarterTemplates.pick(for: todoPrompt, type: "E-Commerce") == .shop)
        #expect(StarterTemplates.pick(for: todoPrompt, type: "Landing page") == .landing)
        #expect(StarterTemplates.pick(for: todoPrompt, type: "dashboard") == .dashboard)
        #expect(TemplateProvider.files(for: todoPrompt, type: "blog").template == "blog")
        #expect(StarterTemplates.pick(for: todoPrompt, type: "web app") == .todo)
        #expect(StarterTemplates.pick(for: Self.brief("something for my team"), type: "online store") == .shop)
    }

    // MARK: Files

    @Test(arguments: StarterKind.allCases)
    func everyStarterHasIndexStylesScriptReadmeAndPackage(_ kind: StarterKind) throws {
        let files = StarterTemplates.files(kind, for: Self.brief("an app about paper planes", title: "Paper Planes"))
        #expect(files.map(\.path) == ["index.html", "styles.css", "app.js", "README.md", "package.json"])
        for file in files {
            #expect(file.contents.hasSuffix("\n"), "\(file.path) does not end with a newline")
            #expect(!file.contents.contains("</file>"), "\(file.path) contains </file>")
            #expect(!file.contents.contains("{{") && !file.contents.contains("}}"), "\(file.path) has a Mustache tag left")
        }
        let index = try Self.file(files, "index.html")
        #expect(index.hasPrefix("<!doctype html>"))
        #expect(index.contains("<title>Paper Planes</title>"))
    }

    @Test(arguments: StarterKind.allCases)
    func packageJSONParsesWithTheTitlesSlugAndAStartScript(_ kind: StarterKind) throws {
        let files = StarterTemplates.files(kind, for: Self.brief("a thing", title: "Crème Brûlée Café!"))
        let json = try JSONSerialization.jsonObject(with: Data(try Self.file(files, "package.json").utf8))
        let package = try #require(json as? [String: Any])
        #expect(package["name"] as? String == "creme-brulee-cafe")
        let scripts = try #require(package["scripts"] as? [String: String])
        #expect(scripts["start"]?.isEmpty == false)
    }

    @Test(arguments: StarterKind.allCases)
    func everyRelativeScriptAndStylesheetInTheIndexIsAGeneratedFile(_ kind: StarterKind) throws {
        let files = StarterTemplates.files(kind, for: Self.brief("an app about paper planes"))
        let paths = Set(files.map(\.path))
        let references = Self.resourceReferences(in: try Self.file(files, "index.html"))
        #expect(references.contains("app.js"))
        #expect(references.contains("styles.css"))
        for reference in references where !reference.hasPrefix("data:") {
            #expect(!reference.contains(":") && !reference.hasPrefix("//"), "\(reference) is not relative")
            #expect(paths.contains(reference), "\(reference) is not a generated file")
        }
    }

    @Test(arguments: StarterKind.allCases)
    func nothingIsLoadedFromTheNetwork(_ kind: StarterKind) throws {
        let files = StarterTemplates.files(kind, for: Self.brief("an app about paper planes"))
        let index = try Self.file(files, "index.html")
        let styles = try Self.file(files, "styles.css")
        let script = try Self.file(files, "app.js")
        #expect(!index.contains("http:") && !index.contains("https:") && !index.contains("//cdn"))
        #expect(!index.contains("type=\"module\""))
        #expect(!styles.contains("url(") && !styles.contains("@import") && !styles.contains("@font-face"))
        let scriptWithoutSVGNamespace = script.replacingOccurrences(of: "\"http://www.w3.org/2000/svg\"", with: "")
        for forbidden in ["http:", "https:", "fetch(", "XMLHttpRequest", "import(", "import ", "WebSocket"] {
            #expect(!scriptWithoutSVGNamespace.contains(forbidden), "app.js contains \(forbidden)")
        }
    }

    @Test func everyEmbeddedFileIsAStarterFileOrASharedPartial() {
        var expected: Set<String> = ["shared/base.css", "shared/prelude.js"]
        for kind in StarterKind.allCases {
            for file in StarterTemplates.files(kind, for: Self.brief("a thing")) { expected.insert("\(kind.rawValue)/\(file.path)") }
        }
        #expect(Set(EmbeddedStarters.files.keys) == expected)
    }

    static let sections: [StarterKind: [String]] = [
        .landing: ["hero", "features", "questions", "signup"],
        .todo: ["tasks"],
        .blog: [],  // app.js renders the whole of <main> from the hash route
        .shop: ["intro", "controls", "products"],
        .dashboard: ["stats", "trend", "activity"],
    ]

    static let palette = [
        "--bg", "--surface", "--text", "--muted", "--border", "--accent", "--accent-text", "--danger", "--success",
        "--warning",
    ]

    /// A later edit finds the page's parts by `data-starter-section` and the colours in `:root`.
    @Test(arguments: StarterKind.allCases)
    func sectionsAndThePaletteAreMarkedForLaterEdits(_ kind: StarterKind) throws {
        let files = StarterTemplates.files(kind, for: Self.brief("an app about paper planes"))
        let index = try Self.file(files, "index.html")
        let sectionTags = index.components(separatedBy: "<section").dropFirst().map { $0.prefix { $0 != ">" } }
        let names = sectionTags.compactMap { tag -> String? in
            guard let start = tag.range(of: #"data-starter-section=""#) else { return nil }
            return String(tag[start.upperBound...].prefix { $0 != "\"" })
        }
        #expect(names.count == sectionTags.count, "a <section> without data-starter-section")
        #expect(names == Self.sections[kind])

        let styles = try Self.file(files, "styles.css")
        let root = try #require(styles.range(of: ":root {").map { styles[$0.upperBound...].prefix { $0 != "}" } })
        for property in Self.palette { #expect(root.contains("\n  \(property): #"), "\(property) is not in :root") }
        let used = Set(styles.components(separatedBy: "var(").dropFirst().map { String($0.prefix { $0 != ")" && $0 != "," }) })
        for property in used where property != "--hue" {
            #expect(root.contains("\n  \(property): "), "\(property) is used but not declared in :root")
        }
    }

    @Test func promptWordsFlavourTheCopy() throws {
        let brief = Self.brief("an e-commerce site for handmade soap", title: "Soap Works")
        let (template, files) = TemplateProvider.files(for: brief)
        #expect(template == "shop")
        let script = try Self.file(files, "app.js")
        #expect(script.contains("Classic Handmade Soap"))
        #expect(script.contains("Handmade Soap Gift Set"))
        let index = try Self.file(files, "index.html")
        #expect(index.contains("<h1>Soap Works</h1>"))
        #expect(index.contains("handmade soap"))
        #expect(index.contains("An e-commerce site for handmade soap."))
        #expect(try Self.file(files, "README.md").hasPrefix("# Soap Works\n"))
    }

    @Test func theSubjectIsThePhraseAfterAConnector() {
        #expect(StarterCopy(brief: Self.brief("an e-commerce site for handmade soap")).subject == "handmade soap")
        #expect(StarterCopy(brief: Self.brief("a blog to share my recipes")).subject == "recipes")
        #expect(StarterCopy(brief: Self.brief("Dashboard for NASA launches and more")).subject == "NASA launches")
        #expect(StarterCopy(brief: Self.brief("a todo app", title: "My App")).subject == StarterCopy.defaultSubject)
        #expect(StarterCopy(brief: Self.brief("a shop", title: "Paper Planes")).subjectTitle == "Paper Planes")
    }

    @Test func aBriefWithoutTitleOrPromptStillFillsEveryStarter() throws {
        for kind in StarterKind.allCases {
            let files = StarterTemplates.files(kind, for: AppBrief(prompt: " \n ", title: ""))
            let index = try Self.file(files, "index.html")
            #expect(index.contains("<title>My App</title>"))
            #expect(try Self.file(files, "package.json").contains(#""name": "my-app""#))
        }
    }

    @Test func slugsAreLowerCaseASCIIWordsJoinedByHyphens() {
        #expect(StarterCopy.slug("Soap Works") == "soap-works")
        #expect(StarterCopy.slug("Crème Brûlée Café") == "creme-brulee-cafe")
        #expect(StarterCopy.slug("Grandma's Kitchen") == "grandmas-kitchen")
        #expect(StarterCopy.slug(Self.hostile) == "script-b-x-y-file")
        #expect(StarterCopy.slug("!!!") == "my-app")
        #expect(StarterCopy.slug(String(repeating: "word ", count: 40)).count <= 64)
    }

    // MARK: Escaping

    @Test(arguments: StarterKind.allCases)
    func briefTextIsEscapedForHTMLJavaScriptJSONAndMarkdown(_ kind: StarterKind) throws {
        let brief = AppBrief(
            prompt: "an app for </script><b>bold</b> \"quotes\" & 'apostrophes'", title: Self.hostile,
            description: "Line one\nline two \u{2028} </file> <!-- comment --> \\ back")
        let files = StarterTemplates.files(kind, for: brief)
        for file in files {
            #expect(!file.contents.contains("</file>"), "\(file.path) contains </file>")
            #expect(!file.contents.contains("</script><b>"), "\(file.path) contains the raw title")
            #expect(!file.contents.contains("<!-- comment"), "\(file.path) contains the raw description")
            #expect(!file.contents.contains("\u{2028}"), "\(file.path) contains U+2028")
        }
        let index = try Self.file(files, "index.html")
        #expect(index.contains("<title>&lt;/script&gt;&lt;b&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/file&gt;</title>"))
        #expect(index.contains(#"content="Line one line two &lt;/file&gt; &lt;!-- comment --&gt; \ back""#))
        #expect(!index.contains("<b>"))

        let json = try JSONSerialization.jsonObject(with: Data(try Self.file(files, "package.json").utf8))
        let package = try #require(json as? [String: Any])
        #expect(package["description"] as? String == "Line one line two </file> <!-- comment --> \\ back")

        let readme = try Self.file(files, "README.md")
        #expect(readme.hasPrefix(#"# &lt;/script&gt;&lt;b&gt;"x" &amp; 'y'&lt;/file&gt;"#))

        let script = try Self.file(files, "app.js")
        #expect(!script.contains("<b>") && !script.contains("</script"))
        if kind == .blog {
            #expect(script.contains(#"title: "\u003C/script\u003E\u003Cb\u003E\"x\" \u0026 \u0027y\u0027\u003C/file\u003E","#))
        }
    }

    @Test func javaScriptAndJSONStringsRoundTripAnyText() throws {
        let samples = [
            Self.hostile, "tab\there\r\nnew line", "\u{0}\u{1}\u{7F}", "\u{2028}\u{2029}", "back\\slash \"q\"",
            "emoji 👩‍👩‍👧 and ünïcödé", "<!-- -->",
        ]
        for sample in samples {
            let literal = StarterEscaping.jsonString(sample)
            let decoded = try JSONSerialization.jsonObject(with: Data(literal.utf8), options: .fragmentsAllowed)
            #expect(decoded as? String == sample)
            #expect(!literal.contains("<") && !literal.contains(">") && !literal.contains("'"))
            #expect(!literal.contains("\u{2028}") && !literal.contains("\n"))
        }
    }

    @Test func htmlEscapingCoversTextAndBothAttributeQuotes() {
        #expect(StarterEscaping.html(Self.hostile) == "&lt;/script&gt;&lt;b&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/file&gt;")
        #expect(StarterEscaping.html("plain text, ünïcödé") == "plain text, ünïcödé")
        // One character to Swift, a quote and an accent to a browser.
        #expect(StarterEscaping.html("\"\u{301}'\u{301}") == "&quot;\u{301}&#39;\u{301}")
    }

    @Test func cssEscapingLeavesOnlyLettersDigitsAndSpaces() {
        #expect(StarterEscaping.cssStringContents("Soap 2") == "Soap 2")
        #expect(StarterEscaping.cssStringContents(#"a"}</style>é"#) == #"a\22 \7d \3c \2f style\3e \e9 "#)
    }

    @Test func briefTextThatLooksLikeMustacheIsWrittenAsText() throws {
        let brief = AppBrief(prompt: "a shop for {{#posts}}x{{/posts}}", title: "{{title}} {{> shared/base.css}}")
        for kind in StarterKind.allCases {
            let files = StarterTemplates.files(kind, for: brief)
            #expect(try Self.file(files, "index.html").contains("<title>{{title}} {{&gt; shared/base.css}}</title>"))
            #expect(try Self.file(files, "package.json").contains(#""description": "A shop for {{#posts}}x{{/posts}}.""#))
        }
    }

    @Test func markdownEscapingKeepsFormattingCharactersLiteral() {
        #expect(StarterEscaping.markdown("*bold* _it_ [link](x) `code` <b> & #") == ##"\*bold\* \_it\_ \[link\](x) \`code\` &lt;b&gt; &amp; \#"##)
    }

    // MARK: Validation

    static let validationBriefs: [AppBrief] = [
        AppBrief(prompt: "an e-commerce site for handmade soap", title: "Soap Works"),
        AppBrief(prompt: "a blog about sourdough baking", title: "Crumb & Crust", description: "Bread, mostly."),
        AppBrief(prompt: "an analytics dashboard for my bakery", title: "Bakery Metrics"),
        AppBrief(prompt: "a todo app for garden chores", title: "Garden Jobs"),
        AppBrief(prompt: "a website for my yoga studio", title: "Sunrise Yoga"),
        AppBrief(prompt: "", title: ""),
        AppBrief(prompt: "an app for </script><b>it</b>", title: hostile, description: "'; alert(1); // `${x}` /* */"),
        AppBrief(prompt: "a blog about guides", title: "Guides"),
        AppBrief(prompt: "a shop for \"\u{301} quotes and e\u{301}", title: "\"\u{301}'\u{301} {{title}}", description: "{{{x}}}"),
        AppBrief(prompt: "Dashboard for NASA launches and more", title: "Mission Control 🚀", description: "👩‍👩‍👧 tab\there"),
        AppBrief(prompt: String(repeating: "long words about sailing boats ", count: 30), title: String(repeating: "Title ", count: 40)),
    ]

    @Test(arguments: StarterKind.allCases)
    func everyStarterPassesTheValidators(_ kind: StarterKind) {
        for brief in Self.validationBriefs {
            let issues = Validators.validate(StarterTemplates.files(kind, for: brief))
            #expect(issues.isEmpty, "\(kind) for \"\(brief.prompt)\": \(issues)")
        }
    }

    @Test func thePickedStarterPassesTheValidatorsForEveryPrompt() {
        for pick in Self.pickCases {
            let (template, files) = TemplateProvider.files(for: Self.brief(pick.prompt, title: pick.prompt))
            let issues = Validators.validate(files)
            #expect(issues.isEmpty, "\(template) for \"\(pick.prompt)\": \(issues)")
        }
    }

    // MARK: Determinism

    @Test(arguments: StarterKind.allCases)
    func theSameBriefGivesTheSameFiles(_ kind: StarterKind) {
        let brief = Self.brief("an app about paper planes", title: "Paper Planes", description: "Fold and fly.")
        #expect(StarterTemplates.files(kind, for: brief) == StarterTemplates.files(kind, for: brief))
    }

    @Test func theSeedIsStableAcrossRuns() {
        // FNV-1a of a fixed text: a `Hasher`-based seed would change with every process.
        #expect(StarterCopy.stableHash("") == 2_166_136_261)
        #expect(StarterCopy.stableHash("a") == 0xE40C_292C)
        let brief = Self.brief("an e-commerce site for handmade soap", title: "Soap Works")
        #expect(StarterCopy(brief: brief).seed == StarterCopy(brief: brief).seed)
        #expect(StarterCopy(brief: brief).seed != StarterCopy(brief: Self.brief("other", title: "Soap Works")).seed)
    }

    // MARK: Provider

    static func collect(_ provider: TemplateProvider, _ request: CompletionRequest) async throws -> [CompletionEvent] {
        var events: [CompletionEvent] = []
        for try await event in provider.stream(request) { events.append(event) }
        return events
    }

    static func text(of events: [CompletionEvent]) -> String {
        events.map { event in
            if case .text(let text) = event { return text }
            return ""
        }.joined()
    }

    /// Reads `<file path="…">\n…</file>\n` blocks back; file contents never hold `</file>`.
    static func parseBlocks(_ text: String) -> [ProjectFile] {
        var files: [ProjectFile] = []
        var rest = Substring(text)
        while let open = rest.range(of: "<file path=\"") {
            let afterOpen = rest[open.upperBound...]
            guard let quote = afterOpen.range(of: "\">\n"), let close = afterOpen.range(of: "</file>\n") else { break }
            files.append(
                ProjectFile(
                    path: String(afterOpen[..<quote.lowerBound]),
                    contents: String(afterOpen[quote.upperBound..<close.lowerBound])))
            rest = afterOpen[close.upperBound...]
        }
        return files
    }

    @Test func generateStreamsTheFilesAsFileBlocksInChunksThenFinishes() async throws {
        let brief = Self.brief("an e-commerce site for handmade soap", title: "Soap Works")
        let provider = TemplateProvider(chunkBytes: 512)
        let request = CompletionRequest(
            system: String(repeating: "s", count: 400), messages: [ChatMessage(.user, String(repeating: "m", count: 400))],
            purpose: .generate, brief: brief)
        let events = try await Self.collect(provider, request)
        let files = TemplateProvider.files(for: brief).files
        let text = Self.text(of: events)

        #expect(text == TemplateProvider.fileBlocks(files))
        #expect(Self.parseBlocks(text) == files)
        #expect(text.hasPrefix("<file path=\"index.html\">\n<!doctype html>"))

        let chunks = events.dropLast()
        #expect(chunks.count > 5)
        for case .text(let chunk) in chunks { #expect(chunk.utf8.count <= 512) }
        #expect(events.last == .finished(.stop, TokenUsage(inputTokens: 200, outputTokens: (text.count + 3) / 4)))
        #expect(events.dropLast().allSatisfy { if case .text = $0 { true } else { false } })
    }

    @Test func chunksNeverSplitACharacter() {
        let text = String(repeating: "é👩‍👩‍👧a", count: 50)
        let chunks = TemplateProvider.chunks(of: text, maxBytes: 7)
        #expect(chunks.joined() == text)
        #expect(chunks.allSatisfy { !$0.isEmpty })
        #expect(TemplateProvider.chunks(of: "", maxBytes: 7).isEmpty)
    }

    @Test func repairAnswersWithTheSameFilesAsGenerate() async throws {
        let brief = Self.brief("a blog about sourdough baking", title: "Crumb")
        let provider = TemplateProvider()
        let generated = try await Self.collect(provider, CompletionRequest(system: "", messages: [], purpose: .generate, brief: brief))
        let repaired = try await Self.collect(provider, CompletionRequest(system: "", messages: [], purpose: .repair, brief: brief))
        #expect(Self.text(of: repaired) == Self.text(of: generated))
        #expect(Self.parseBlocks(Self.text(of: repaired)).count == 5)
    }

    @Test func planIsPlainTextNamingTheFiles() async throws {
        let brief = Self.brief("an analytics dashboard for my bakery", title: Self.hostile)
        let events = try await Self.collect(
            TemplateProvider(), CompletionRequest(system: "", messages: [], purpose: .plan, brief: brief))
        let plan = Self.text(of: events)
        for path in ["index.html", "styles.css", "app.js", "README.md", "package.json"] {
            #expect(plan.contains("- \(path):"))
        }
        #expect(plan.contains("dashboard") && plan.contains("bakery"))
        #expect(!plan.contains("<file") && !plan.contains("</file>"))
        guard case .finished(.stop, _) = events.last else {
            Issue.record("the plan does not end with finished(.stop)")
            return
        }
    }

    @Test func continueOnlyFinishesBecauseNothingIsEverCut() async throws {
        let events = try await Self.collect(
            TemplateProvider(),
            CompletionRequest(system: "abcd", messages: [ChatMessage(.user, "abcd")], purpose: .continue, brief: nil))
        #expect(events == [.finished(.stop, TokenUsage(inputTokens: 2, outputTokens: 0))])
    }

    @Test func withoutABriefTheLastUserMessageIsThePromptAndTheTitleIsMyApp() async throws {
        let request = CompletionRequest(
            system: "Write files.",
            messages: [
                ChatMessage(.user, "a landing page"), ChatMessage(.assistant, "ok"),
                ChatMessage(.user, "an online store for handmade soap"),
            ])
        let events = try await Self.collect(TemplateProvider(), request)
        let expected = TemplateProvider.files(for: AppBrief(prompt: "an online store for handmade soap", title: "My App"))
        #expect(expected.template == "shop")
        #expect(Self.parseBlocks(Self.text(of: events)) == expected.files)
    }

    @Test func describesItselfAsTheTemplateKind() {
        let provider = TemplateProvider(name: "offline")
        #expect(provider.name == "offline")
        #expect(provider.kind == .template)
        #expect(provider.model == "starter-v1")
        #expect(TemplateProvider().name == "template")
    }

    // MARK: Helpers

    /// `src` of `<script>` and `href` of `<link>` elements.
    static func resourceReferences(in html: String) -> [String] {
        var references: [String] = []
        var rest = Substring(html)
        while let start = rest.firstIndex(of: "<") {
            guard let end = rest[start...].firstIndex(of: ">") else { break }
            let tag = rest[start...end]
            let attribute = tag.hasPrefix("<script") ? "src=\"" : tag.hasPrefix("<link") ? "href=\"" : nil
            if let attribute, let value = tag.range(of: attribute) {
                let tail = tag[value.upperBound...]
                if let close = tail.firstIndex(of: "\"") { references.append(String(tail[..<close])) }
            }
            rest = rest[rest.index(after: end)...]
        }
        return references
    }
}
