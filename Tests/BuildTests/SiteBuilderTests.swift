import Foundation
import Protocol
import Starters
import Generation
import Testing
import VectortTesting

@testable import Build

private let esbuildInstalled = BuildSettings().resolvedEsbuild() != nil
    && FileManager.default.fileExists(atPath: "/usr/share/nodejs/react")

/// Builds with Debian's esbuild and React, offline, in private scratch directories.
@Suite("SiteBuilder: versions built with esbuild", .serialized, .enabled(if: esbuildInstalled))
struct SiteBuilderTests {
    static let viteApp: [ProjectFile] = [
        ProjectFile(path: "package.json", contents: #"{"name":"soap","private":true,"scripts":{"dev":"vite"},"dependencies":{"react":"^18.2.0","react-dom":"^18.2.0"},"devDependencies":{"vite":"^5.0.0"}}"#),
        ProjectFile(path: "index.html", contents: """
            <!doctype html>
            <html lang="en">
              <head>
                <meta charset="UTF-8" />
                <link rel="icon" href="/favicon.svg" />
                <title>Soap Shop</title>
              </head>
              <body>
                <div id="root"></div>
                <script type="module" src="/src/main.jsx"></script>
              </body>
            </html>
            """),
        ProjectFile(path: "src/main.jsx", contents: """
            import React from 'react'
            import ReactDOM from 'react-dom/client'
            import App from './App.jsx'
            import './index.css'

            ReactDOM.createRoot(document.getElementById('root')).render(<React.StrictMode><App /></React.StrictMode>)
            """),
        ProjectFile(path: "src/App.jsx", contents: """
            import { useState } from 'react'
            import { Header } from '@/components/Header'
            import logo from './logo.svg'

            export default function App() {
              const [count, setCount] = useState(0)
              return (<main><Header /><img src={logo} alt="" /><button onClick={() => setCount(count + 1)}>{count}</button></main>)
            }
            """),
        ProjectFile(path: "src/components/Header.jsx", contents: "export function Header() { return <h1>Soap Shop</h1> }\n"),
        ProjectFile(path: "src/index.css", contents: "body { margin: 0; font-family: system-ui; }\nh1 { color: #333; }\n"),
        ProjectFile(path: "src/logo.svg", contents: #"<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"></svg>"#),
        ProjectFile(path: "public/favicon.svg", contents: #"<svg xmlns="http://www.w3.org/2000/svg"></svg>"#),
    ]

    func builder(_ change: (inout BuildSettings) -> Void = { _ in }) throws -> SiteBuilder {
        var settings = BuildSettings()
        settings.scratchDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("vtbuild-\(UUID().uuidString.prefix(8))").path
        change(&settings)
        return try SiteBuilder(settings: settings)
    }

    @Test func aViteReactAppBuildsIntoAStaticSite() async throws {
        let builder = try builder()
        let site = try await builder.build(Self.viteApp)
        #expect(site.status == .ok, "\(site.errors)")
        let paths = site.files.map(\.path)
        #expect(paths.contains("index.html"))
        #expect(paths.contains("favicon.svg"), "public/ is the site's root")
        let js = try #require(paths.first { $0.hasPrefix("main-") && $0.hasSuffix(".js") })
        let css = try #require(paths.first { $0.hasPrefix("main-") && $0.hasSuffix(".css") })
        #expect(paths.contains(js + ".map"))
        #expect(paths.contains { $0.hasPrefix("logo-") && $0.hasSuffix(".svg") })
        let page = try #require(site.files.first { $0.path == "index.html" }?.contents)
        #expect(page.contains(#"src="./\#(js)""#))
        #expect(page.contains(#"href="./\#(css)""#))
        #expect(page.contains(#"href="./favicon.svg""#), "root-relative URLs become relative")
        #expect(!page.contains("/src/main.jsx"))
        let bundle = try #require(site.files.first { $0.path == js }?.contents)
        #expect(bundle.contains("Soap Shop"))
        #expect(!bundle.contains("process.env.NODE_ENV"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: builder.settings.scratchDirectory).isEmpty, "scratch removed")
    }

    @Test func aSyntaxErrorIsABuildIssueWithFileLineAndColumn() async throws {
        var files = Self.viteApp
        files[4] = ProjectFile(path: "src/components/Header.jsx", contents: "export function Header() {\n  return <h1>{</h1>\n}\n")
        let site = try await builder().build(files)
        #expect(site.status == .failed)
        let error = try #require(site.errors.first)
        #expect(error.rule == "build")
        #expect(error.path == "src/components/Header.jsx")
        #expect(error.line == 2)
        #expect(error.column != nil)
    }

    @Test func anUnknownPackageIsANamedBuildError() async throws {
        var files = Self.viteApp
        files[4] = ProjectFile(path: "src/components/Header.jsx", contents: "import _ from 'lodash'\nexport function Header() { return <h1>{_.upperCase('x')}</h1> }\n")
        let site = try await builder().build(files)
        #expect(site.status == .failed)
        #expect(site.errors.contains { $0.message.contains("lodash") && $0.path == "src/components/Header.jsx" })
    }

    @Test func withTheCDNModeUnknownPackagesAndReactComeFromAnImportMap() async throws {
        var files = Self.viteApp
        files[4] = ProjectFile(path: "src/components/Header.jsx", contents: "import confetti from 'canvas-confetti'\nexport function Header() { return <h1 onClick={() => confetti()}>Soap Shop</h1> }\n")
        let site = try await builder { $0.externalPackages = .cdn }.build(files)
        #expect(site.status == .ok, "\(site.errors)")
        let page = try #require(site.files.first { $0.path == "index.html" }?.contents)
        #expect(page.contains(#"<script type="importmap">"#))
        #expect(page.contains(#""canvas-confetti":"https://esm.sh/canvas-confetti?external=react,react-dom""#))
        #expect(page.contains(#""react":"https://esm.sh/react@18.2.0""#))
        let bundle = try #require(site.files.first { $0.path.hasPrefix("main-") && $0.path.hasSuffix(".js") }?.contents)
        #expect(bundle.contains("canvas-confetti"), "left as an import")
    }

    @Test func importsThatReachOutsideTheProjectAreRefusedBeforeEsbuildRuns() async throws {
        for specifier in ["/etc/passwd", "../../../../etc/hostname", "file:///etc/passwd"] {
            var files = Self.viteApp
            files[4] = ProjectFile(path: "src/components/Header.jsx", contents: "import secret from '\(specifier)'\nexport function Header() { return <h1>{secret}</h1> }\n")
            let site = try await builder().build(files)
            #expect(site.status == .failed, "\(specifier)")
            #expect(site.errors.first?.path == "src/components/Header.jsx")
        }
        // A stylesheet's url() cannot climb out either.
        var files = Self.viteApp
        files[5] = ProjectFile(path: "src/index.css", contents: "body { background: url(../../../../etc/hostname.png) }\n")
        #expect(try await builder().build(files).status == .failed)
        // An absolute URL esbuild would resolve on the machine: the metafile check refuses the
        // build, and nothing of the file comes back.
        let secret = try TemporaryDirectory(prefix: "vtsecret")
        let png = try secret.write("secret.png", "not for the site")
        files[5] = ProjectFile(path: "src/index.css", contents: "body { background: url(\(png)) }\n")
        let site = try await builder().build(files)
        #expect(site.status == .failed)
        #expect(site.files.isEmpty)
        #expect(site.errors.first?.message.contains("outside") == true, "\(site.errors)")
    }

    @Test func everyStarterBuildsAsAStaticSite() async throws {
        let builder = try builder()
        for prompt in ["an online shop for soap", "a personal blog", "a todo list", "a landing page for a bakery", "an admin dashboard"] {
            let (template, files) = TemplateProvider.files(for: AppBrief(prompt: prompt, title: "Test"))
            let site = try await builder.build(files)
            #expect(site.status == .ok, "\(template): \(site.errors)")
            #expect(site.files.map(\.path).sorted() == files.map(\.path).sorted())
        }
    }

    @Test func aStaticSiteWithABrokenScriptFails() async throws {
        var (_, files) = TemplateProvider.files(for: AppBrief(prompt: "a todo list", title: "Todo"))
        let index = try #require(files.firstIndex { $0.path == "app.js" })
        files[index] = ProjectFile(path: "app.js", contents: "function broken( {\n")
        let site = try await builder().build(files)
        #expect(site.status == .failed)
        #expect(site.errors.first?.path == "app.js")
    }

    @Test func theCreateReactAppShapeBuilds() async throws {
        let files = [
            ProjectFile(path: "package.json", contents: #"{"name":"cra","private":true,"dependencies":{"react":"^18.2.0","react-dom":"^18.2.0","react-scripts":"5.0.1"},"scripts":{"start":"react-scripts start"}}"#),
            ProjectFile(path: "public/index.html", contents: #"<!DOCTYPE html><html><head><link rel="icon" href="%PUBLIC_URL%/favicon.ico"><title>CRA</title></head><body><div id="root"></div></body></html>"#),
            ProjectFile(path: "public/favicon.ico", bytes: [0, 0, 1, 0, 1, 0]),
            ProjectFile(path: "src/index.js", contents: "import React from 'react'\nimport ReactDOM from 'react-dom/client'\nimport App from './App'\nReactDOM.createRoot(document.getElementById('root')).render(<App />)\n"),
            ProjectFile(path: "src/App.js", contents: "export default function App() { return <h1>CRA</h1> }\n"),
        ]
        let site = try await builder().build(files)
        #expect(site.status == .ok, "\(site.errors)")
        let paths = site.files.map(\.path)
        #expect(paths.contains("favicon.ico"))
        #expect(!paths.contains("public/index.html"))
        let page = try #require(site.files.first { $0.path == "index.html" }?.contents)
        #expect(page.contains(#"<script type="module" crossorigin src="./index-"#), "the entry the page did not name")
        #expect(page.contains(#"href="./favicon.ico""#))
    }

    @Test func entryPointProblemsAreNamed() async throws {
        let builder = try builder()
        let none = try await builder.build([ProjectFile(path: "src/main.jsx", contents: "console.log(1)")])
        #expect(none.errors.first?.rule == "entry_point")
        let next = try await builder.build(
            Self.viteApp + [ProjectFile(path: "pages/index.js", contents: "")].map { $0 }
                .map { $0 } + [])
        #expect(next.status == .ok)
        var nextApp = Self.viteApp
        nextApp[0] = ProjectFile(path: "package.json", contents: #"{"name":"x","dependencies":{"next":"14.0.0"}}"#)
        let framework = try await builder.build(nextApp)
        #expect(framework.errors.first?.rule == "entry_point")
        #expect(framework.errors.first?.message.contains("unsupported framework") == true)
        var inline = Self.viteApp
        inline[1] = ProjectFile(path: "index.html", contents: "<script type=\"module\">import x from './x.js'</script>")
        #expect(try await builder.build(inline).errors.first?.rule == "entry_point")
    }

    @Test func aBuildPastItsDeadlineIsStoppedAndItsScratchRemoved() async throws {
        let directory = try TemporaryDirectory(prefix: "vtfake")
        let fake = try directory.write("esbuild", "#!/bin/sh\nsleep 600\n", mode: 0o755)
        let builder = try builder {
            $0.esbuildPath = fake
            $0.timeout = .milliseconds(300)
        }
        let clock = ContinuousClock()
        let started = clock.now
        let site = try await builder.build(Self.viteApp)
        // Killed at the deadline, not after the fake's 600 s (generous: the machine may be busy).
        #expect(clock.now - started < .seconds(120))
        #expect(site.status == .failed)
        #expect(site.errors.first?.message.contains("build.timeout_seconds") == true)
        #expect(try FileManager.default.contentsOfDirectory(atPath: builder.settings.scratchDirectory).isEmpty)
    }

    @Test func aBuildThatWritesTooMuchIsCut() async throws {
        let directory = try TemporaryDirectory(prefix: "vtfake")
        let fake = try directory.write("esbuild", "#!/bin/sh\nhead -c 100000000 /dev/zero\n", mode: 0o755)
        let builder = try builder {
            $0.esbuildPath = fake
            $0.maxOutputBytes = 1024 * 1024
        }
        let site = try await builder.build(Self.viteApp)
        #expect(site.status == .failed)
        #expect(site.errors.first?.message.contains("build.max_output_bytes") == true)
    }

    @Test func esbuildMissingIsAClearError() throws {
        #expect(throws: SiteBuilder.Unavailable.self) {
            try SiteBuilder(settings: { var s = BuildSettings(); s.esbuildPath = "/nonexistent/esbuild"; return s }())
        }
        let off = try SiteBuilder(settings: { var s = BuildSettings(); s.enabled = false; s.esbuildPath = "/nonexistent"; return s }())
        #expect(off.settings.enabled == false)
    }
}

private let chromiumInstalled = BuildSettings().resolvedChromium() != nil

/// The render check, with Debian's Chromium: at most two launches.
@Suite("SiteBuilder: the render check", .serialized, .enabled(if: esbuildInstalled && chromiumInstalled))
struct RenderCheckTests {
    func builder() throws -> SiteBuilder {
        var settings = BuildSettings()
        settings.scratchDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("vtrender-\(UUID().uuidString.prefix(8))").path
        settings.renderCheck = true
        settings.renderSeconds = 1
        return try SiteBuilder(settings: settings)
    }

    @Test func aSiteThatRendersPassesAndOneThatThrowsFailsWithTheError() async throws {
        let builder = try builder()
        let good = try await builder.build(SiteBuilderTests.viteApp)
        #expect(good.status == .ok, "\(good.errors)")

        var files = SiteBuilderTests.viteApp
        files[4] = ProjectFile(
            path: "src/components/Header.jsx",
            contents: "export function Header() { throw new Error('header exploded') }\n")
        let broken = try await builder.build(files)
        #expect(broken.status == .failed)
        #expect(broken.errors.contains { $0.rule == "render" && $0.message.contains("header exploded") }, "\(broken.errors)")
    }
}

@Suite("EsbuildMessages: esbuild's errors as issues")
struct EsbuildMessagesTests {
    @Test func errorBlocksBecomeIssuesWithOneBasedColumns() {
        let output = """
            ✘ [ERROR] Expected identifier but found "}"

                src/App.jsx:1:46:
                  1 │ export default function App() { return <div>{}</div> }
                    ╵                                               ^

            ▲ [WARNING] Something harmless

                src/x.js:3:0:
                  3 │ x
                    ╵ ^

            ✘ [ERROR] Could not resolve "lodash"

                src/util.js:1:14:
                  1 │ import _ from 'lodash'
                    ╵               ~~~~~~~~

            2 errors
            """
        let issues = EsbuildMessages.errors(output)
        #expect(issues == [
            GenerationIssue(path: "src/App.jsx", rule: "build", message: #"Expected identifier but found "}""#, line: 1, column: 47),
            GenerationIssue(path: "src/util.js", rule: "build", message: #"Could not resolve "lodash""#, line: 1, column: 15),
        ])
    }
}

@Suite("BuildPlan: entries from the page")
struct BuildPlanTests {
    @Test func aViteAppIsABundleOfItsModuleScript() {
        #expect(BuildPlan.make(SiteBuilderTests.viteApp) == .plan(BuildPlan(kind: .bundle(entry: "src/main.jsx"), page: "index.html", stylesheets: [])))
    }
}
