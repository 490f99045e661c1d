import Foundation
import Protocol
import Testing

@testable import Generation
import VectortCore

@Suite("Validators of generated app files")
struct ValidatorTests {
    @Test func jsonWithCommentsIsAllowedOnlyWhereItsToolsAcceptThem() {
        let lenient = [
            "tsconfig.json", "TSConfig.base.json", "app/jsconfig.json", ".eslintrc.json", ".devcontainer/devcontainer.json",
            ".vscode/settings.json", "web/.vscode/launch.json", "a/.ESLINTRC.JSON",
        ]
        let strict = ["package.json", "data/items.json", "vscode/settings.json", "my.vscode/a.json", "config/eslintrc.json"]
        for path in lenient + ["é/tsconfig"] { #expect(JSONChecker.allowsComments(path: path), "\(path)") }
        for path in strict { #expect(!JSONChecker.allowsComments(path: path), "\(path)") }
    }

    static let indexHTML = """
        <!doctype html>
        <html lang="en">
          <head>
            <meta charset="UTF-8" />
            <link rel="icon" type="image/svg+xml" href="/vite.svg" />
            <meta name="viewport" content="width=device-width, initial-scale=1.0">
            <title>Todo</title>
          </head>
          <body>
            <div id="root"></div>
            <script type="module" src="/src/main.jsx"></script>
          </body>
        </html>
        """

    static let packageJSON = """
        {
          "name": "todo",
          "private": true,
          "type": "module",
          "scripts": { "dev": "vite", "build": "vite build", "preview": "vite preview" },
          "dependencies": { "react": "^18.3.1", "react-dom": "^18.3.1" },
          "devDependencies": { "@vitejs/plugin-react": "^4.3.1", "vite": "^5.4.0" }
        }
        """

    static let mainJSX = """
        import React from 'react';
        import ReactDOM from 'react-dom/client';
        import App from './App';
        import './index.css';

        ReactDOM.createRoot(document.getElementById('root')).render(<App />);
        """

    static let appJSX = """
        import { useState } from 'react';
        import TodoItem from './components/TodoItem.jsx';

        const pattern = /^[a-z'"({]+$/i;

        export default function App() {
          const [items, setItems] = useState([]);
          const half = items.length / 2;
          const label = `You have ${items.length} ${items.length === 1 ? 'item' : `items (${half} done)`}`;
          return (
            <main className="app">
              <h1>Don't forget</h1>
              <p>It's "quoted" text with an apostrophe</p>
              {/* a comment with ( and ' */}
              <ul>
                {items.map((item) => (
                  <TodoItem key={item.id} item={item} onToggle={() => setItems(items.filter((i) => i.id !== item.id))} />
                ))}
              </ul>
              <footer title="a > b">{label}</footer>
            </main>
          );
        }
        """

    static let todoItem = """
        export default function TodoItem({ item, onToggle }) {
          return <li onClick={onToggle}>{item.text}</li>;
        }
        """

    static let indexCSS = """
        @import url("https://fonts.googleapis.com/css2?family=Inter&display=swap");
        @import './theme.css';
        /* base */
        body { background: url(data:image/png;base64,iVBOR//w0KGgo=); font-family: 'Inter', sans-serif; }
        a[href^="http"]::after { content: "\\2197"; }
        """

    static let viteApp: [ProjectFile] = [
        ProjectFile(path: "index.html", contents: indexHTML),
        ProjectFile(path: "package.json", contents: packageJSON),
        ProjectFile(path: "vite.config.js", contents: "import { defineConfig } from 'vite';\nimport react from '@vitejs/plugin-react';\nexport default defineConfig({ plugins: [react()] });\n"),
        ProjectFile(path: "src/main.jsx", contents: mainJSX),
        ProjectFile(path: "src/App.jsx", contents: appJSX),
        ProjectFile(path: "src/components/TodoItem.jsx", contents: todoItem),
        ProjectFile(path: "src/index.css", contents: indexCSS),
        ProjectFile(path: "src/theme.css", contents: ":root { --accent: #4f46e5; }\n"),
        ProjectFile(path: "README.md", contents: "# Todo\n\n```bash\nnpm run dev\n```\n"),
    ]

    static func replacing(_ path: String, with contents: String?, in files: [ProjectFile] = viteApp) -> [ProjectFile] {
        var files = files.filter { $0.path != path }
        if let contents { files.append(ProjectFile(path: path, contents: contents)) }
        return files
    }

    static func issues(_ files: [ProjectFile], rule: String) -> [ValidationIssue] {
        Validators.validate(files).filter { $0.rule == rule }
    }

    static func html(_ contents: String) -> [ValidationIssue] {
        issues([ProjectFile(path: "index.html", contents: contents)], rule: "html_structure")
    }

    // MARK: A whole app

    @Test func pathsThatCannotAllBeFilesAreAPathConflict() {
        let files = [
            ProjectFile(path: "index.html", contents: "<p>hi</p>"),
            ProjectFile(path: "caf\u{E9}.txt", contents: "composed"),
            ProjectFile(path: "cafe\u{301}.txt", contents: "decomposed"),
            ProjectFile(path: "lib", contents: "a file"),
            ProjectFile(path: "lib/util.js", contents: "export const x = 1;\n"),
        ]
        let conflicts = Validators.validate(files).filter { $0.rule == Validators.Rule.pathConflict }
        #expect(conflicts.count == 2, "\(conflicts)")
        #expect(conflicts.contains { $0.message.contains("Unicode normalization") })
        #expect(conflicts.contains { $0.path == "lib" && $0.message.contains("lib/util.js") })
    }

    @Test func aWellFormedViteAppHasNoIssues() {
        #expect(Validators.validate(Self.viteApp) == [])
    }

    @Test func aStaticSiteHasNoIssues() {
        let files = [
            ProjectFile(
                path: "index.html",
                contents: """
                    <!DOCTYPE html>
                    <html>
                    <head><link rel="stylesheet" href="styles.css"><script src="app.js" defer></script></head>
                    <body>
                      <ul><li>one<li>two</ul>
                      <table><tr><td>a<td>b</table>
                      <p>para one<p>para two
                      <img src="missing-is-fine.png"><br>
                    </body>
                    </html>
                    """),
            ProjectFile(path: "styles.css", contents: "body { margin: 0 }\n"),
            ProjectFile(path: "app.js", contents: "document.querySelector('ul').addEventListener('click', (e) => console.log(e.target));\n"),
        ]
        #expect(Validators.validate(files) == [])
    }

    // MARK: json_syntax

    @Test func reportsBrokenJSONWithItsLine() {
        let issues = Self.issues([ProjectFile(path: "data/items.json", contents: "{\n  \"a\": 1,\n  \"b\": [1, 2,]\n}\n")], rule: "json_syntax")
        #expect(issues.count == 1)
        #expect(issues.first?.path == "data/items.json")
        #expect(issues.first?.line == 3)
    }

    @Test(arguments: [
        ("{\"a\": 1", "truncated object"), ("{'a': 1}", "single quotes"), ("[1, 2] 3", "trailing value"), ("", "empty"),
        ("{\"a\": \"line\nbreak\"}", "raw newline in string"), ("{\"a\": 01}", "leading zero"), ("// c\n{}", "comment"),
        ("{\"a\": tru}", "bad literal"), ("{\"a\" 1}", "missing colon"), ("{\"a\": 1,}", "trailing comma in object"),
    ])
    func rejectsInvalidJSON(_ json: String, _ why: String) {
        #expect(JSONChecker.check(json) != nil, "\(why)")
        #expect(Self.issues([ProjectFile(path: "x.json", contents: json)], rule: "json_syntax").count == 1, "\(why)")
    }

    @Test(arguments: ["{}", "[]", "\u{FEFF}{\"bom\": 1}", "  {\"a\": [1, -2.5e3, true, false, null, \"\\u00e9\\n\"]}\n", "\"just a string\"", "0"])
    func acceptsValidJSON(_ json: String) {
        #expect(JSONChecker.check(json) == nil)
    }

    @Test func acceptsCommentsAndTrailingCommasInTsconfigOnly() {
        let jsonc = "{\n  // Bundler mode\n  \"compilerOptions\": { \"strict\": true, /* x */ },\n}\n"
        #expect(Self.issues([ProjectFile(path: "tsconfig.json", contents: jsonc)], rule: "json_syntax") == [])
        #expect(Self.issues([ProjectFile(path: "tsconfig.node.json", contents: jsonc)], rule: "json_syntax") == [])
        #expect(Self.issues([ProjectFile(path: "config.json", contents: jsonc)], rule: "json_syntax").count == 1)
    }

    // MARK: package_json

    @Test func packageJSONNeedsANameAndScripts() {
        let noName = Self.replacing("package.json", with: "{\"scripts\": {\"dev\": \"vite\"}, \"devDependencies\": {\"vite\": \"5\"}}")
        #expect(Self.issues(noName, rule: "package_json").map(\.message) == ["\"name\" must be a string"])
        let noScripts = Self.replacing("package.json", with: "{\"name\": \"x\", \"scripts\": [\"dev\"]}")
        #expect(Self.issues(noScripts, rule: "package_json").map(\.message) == ["\"scripts\" must be an object"])
        let array = Self.replacing("package.json", with: "[]")
        #expect(Self.issues(array, rule: "package_json").count == 1)
        #expect(Self.issues(Self.viteApp, rule: "package_json") == [])
    }

    @Test func brokenPackageJSONIsASyntaxIssueOnly() {
        let files = Self.replacing("package.json", with: "{\"name\": \"x\",")
        #expect(Self.issues(files, rule: "json_syntax").count == 1)
        #expect(Self.issues(files, rule: "package_json").isEmpty)
    }

    // MARK: html_structure

    @Test func acceptsFragmentsVoidElementsAndOptionalEndTags() {
        #expect(Self.html("<div class=\"card\"><img src=a.png alt='x'><br/><input disabled></div>\n<p>one<p>two") == [])
        #expect(Self.html("<svg viewBox=\"0 0 10 10\"><path d=\"M0 0L10 10\"/><circle r=\"1\" /></svg>") == [])
        #expect(Self.html("<select><option>a<option>b</select><dl><dt>t<dd>d</dl>") == [])
        #expect(Self.html("<!-- note --><p>a < b and 1<2</p><script>if (a < b && c > d) { x('</div>') }</script>") == [])
    }

    @Test func reportsAnUnclosedElementAtTheEnd() {
        let issues = Self.html("<body>\n<div id=\"app\">\n<section>\n</div>\n</body>")
        #expect(issues.map(\.line) == [3])
        #expect(issues.first?.message.contains("<section>") == true)
    }

    @Test func reportsTruncatedDocuments() {
        let cut = Self.html("<!doctype html>\n<html>\n<body>\n<div>\n<p>Hello</p>\n")
        #expect(cut.contains { $0.message.contains("<div>") })
        #expect(cut.contains { $0.message.contains("</html>") })
        #expect(Self.html("<html><body><div class=\"a").count == 1)
        #expect(Self.html("<html><body><img src=\"a.png\"").count == 1)
        #expect(Self.html("<div>\n<!-- never closed\n</div>").first?.line == 2)
        #expect(Self.html("<script>\nconst a = 1;\n").first?.message.contains("</script>") == true)
        #expect(Self.html("<html><body><p>ok</p></body>") == [], "</html> may be omitted after </body>")
    }

    @Test func reportsStrayAndMisnestedEndTags() {
        #expect(Self.html("<div></div></div>").map(\.message) == ["</div> at line 1 closes no open element"])
        #expect(Self.html("<div><span>text</div>").count == 1)
        #expect(Self.html("<p>a</p></p><br></br>") == [])
    }

    @Test func reportsAnEmptyDocument() {
        #expect(Self.html(" \n ").count == 1)
    }

    // MARK: import_resolution

    @Test func resolvesHTMLScriptAndStylesheetReferences() {
        let page = """
            <link rel="stylesheet" href="css/site.css">
            <link rel="stylesheet" href="https://cdn.example.com/x.css">
            <link rel="icon" href="/favicon.ico">
            <link rel="stylesheet" href="/missing.css">
            <script src="js/app.js"></script>
            <script src="//cdn.example.com/lib.js"></script>
            <script src="/logo-loader.js"></script>
            <script src="data:text/javascript,1"></script>
            <a href="#top">top</a>
            """
        let files = [
            ProjectFile(path: "index.html", contents: page), ProjectFile(path: "css/site.css", contents: ""),
            ProjectFile(path: "js/app.js", contents: ""), ProjectFile(path: "public/logo-loader.js", contents: ""),
        ]
        let issues = Self.issues(files, rule: "import_resolution")
        #expect(issues.map(\.line) == [4])
        #expect(issues.first?.message.contains("/missing.css") == true)
    }

    @Test func resolvesRelativeHTMLReferencesFromTheDocumentsDirectory() {
        let files = [
            ProjectFile(path: "docs/page.html", contents: "<script src=\"app.js\"></script><script src=\"../shared.js\"></script>"),
            ProjectFile(path: "docs/app.js", contents: ""),
        ]
        let issues = Self.issues(files, rule: "import_resolution")
        #expect(issues.map(\.message) == ["<script src=\"../shared.js\"> matches no generated file (looked for shared.js)"])
    }

    // MARK: entry_point

    @Test func acceptsTheKnownEntryPoints() {
        let plain = [ProjectFile(path: "index.html", contents: "<p>hi</p>")]
        #expect(Self.issues(plain, rule: "entry_point") == [])
        let node = [
            ProjectFile(path: "package.json", contents: "{\"name\": \"x\", \"scripts\": {}}"), ProjectFile(path: "src/index.tsx", contents: ""),
        ]
        #expect(Self.issues(node, rule: "entry_point") == [])
        let next = [
            ProjectFile(path: "package.json", contents: "{\"name\": \"x\", \"scripts\": {}, \"dependencies\": {\"next\": \"14\"}}"),
            ProjectFile(path: "app/page.tsx", contents: ""),
        ]
        #expect(Self.issues(next, rule: "entry_point") == [])
    }

    @Test func reportsAMissingEntryPoint() {
        let issues = Self.issues([ProjectFile(path: "src/App.jsx", contents: "")], rule: "entry_point")
        #expect(issues.count == 1)
        #expect(issues.first?.path == nil)
        let packageOnly = [ProjectFile(path: "package.json", contents: "{\"name\": \"x\", \"scripts\": {}}"), ProjectFile(path: "src/App.jsx", contents: "")]
        #expect(Self.issues(packageOnly, rule: "entry_point").count == 1)
        #expect(Self.issues([ProjectFile(path: "public/index.html", contents: "<p>x</p>")], rule: "entry_point").count == 1)
    }

    @Test func aViteAppNeedsARootIndexHTMLLoadingAModule() {
        let noIndex = Self.replacing("index.html", with: nil)
        #expect(Self.issues(noIndex, rule: "entry_point").map(\.path) == ["index.html"])
        let noModule = Self.replacing("index.html", with: "<html><body><div id=\"root\"></div></body></html>")
        #expect(Self.issues(noModule, rule: "entry_point").count == 1)
    }

    // MARK: Ordering and summary

    @Test func sortsIssuesByPathThenLine() {
        let files = [
            ProjectFile(path: "b.html", contents: "<div>\n<span>\n"),
            ProjectFile(path: "a.json", contents: "{"),
        ]
        let issues = Validators.validate(files)
        #expect(issues.map(\.path) == [nil, "a.json", "b.html", "b.html"])
        let lines = issues.filter { $0.path == "b.html" }.compactMap(\.line)
        #expect(lines == lines.sorted())
    }

    @Test func summarizesOneLinePerIssueCapped() {
        let issues = (1...50).map { (n: Int) in ValidationIssue(path: "src/a.js", rule: "lexical", message: "problem \(n)", line: n) }
            + [ValidationIssue(path: nil, rule: "entry_point", message: "no entry point")]
        let summary = Validators.summary(issues)
        let lines = summary.split(separator: "\n")
        #expect(lines.count == 41)
        #expect(lines.first == "- src/a.js:1: problem 1 [lexical]")
        #expect(lines.last == "- … and 11 more problems")
        #expect(Validators.summary([issues[50]]) == "- (project): no entry point [entry_point]")
        #expect(Validators.summary([]) == "No problems found.")
    }

    @Test func issuesAreCodable() throws {
        let issue = ValidationIssue(path: "a.js", rule: "lexical", message: "m", line: 3)
        let decoded = try JSONDecoder().decode(ValidationIssue.self, from: JSONEncoder().encode(issue))
        #expect(decoded == issue)
    }
}

@Suite("Whose fault a validation issue is")
struct RequestFaultTests {
    @Test func packagesAndEntryPointsAreTheRequestsBrokenCodeIsTheProviders() {
        func issue(_ rule: String, _ message: String) -> ValidationIssue {
            ValidationIssue(path: "src/App.jsx", rule: rule, message: message, line: 1)
        }
        #expect(Validators.isRequestsFault(issue("build", #"Could not resolve "lodash""#)))
        #expect(Validators.isRequestsFault(issue("build", #"Could not resolve "@tanstack/react-query""#)))
        #expect(!Validators.isRequestsFault(issue("build", #"Could not resolve "./Missing""#)))
        #expect(!Validators.isRequestsFault(issue("build", "Expected \";\" but found \"}\"")))
        #expect(Validators.isRequestsFault(issue(Validators.Rule.entryPoint, "unsupported framework (next)")))
        #expect(Validators.isRequestsFault(issue("limits", "too many files")))
        #expect(!Validators.isRequestsFault(issue(Validators.Rule.jsonSyntax, "unexpected end")))
        #expect(!Validators.isRequestsFault(issue("render", "ReferenceError: x is not defined")))
    }
}
