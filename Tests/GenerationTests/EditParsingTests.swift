import Foundation
import Protocol
import Testing

@testable import Generation
import VectortCore

@Suite("Edits: <delete/> lines, what an edit may not contain, and applying an answer to a base")
struct EditParsingTests {
    static func parse(_ chunks: [String], edits: Bool = true) -> ([FileStreamParser.Event], FileStreamParser) {
        var parser = FileStreamParser(edits: edits)
        var events: [FileStreamParser.Event] = []
        for chunk in chunks { events += parser.feed(chunk) }
        events += parser.finish()
        return (events, parser)
    }

    static let base = [
        ProjectFile(path: "index.html", contents: "<!doctype html>\n<title>Soap</title>\n"),
        ProjectFile(path: "styles.css", contents: "body { color: red; }\n"),
        ProjectFile(path: "app.js", contents: (1...40).map { "console.log(\($0));" }.joined(separator: "\n") + "\n"),
        ProjectFile(path: "logo.png", bytes: [0x89, 0x50, 0x4E, 0x47, 0xFF, 0x00]),
    ]

    // MARK: The parser

    @Test func deleteLinesTakeFileQuotingEntitiesAndNormalization() {
        let (events, parser) = Self.parse([
            "I removed the old script.\n<delete path=\"old.js\"/>\n  <delete path='./src//a&amp;b.css' />\n",
            "<delete path=legacy.txt></delete>\n<delete filepath=\"x.md\"/>\n",
        ])
        #expect(parser.operations == [.delete("old.js"), .delete("src/a&b.css"), .delete("legacy.txt"), .delete("x.md")])
        #expect(events == parser.operations.map { .fileDeleted(path: $0.path) })
        #expect(parser.prose == "I removed the old script.")
        #expect(parser.files.isEmpty)
    }

    @Test func aDeleteInsideAFileIsContentsAndOnlyAWholeLineDeletes() {
        let (_, parser) = Self.parse([
            "<file path=\"notes.md\">\n<delete path=\"a.js\"/>\n</file>\n",
            "Then <delete path=\"b.js\"/> in prose.\n<delete path=\"c.js\"/> and more\n",
        ])
        #expect(parser.operations == [.write(ProjectFile(path: "notes.md", contents: "<delete path=\"a.js\"/>\n"))])
    }

    @Test func operationsKeepTheirOrderAndTheLastWins() {
        let (_, parser) = Self.parse([
            "<file path=\"a.js\">\nlet a = 1;\n</file>\n<delete path=\"a.js\"/>\n<file path=\"b.js\">\nb\n</file>\n",
            "<delete path=\"c.js\"/>\n<file path=\"c.js\">\nc\n</file>\n",
        ])
        #expect(parser.operations.map(\.path) == ["a.js", "a.js", "b.js", "c.js", "c.js"])
        #expect(parser.files.map(\.path) == ["b.js", "c.js"], "a deleted write leaves files; a rewrite after a delete stays")
    }

    @Test func anEmptyFileBlockIsAnEmptyFileNotADeletion() {
        let (_, parser) = Self.parse(["<file path=\"empty.txt\">\n</file>\n"])
        #expect(parser.operations == [.write(ProjectFile(path: "empty.txt", contents: ""))])
    }

    @Test func aDeleteEscapingTheProjectIsRefused() {
        let (events, parser) = Self.parse(["<delete path=\"../etc/passwd\"/>\n<delete path=\"/abs.js\"/>\n"])
        #expect(parser.operations.isEmpty)
        #expect(parser.refused.map(\.path) == ["../etc/passwd", "/abs.js"])
        #expect(events.allSatisfy { if case .fileRejected = $0 { true } else { false } })
    }

