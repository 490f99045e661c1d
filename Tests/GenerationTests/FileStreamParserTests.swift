import Foundation
import Protocol
import Testing

@testable import Generation
import VectortCore

@Suite("Streaming parser of generated files: <file> blocks and path-headed fences")
struct FileStreamParserTests {
    /// Feeds `chunks` and finishes; returns every event and the parser.
    static func parse(_ chunks: [String], limits: VersionLimits = VersionLimits()) -> ([FileStreamParser.Event], FileStreamParser) {
        var parser = FileStreamParser(limits: limits)
        var events: [FileStreamParser.Event] = []
        for chunk in chunks { events += parser.feed(chunk) }
        events += parser.finish()
        return (events, parser)
    }

    static func files(_ text: String) -> [ProjectFile] { parse([text]).1.files }

    static let twoFiles = """
        Here is your app.
        <file path="index.html">
        <!doctype html>
        <html><body><div id="root"></div></body></html>
        </file>
        <file path='src/App.jsx'>
        export default function App() {
          return <p>Don't panic</p>;
        }
        </file>
        Enjoy!
        """

    static let twoFilesExpected = [
        ProjectFile(path: "index.html", contents: "<!doctype html>\n<html><body><div id=\"root\"></div></body></html>\n"),
        ProjectFile(path: "src/App.jsx", contents: "export default function App() {\n  return <p>Don't panic</p>;\n}\n"),
    ]

    // MARK: <file> blocks