    @Test func anEditNotesSelfClosingTagsAndPatchFencesAndSkipsThePatch() {
        let text = """
            <file path="src/App.jsx"/>
            src/Header.jsx
            ```diff
            - old
            + new
            ```
            ```patch title="src/a.css"
            @@ -1 +1 @@
            ```
            <file path="ok.txt">
            fine
            </file>

            """
        let (_, parser) = Self.parse([text])
        #expect(parser.selfClosing == ["src/App.jsx"])
        #expect(parser.patches == ["src/Header.jsx", "src/a.css"])
        #expect(parser.files.map(\.path) == ["ok.txt"])
        // A new app keeps reading a path-headed fence as a file, whatever its label.
        let (_, fresh) = Self.parse([text], edits: false)
        #expect(fresh.selfClosing.isEmpty && fresh.patches.isEmpty)
        #expect(fresh.files.map(\.path) == ["src/Header.jsx", "src/a.css", "ok.txt"])
    }

    @Test(arguments: ["<delete path=\"src/a", "<delete", "<del", "<file path=\"src/App.jsx", "<file\n  path=\"x.js\""])
    func anUnfinishedTagAtTheEndIsACut(_ tail: String) {
        var parser = FileStreamParser(edits: true)
        _ = parser.feed("<file path=\"a.txt\">\nA\n</file>\n" + tail)
        #expect(parser.isCutOff)
        #expect(!parser.isInsideFile)
    }

    @Test func theContinuationOfACutFileTagCompletesIt() {
        var parser = FileStreamParser(edits: true)
        _ = parser.feed("<file path=\"src/App.jsx")
        #expect(parser.isCutOff)
        _ = parser.feed("\">\nB\n</file>\n")
        _ = parser.finish()
        #expect(parser.operations == [.write(ProjectFile(path: "src/App.jsx", contents: "B\n"))])
    }

    @Test func aFinishedAnswerIsNotCut() {
        var parser = FileStreamParser(edits: true)
        _ = parser.feed("<delete path=\"a.js\"/>\nDone, <b>bold</b> claims.")
        #expect(!parser.isCutOff)
        _ = parser.feed("\nI used the <delete/> syntax.")
        #expect(!parser.isCutOff)
    }

    @Test func theContinuationOfACutDeleteCompletesIt() {
        var parser = FileStreamParser(edits: true)
        _ = parser.feed("<delete path=\"src/ol")
        #expect(parser.isCutOff)
        _ = parser.feed("d.js\"/>\n")
        _ = parser.finish()
        #expect(parser.operations == [.delete("src/old.js")])
    }

    // MARK: Applying

    static func apply(_ answer: String, to base: [ProjectFile] = base, omitted: [String] = []) -> TreeEdit {
        let (_, parser) = parse([answer])
        var tree = TreeEdit(base)
        tree.apply(parser, rules: TreeEdit.Rules(base: base, omitted: omitted))
        return tree
    }

    @Test func theNewTreeIsTheBasePlusChangesMinusDeletions() {
        let tree = Self.apply("""
            <file path="styles.css">
            body { color: blue; }
            </file>
            <file path="about.html">
            <p>About</p>
            </file>
            <delete path="index.html"/>

            """)
        #expect(tree.issues.isEmpty)
        #expect(tree.files.map(\.path) == ["styles.css", "app.js", "logo.png", "about.html"])
        #expect(tree.files[1] == Self.base[2], "unchanged files are carried over as they were")
        #expect(tree.files[2] == Self.base[3], "binary files are carried over untouched")
        let changes = TreeEdit.changes(from: Self.base, to: tree.files)
        #expect(changes == FileChanges(changed: ["styles.css"], added: ["about.html"], deleted: ["index.html"]))
    }

    @Test func aRewriteEqualToTheBaseAfterNormalizationKeepsTheBaseBytes() {
        let crlf = ProjectFile(path: "a.txt", contents: "one\r\ntwo  \n\n\n")
        let (_, parser) = Self.parse(["<file path=\"a.txt\">\none\ntwo\n</file>\n"])
        var tree = TreeEdit([crlf])
        tree.apply(parser, rules: TreeEdit.Rules(base: [crlf], omitted: []))
        #expect(tree.files == [crlf])
        #expect(TreeEdit.changes(from: [crlf], to: tree.files).isEmpty)
    }

    @Test func deletingWhatIsNotThereIsAnEditIssue() {
        let tree = Self.apply("<delete path=\"missing.js\"/>\n<file path=\"n.js\">\nn\n</file>\n<delete path=\"n.js\"/>\n<delete path=\"n.js\"/>\n")
        #expect(tree.issues.map(\.rule) == ["edit", "edit"])
        #expect(tree.issues.map(\.path) == ["missing.js", "n.js"])
        #expect(tree.files == Self.base)
    }

    @Test func anElidedRewriteThatShrinksIsRefused() {
        let elided = "console.log(1);\n// ... rest unchanged\n"
        let tree = Self.apply("<file path=\"app.js\">\n\(elided)</file>\n")
        #expect(tree.issues.count == 1)
        #expect(tree.issues.first?.rule == "edit")
        #expect(tree.issues.first?.line == 2)
        #expect(tree.files == Self.base)
        // A marker in a file that keeps its size is code, not an elision.
        let whole = Self.base[2].contents + "// ... more logs later\n"
        #expect(Self.apply("<file path=\"app.js\">\n\(whole)</file>\n").issues.isEmpty)
    }

    @Test(arguments: [
        "...", "…", "// ...", "/* rest of the file unchanged */", "{/* existing code */}", "<!-- rest unchanged -->",
        "# same as before", "  // … other handlers", "* keep existing",
    ])
    func elisionMarkers(_ line: String) {
        #expect(TreeEdit.elision(in: "a\n\(line)\nb\n") == 2)
    }

    @Test(arguments: ["// unchanged behaviour: see README", "const rest = [...items];", "# Heading", "/* colours */"])
    func linesThatAreNotElisions(_ line: String) {
        #expect(TreeEdit.elision(in: "a\n\(line)\nb\n") == nil)
    }

    @Test func binaryAndLeftOutFilesCannotBeRewrittenAndSelfClosingOrPatchesAreIssues() {
        let tree = Self.apply(
            """
            <file path="logo.png">
            not a png
            </file>
            <file path="styles.css">
            body {}
            </file>
            <file path="index.html"/>
            index.html
            ```diff
            -a
            ```

            """, omitted: ["styles.css"])
        #expect(tree.issues.map(\.path) == ["index.html", "index.html", "logo.png", "styles.css"])
        #expect(Set(tree.issues.map(\.rule)) == ["edit"])
        #expect(tree.files == Self.base)
    }

    @Test func withoutRulesANewAppIgnoresStrayDeletes() {
        let (_, parser) = Self.parse(["<file path=\"a.txt\">\na\n</file>\n<delete path=\"zzz.txt\"/>\n"], edits: false)
        var tree = TreeEdit([])
        tree.apply(parser, rules: nil)
        #expect(tree.issues.isEmpty)
        #expect(tree.files.map(\.path) == ["a.txt"])
    }

    // MARK: The context

    @Test func everythingFitsSoEveryTextFileIsShown() {
        let context = EditContext.select(Self.base, prompt: "make it blue", maxBytes: 10_000)
        #expect(context.shown.map(\.path) == ["index.html", "styles.css", "app.js"])
        #expect(context.omitted.isEmpty)
        #expect(context.binary == ["logo.png"])
    }

    @Test func aboveTheBudgetEntryPointsNamedAndRecentFilesGoFirst() {
        let big = String(repeating: "x", count: 3000) + "\n"
        let files = [
            ProjectFile(path: "index.html", contents: "<!doctype html>\n"),
            ProjectFile(path: "src/App.jsx", contents: big),
            ProjectFile(path: "src/components/Header.jsx", contents: big),
            ProjectFile(path: "src/components/Footer.jsx", contents: big),
            ProjectFile(path: "src/lib/cart.js", contents: big),
            ProjectFile(path: "src/lib/small.js", contents: "s\n"),
        ]
        let context = EditContext.select(
            files, prompt: "Make the header sticky", recentlyChanged: ["src/lib/cart.js"], maxBytes: 9_100)
        #expect(
            context.shown.map(\.path) == [
                "index.html", "src/App.jsx", "src/components/Header.jsx", "src/lib/cart.js", "src/lib/small.js",
            ])
        #expect(context.omitted == ["src/components/Footer.jsx"])
    }
}