    @Test func readsFileBlocksAndIgnoresProseAround() {
        let (events, parser) = Self.parse([Self.twoFiles])
        #expect(parser.files == Self.twoFilesExpected)
        #expect(
            events == [
                .fileStarted(path: "index.html"), .fileCompleted(Self.twoFilesExpected[0]),
                .fileStarted(path: "src/App.jsx"), .fileCompleted(Self.twoFilesExpected[1]),
            ])
        #expect(!parser.isInsideFile)
        #expect(parser.openPath == nil)
    }

    @Test func givesTheSameFilesWhateverTheSplitPoint() {
        let text = Self.twoFiles
        for offset in 0...text.count {
            let split = text.index(text.startIndex, offsetBy: offset)
            let (events, parser) = Self.parse([String(text[..<split]), String(text[split...])])
            #expect(parser.files == Self.twoFilesExpected, "split at \(offset)")
            #expect(events.count == 4, "split at \(offset)")
        }
    }

    @Test func givesTheSameFilesFedOneCharacterAtATime() {
        let (_, parser) = Self.parse(Self.twoFiles.map { String($0) })
        #expect(parser.files == Self.twoFilesExpected)
    }

    @Test func reportsEachFileAsSoonAsItsClosingLineArrives() {
        var parser = FileStreamParser()
        #expect(parser.feed("<file path=\"a.txt\">\nhello\n") == [.fileStarted(path: "a.txt")])
        #expect(parser.isInsideFile)
        #expect(parser.openPath == "a.txt")
        #expect(parser.feed("</fi") == [])
        #expect(parser.isInsideFile)
        #expect(parser.feed("le>") == [])
        #expect(parser.feed("\n") == [.fileCompleted(ProjectFile(path: "a.txt", contents: "hello\n"))])
        #expect(!parser.isInsideFile)
    }

    @Test func keepsFencesBackticksAndTagsInsideAFileAsContents() {
        let readme = """
            # Demo

            Run it:

            ```bash
            npm run dev
            ```

            Use `<div>` and <file path="x"> freely; "</file>" in quotes too.
            """
        let text = "<file path=\"README.md\">\n\(readme)\n</file>\n"
        #expect(Self.files(text) == [ProjectFile(path: "README.md", contents: readme + "\n")])
    }

    @Test func doesNotCloseOnAClosingTagFollowedByMoreCode() {
        let code = """
            const tag = "</file>";
            const jsx = <pre></file></pre>;
            const open = '<file path="evil.txt">';
            """
        let (_, parser) = Self.parse(["<file path=\"src/tags.js\">\n\(code)\n</file>\n"])
        #expect(parser.files == [ProjectFile(path: "src/tags.js", contents: code + "\n")])
    }

    @Test func closesOnAClosingTagFollowedBySpacesOrAnotherFile() {
        let text = "<file path=\"a.txt\">one</file>   \n<file path=\"b.txt\">\ntwo\n</file><file path=\"c.txt\">three</file>"
        #expect(
            Self.files(text) == [
                ProjectFile(path: "a.txt", contents: "one\n"), ProjectFile(path: "b.txt", contents: "two\n"),
                ProjectFile(path: "c.txt", contents: "three\n"),
            ])
    }

    @Test func closesOnAClosingTagAtTheEndOfTheStream() {
        var parser = FileStreamParser()
        _ = parser.feed("<file path=\"a.txt\">\nlast line</file>")
        #expect(!parser.isInsideFile, "the stream ending now would close the file")
        #expect(parser.openPath == nil)
        #expect(parser.files.isEmpty)
        #expect(parser.finish() == [.fileCompleted(ProjectFile(path: "a.txt", contents: "last line\n"))])
        #expect(!parser.isInsideFile)
    }

    @Test func isInsideFileAnswersAsIfTheStreamEndedNowWithoutConsumingAnything() {
        var parser = FileStreamParser()
        _ = parser.feed("<file path=\"a.txt\">\nA\n</file><file path=\"b.txt\">B")
        #expect(parser.isInsideFile, "the last line closes a.txt but opens b.txt")
        #expect(parser.openPath == "b.txt")
        _ = parser.feed("</file>  ")
        #expect(!parser.isInsideFile)
        #expect(parser.files.isEmpty, "asking completes nothing")
        _ = parser.feed("\nsrc/c.js\n```js\n1;\n```")
        #expect(!parser.isInsideFile, "a closing fence without a newline ends the fenced file")
        _ = parser.feed("\n<file path=\"d.txt\">\nD\n</file>\"")
        #expect(parser.isInsideFile, "</file> followed by a quote is contents")
        #expect(parser.openPath == "d.txt")
        _ = parser.feed(";\n</file>\n")
        #expect(parser.finish().isEmpty)
        #expect(parser.files.map(\.path) == ["a.txt", "b.txt", "src/c.js", "d.txt"])
        #expect(parser.files.last?.contents == "D\n</file>\";\n")
    }

    @Test func aFileOpenedOnTheLastUnterminatedLineCountsAsOpen() {
        var parser = FileStreamParser()
        _ = parser.feed("Sure.\n<file path=\"x.txt\">partial")
        #expect(parser.isInsideFile)
        #expect(parser.openPath == "x.txt")
        #expect(parser.feed(" line</file>\n") == [.fileStarted(path: "x.txt"), .fileCompleted(ProjectFile(path: "x.txt", contents: "partial line\n"))])
    }

    @Test func stripsOneWrappingFenceInsideAFileBlock() {
        let text = "<file path=\"src/main.jsx\">\n```jsx\nimport App from './App';\n```\n</file>\n"
        #expect(Self.files(text) == [ProjectFile(path: "src/main.jsx", contents: "import App from './App';\n")])
    }

    @Test func keepsAReadmeThatStartsAndEndsWithCodeSamples() {
        let readme = "```bash\nnpm install\n```\n\nThen:\n\n```bash\nnpm run dev\n```\n"
        #expect(Self.files("<file path=\"README.md\">\n\(readme)</file>\n") == [ProjectFile(path: "README.md", contents: readme)])
        #expect(
            Self.files("<file path=\"README.md\">\n```markdown\n\(readme)```\n</file>\n")
                == [ProjectFile(path: "README.md", contents: readme)])
    }

    @Test func normalizesTheFinalNewline() {
        #expect(Self.files("<file path=\"a.txt\">\n\nx\n\n\n  \n</file>\n") == [ProjectFile(path: "a.txt", contents: "\nx\n")])
        #expect(Self.files("<file path=\"a.txt\">x</file>\n") == [ProjectFile(path: "a.txt", contents: "x\n")])
        #expect(Self.files("<file path=\"empty.txt\">\n</file>\n") == [ProjectFile(path: "empty.txt", contents: "")])
        #expect(Self.files("<file path=\"empty.txt\"></file>\n") == [ProjectFile(path: "empty.txt", contents: "")])
    }

    @Test func foldsCRLFLineEnds() {
        let text = "Sure.\r\n<file path=\"a.js\">\r\nconst a = 1;\r\nconst b = 2;\r\n</file>\r\n"
        #expect(Self.files(text) == [ProjectFile(path: "a.js", contents: "const a = 1;\nconst b = 2;\n")])
        // A chunk boundary between \r and \n changes nothing.
        #expect(Self.parse(["<file path=\"a.js\">\r", "\nx\r", "\n</file>\r", "\n"]).1.files == [ProjectFile(path: "a.js", contents: "x\n")])
    }

    @Test func readsAttributeQuotesEntitiesAndSpacing() {
        let text = """
            <file path="a&quot;b.txt">1</file>
            <file   path = 'src/it&#39;s.js' >2</file>
            <file path=plain.txt>3</file>
            <file description="the &amp; app" path="x&amp;y.txt">4</file>
            <file
              path="multi/line.txt"
            >
            5
            </file>
            """
        #expect(
            Self.files(text).map(\.path) == ["a\"b.txt", "src/it's.js", "plain.txt", "x&y.txt", "multi/line.txt"])
        #expect(Self.files(text).map(\.contents) == ["1\n", "2\n", "3\n", "4\n", "5\n"])
    }

    @Test func ignoresFileTagsWithoutAPathAndSelfClosingTags() {
        let text = "<file>\nnot a file\n</file>\n<file path=\"x.txt\" />\n<filesystem path=\"y\">no</filesystem>\n"
        let (events, parser) = Self.parse([text])
        #expect(events.isEmpty)
        #expect(parser.files.isEmpty)
        #expect(!parser.isInsideFile)
    }

    @Test func normalizesPaths() {
        let text = "<file path=\"./src//components///Button.jsx\">x</file>\n<file path=\" ././a.txt \">y</file>\n"
        #expect(Self.files(text).map(\.path) == ["src/components/Button.jsx", "a.txt"])
    }

    @Test func laterFileWithTheSamePathReplacesTheEarlierInPlace() {
        let text = """
            <file path="a.txt">first</file>
            <file path="b.txt">b</file>
            <file path="./a.txt">second</file>
            """
        let (events, parser) = Self.parse([text])
        #expect(parser.files == [ProjectFile(path: "a.txt", contents: "second\n"), ProjectFile(path: "b.txt", contents: "b\n")])
        #expect(events.filter { if case .fileCompleted = $0 { true } else { false } }.count == 3)
    }

    // MARK: Unsafe paths and limits

    @Test(arguments: ["/etc/passwd", "../x", "src/../../x", "a\u{0}b", "a&#0;b", "src/", "C:\\x.txt", "//etc/passwd"])
    func rejectsUnsafePathsAndSkipsTheirContents(_ path: String) {
        let text = "<file path=\"\(path)\">\nroot::0:0\n</file>\n<file path=\"ok.txt\">fine</file>\n"
        let (events, parser) = Self.parse([text])
        guard case .fileRejected(_, let reason)? = events.first else {
            Issue.record("expected a rejection first, got \(events)")
            return
        }
        #expect(reason.contains("path"))
        #expect(events.dropFirst() == [.fileStarted(path: "ok.txt"), .fileCompleted(ProjectFile(path: "ok.txt", contents: "fine\n"))])
        #expect(parser.files == [ProjectFile(path: "ok.txt", contents: "fine\n")])
    }

    @Test func rejectsAPathLongerThanTheLimit() {
        let long = String(repeating: "a", count: 40) + ".txt"
        let (events, parser) = Self.parse(["<file path=\"\(long)\">x</file>\n"], limits: VersionLimits(maxPathBytes: 32))
        #expect(events.count == 1)
        #expect(parser.files.isEmpty)
        if case .fileRejected(let path, _)? = events.first { #expect(path == long) } else { Issue.record("\(events)") }
    }

    @Test func rejectsAFileGrowingBeyondTheByteLimit() {
        let big = String(repeating: "0123456789\n", count: 20)
        let (events, parser) = Self.parse(
            ["<file path=\"big.txt\">\n\(big)</file>\n<file path=\"small.txt\">ok</file>\n"], limits: VersionLimits(maxBytes: 100))
        #expect(events.first == .fileStarted(path: "big.txt"))
        #expect(events.filter { if case .fileRejected("big.txt", _) = $0 { true } else { false } }.count == 1)
        #expect(parser.files == [ProjectFile(path: "small.txt", contents: "ok\n")])
    }

    @Test func rejectsFilesBeyondTheFileCountLimitButAcceptsReplacements() {
        let text = "<file path=\"a\">1</file>\n<file path=\"b\">2</file>\n<file path=\"c\">3</file>\n<file path=\"a\">4</file>\n"
        let (events, parser) = Self.parse([text], limits: VersionLimits(maxFiles: 2))
        #expect(parser.files.map(\.contents) == ["4\n", "2\n"])
        #expect(events.contains { if case .fileRejected("c", _) = $0 { true } else { false } })
    }

    // MARK: Truncation and continuation

    @Test func leavesAnUnterminatedFileOpenAndIncomplete() {
        var parser = FileStreamParser()
        var events = parser.feed("<file path=\"a.txt\">done</file>\n<file path=\"src/App.jsx\">\nexport default function App() {\n  return <div")
        events += parser.finish()
        #expect(events.filter { if case .fileCompleted = $0 { true } else { false } }.count == 1)
        #expect(parser.isInsideFile)
        #expect(parser.openPath == "src/App.jsx")
        #expect(parser.files.map(\.path) == ["a.txt"])
    }

    @Test func aContinuationCarriesOnTheOpenFileEvenMidLine() {
        let whole = "<file path=\"src/App.jsx\">\nexport default function App() {\n  return <div>Hi</div>;\n}\n</file>\n"
        let expected = ProjectFile(path: "src/App.jsx", contents: "export default function App() {\n  return <div>Hi</div>;\n}\n")
        for cut in ["  return <d", "</fi", "}\n"] {
            let range = whole.range(of: cut)!
            var parser = FileStreamParser()
            _ = parser.feed(String(whole[..<range.upperBound]))
            #expect(parser.isInsideFile, "cut after \(cut)")
            #expect(parser.finish().isEmpty, "finish after \(cut) completes nothing")
            #expect(parser.isInsideFile)
            let events = parser.feed(String(whole[range.upperBound...])) + parser.finish()
            #expect(events == [.fileCompleted(expected)], "cut after \(cut)")
            #expect(parser.files == [expected])
        }
    }

    @Test func aTruncatedFenceIsNotAFile() {
        let (events, parser) = Self.parse(["src/App.jsx\n```jsx\nexport default 1;\n"])
        #expect(events == [.fileStarted(path: "src/App.jsx")])
        #expect(parser.isInsideFile)
        #expect(parser.files.isEmpty)
    }

    // MARK: Path-headed fences

    @Test(arguments: [
        "src/App.jsx", "**src/App.jsx**", "`src/App.jsx`", "### src/App.jsx", "#### `src/App.jsx`:", "// file: src/App.jsx",
        "File: src/App.jsx", "**File:** `src/App.jsx`", "- src/App.jsx", "1. **src/App.jsx**", "<!-- src/App.jsx -->", "src/App.jsx:",
    ])
    func readsAFenceHeadedByAPathLine(_ header: String) {
        let text = "Here you go:\n\n\(header)\n```jsx\nexport default function App() {}\n```\n\nThat's it."
        #expect(Self.files(text) == [ProjectFile(path: "src/App.jsx", contents: "export default function App() {}\n")])
    }

    @Test(arguments: ["```jsx src/App.jsx", "```jsx:src/App.jsx", "```src/App.jsx", "```jsx title=\"src/App.jsx\"", "~~~ jsx file=src/App.jsx"])
    func readsAPathFromTheFenceInfoString(_ opener: String) {
        let closer = opener.hasPrefix("~") ? "~~~" : "```"
        let text = "\(opener)\nexport default function App() {}\n\(closer)\n"
        #expect(Self.files(text) == [ProjectFile(path: "src/App.jsx", contents: "export default function App() {}\n")])
    }

    @Test func readsAPathFromACommentOpeningAnUnlabelledFence() {
        let text = "```jsx\n// src/App.jsx\nexport default 1;\n```\n```html\n<!-- file: index.html -->\n<p>x</p>\n```\n"
        #expect(
            Self.files(text) == [
                ProjectFile(path: "src/App.jsx", contents: "export default 1;\n"), ProjectFile(path: "index.html", contents: "<p>x</p>\n"),
            ])
    }

    @Test func allowsOneBlankLineBetweenHeaderAndFence() {
        #expect(Self.files("src/a.js\n\n```js\n1;\n```\n").map(\.path) == ["src/a.js"])
        #expect(Self.files("src/a.js\n\n\n```js\n1;\n```\n").isEmpty)
        #expect(Self.files("src/a.js\nsome prose\n```js\n1;\n```\n").isEmpty)
    }

    @Test func ignoresCodeSamplesInProse() {
        let text = """
            Install it with:
            ```bash
            npm install
            ```
            Then a sample whose last line looks like a path:
            ```
            see
            notes.txt
            ```
            ```js
            console.log(1)
            ```
            """
        let (events, parser) = Self.parse([text])
        #expect(events.isEmpty)
        #expect(parser.files.isEmpty)
        #expect(!parser.isInsideFile)
    }

    @Test func keepsNestedFencesInAFencedMarkdownFile() {
        let readme = "# App\n\n```bash\nnpm run dev\n```\n\nDone.\n"
        let text = "README.md\n```markdown\n\(readme)```\n\nsrc/a.js\n```js\n1;\n```\n"
        #expect(Self.files(text) == [ProjectFile(path: "README.md", contents: readme), ProjectFile(path: "src/a.js", contents: "1;\n")])
        let longer = "README.md\n````markdown\n\(readme)````\n"
        #expect(Self.files(longer) == [ProjectFile(path: "README.md", contents: readme)])
    }

    @Test func readsFileTagsInsideAFenceWrappingTheWholeAnswer() {
        let text = "```xml\n<file path=\"a.txt\">\nA\n</file>\n<file path=\"b.txt\">\nB\n</file>\n```\nnotes.md\n```md\nN\n```\n"
        #expect(Self.files(text).map(\.path) == ["a.txt", "b.txt", "notes.md"])
    }

    @Test func rejectsAnUnsafeFencedPathAndSkipsItsBlock() {
        let text = "../evil.sh\n```sh\nrm -rf /\n```\nok.txt\n```\nfine\n```\n"
        let (events, parser) = Self.parse([text])
        #expect(events.count == 3)
        #expect(parser.files == [ProjectFile(path: "ok.txt", contents: "fine\n")])
    }

    @Test func mixesBothFormats() {
        let text = "<file path=\"a.txt\">\nA\n</file>\n\n**b.txt**\n```\nB\n```\n<file path=\"c.txt\">C</file>\n"
        #expect(Self.files(text).map(\.path) == ["a.txt", "b.txt", "c.txt"])
    }

    // MARK: Performance

    @Test func parsesALargeAnswerInSmallChunksInLinearTime() {
        var answer = "Sure, here is the app.\n"
        var expected: [String] = []
        for n in 0..<30 {
            let body = (0..<200).map { "  const value\(n)_\($0) = `line ${\($0)}`; // </file> is not here\n" }.joined()
            answer += "<file path=\"src/components/C\(n).jsx\">\n\(body)</file>\n"
            expected.append("src/components/C\(n).jsx")
        }
        #expect(answer.utf8.count > 200_000)
        let bytes = Array(answer.utf8)
        var chunks: [String] = []
        var start = 0
        while start < bytes.count {
            let end = min(start + 20, bytes.count)
            chunks.append(String(decoding: bytes[start..<end], as: UTF8.self))
            start = end
        }
        let clock = ContinuousClock()
        var parser = FileStreamParser()
        let elapsed = clock.measure {
            for chunk in chunks { _ = parser.feed(chunk) }
            _ = parser.finish()
        }
        #expect(parser.files.map(\.path) == expected)
        #expect(parser.files.allSatisfy { $0.contents.utf8.count > 6000 })
        #expect(elapsed < .seconds(20), "took \(elapsed): quadratic rescanning takes minutes")
    }

    @Test func aVeryLongLineIsNotRescannedForEveryChunk() {
        let line = String(repeating: "x", count: 400_000)
        let clock = ContinuousClock()
        var parser = FileStreamParser()
        let elapsed = clock.measure {
            _ = parser.feed("<file path=\"min.js\">\n")
            var index = line.startIndex
            while index < line.endIndex {
                let next = line.index(index, offsetBy: 20, limitedBy: line.endIndex) ?? line.endIndex
                _ = parser.feed(String(line[index..<next]))
                index = next
            }
            _ = parser.feed("\n</file>\n")
        }
        #expect(parser.files.first?.contents.utf8.count == 400_001)
        #expect(elapsed < .seconds(20), "took \(elapsed): quadratic rescanning takes minutes")
    }
}
