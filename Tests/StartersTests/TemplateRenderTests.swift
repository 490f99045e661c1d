import Build
import Foundation
import Protocol
import Testing
import VectortTesting

@testable import Starters
@testable import Generation
import VectortCore

/// Each starter app is opened from disk in headless Chromium (Debian package `chromium`, which
/// `make test` installs). Console errors are caught two ways: a probe script injected at the top
/// of `<head>` records error events (uncaught exceptions, failed loads of scripts, styles and
/// images), unhandled rejections and `console.error` calls in an attribute of `<html>`, which
/// `--dump-dom` prints; and Chromium's own log on stderr, where every console message appears as
/// a `CONSOLE` line with the full text (the probe sees only "Script error." for a `file://`
/// script). The starters log nothing, so any `CONSOLE` line fails the test.
@Suite("Starter apps render in headless Chromium from file:// without console errors")
struct TemplateRenderTests {
    struct RenderCase: Sendable, CustomTestStringConvertible {
        let kind: StarterKind
        let brief: AppBrief
        /// Appended to the file URL (a blog route).
        let fragment: String
        /// Markup that only app.js creates: its presence proves the script ran.
        let rendered: [String]
        let label: String
        var testDescription: String { label }
    }

    static let hostileTitle = #"</script><b>"x" & 'y'"#

    static let cases: [RenderCase] = [
        RenderCase(
            kind: .landing, brief: AppBrief(prompt: "a website for my yoga studio", title: "Sunrise Yoga"),
            fragment: "", rendered: [#"class="card feature""#, #"class="question""#], label: "landing"),
        RenderCase(
            kind: .todo, brief: AppBrief(prompt: "a todo app for garden chores", title: "Garden Jobs"),
            fragment: "", rendered: [#"class="task-item"#, "Gather what garden chores needs"], label: "todo"),
        RenderCase(
            kind: .blog, brief: AppBrief(prompt: "a blog about sourdough baking", title: "Crumb"),
            fragment: "", rendered: [#"class="post-card""#, "Getting started with sourdough baking"], label: "blog"),
        RenderCase(
            kind: .blog, brief: AppBrief(prompt: "a blog about sourdough baking", title: "Crumb"),
            fragment: "#/post/five-things-i-learned-about-sourdough-baking",
            rendered: [#"<article class="post">"#, "<h1>Five things I learned about sourdough baking</h1>"],
            label: "blog post page"),
        RenderCase(
            kind: .shop, brief: AppBrief(prompt: "an e-commerce site for handmade soap", title: "Soap Works"),
            fragment: "", rendered: [#"class="card product-card""#, "Classic Handmade Soap"], label: "shop"),
        RenderCase(
            kind: .dashboard, brief: AppBrief(prompt: "an analytics dashboard for my bakery", title: "Bakery Metrics"),
            fragment: "", rendered: [#"class="card stat-card""#, "<polyline", "Bakery order #"], label: "dashboard"),
    ]

    /// Every starter with a title that would break out of HTML, JavaScript and JSON if it were
    /// not escaped; it must show up as text.
    static let hostileCases: [RenderCase] = StarterKind.allCases.map { kind in
        RenderCase(
            kind: kind, brief: AppBrief(prompt: "an app for </script><b>it</b>", title: hostileTitle, description: "'; alert(1); //"),
            fragment: "", rendered: [#"&lt;/script&gt;&lt;b&gt;"x" &amp; 'y'"#], label: "\(kind.rawValue) with a hostile title")
    }

    @Test(arguments: cases + hostileCases)
    func rendersWithoutConsoleErrors(_ render: RenderCase) async throws {
        let chromium = try Chromium.locate()
        let directory = try TemporaryDirectory(prefix: "vt-render")
        for file in StarterTemplates.files(render.kind, for: render.brief) {
            let contents = file.path == "index.html" ? RenderCheck.inject(into: file.contents) : file.contents
            try directory.write(file.path, contents)
        }
        let page = try await chromium.dumpDOM(
            url: "file://" + directory.file("index.html") + render.fragment, scratch: directory.file(".chromium"))

        #expect(page.status == 0, "chromium exited with \(page.status)\n\(page.log)")
        #expect(page.consoleLines.isEmpty, "console output:\n\(page.consoleLines.joined(separator: "\n"))")
        #expect(page.probeErrors == nil, "errors seen by the probe: \(page.probeErrors ?? "")")
        #expect(!page.bodyText.isEmpty, "the body is empty")
        for markup in render.rendered {
            let found = page.dom.contains(markup)
            #expect(found, "the page after scripts ran lacks \(markup)")
        }
        let injected = page.dom.contains("<b>")
        #expect(!injected, "markup from the brief reached the DOM")
    }

    /// The probe and the log catch a broken script, a missing file and a failed network load.
    @Test func aBrokenStarterFailsTheCheck() async throws {
        let chromium = try Chromium.locate()
        let directory = try TemporaryDirectory(prefix: "vt-render")
        for file in StarterTemplates.files(.todo, for: AppBrief(prompt: "a todo app", title: "Broken")) {
            switch file.path {
            case "index.html":
                let index = file.contents.replacingOccurrences(
                    of: "</head>", with: "  <link rel=\"stylesheet\" href=\"missing.css\">\n</head>")
                try directory.write(file.path, RenderCheck.inject(into: index))
            case "app.js":
                try directory.write(file.path, file.contents + "\nthrow new Error(\"deliberately broken\");\n")
            default:
                try directory.write(file.path, file.contents)
            }
        }
        let page = try await chromium.dumpDOM(
            url: "file://" + directory.file("index.html"), scratch: directory.file(".chromium"))
        #expect(page.consoleLines.contains { $0.contains("Uncaught Error: deliberately broken") }, "\(page.log)")
        let probeErrors = try #require(page.probeErrors)
        #expect(probeErrors.contains("missing.css"))
        #expect(probeErrors.contains("Script error") || probeErrors.contains("deliberately broken"))
    }
}

/// Headless Chromium, run once per page with its own profile.
struct Chromium {
    let executable: String

    struct NotInstalled: Error, CustomStringConvertible {
        var description: String {
            "chromium is not on PATH: install the Debian package `chromium` (`make test` installs it, "
                + "or run `apt-get install chromium`)"
        }
    }

    static func locate() throws -> Chromium {
        guard let found = BuildSettings().resolvedChromium() else { throw NotInstalled() }
        return Chromium(executable: found)
    }

    struct Page {
        var status: Int32
        /// The document after its scripts ran, as `--dump-dom` prints it.
        var dom: String
        /// Chromium's stderr.
        var log: String

        /// Console messages from the log: `[…:INFO:CONSOLE:3] "Uncaught Error: …", source: file:///…/app.js (3)`.
        var consoleLines: [String] {
            log.split(separator: "\n").filter { $0.contains(":CONSOLE") }.map(String.init)
        }

        /// What the probe recorded (HTML-escaped JSON), or nil when it recorded nothing.
        var probeErrors: String? {
            guard let start = dom.range(of: RenderCheck.attribute + "=\"") else { return nil }
            let rest = dom[start.upperBound...]
            return String(rest[..<(rest.firstIndex(of: "\"") ?? rest.endIndex)])
        }

        /// The text of `<body>` without tags and scripts, trimmed.
        var bodyText: String {
            guard let open = dom.range(of: "<body"), let close = dom.range(of: "</body>", options: .backwards) else { return "" }
            var text = ""
            var inTag = false
            for character in dom[open.lowerBound..<close.lowerBound] {
                if character == "<" { inTag = true } else if character == ">" { inTag = false } else if !inTag { text.append(character) }
            }
            return text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    /// Loads the page, lets timers run for up to two seconds of virtual time, and prints the DOM.
    /// Host names resolve nowhere, so any network request fails and is reported.
    func dumpDOM(url: String, scratch: String, timeout: Duration = .seconds(30)) async throws -> Page {
        await ChromiumSlots.shared.acquire()
        do {
            let page = try await run(url: url, scratch: scratch, timeout: timeout)
            await ChromiumSlots.shared.release()
            return page
        } catch {
            await ChromiumSlots.shared.release()
            throw error
        }
    }

    private func run(url: String, scratch: String, timeout: Duration) async throws -> Page {
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        let stdoutPath = scratch + "/stdout"
        let stderrPath = scratch + "/stderr"
        let arguments = [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--mute-audio", "--disable-breakpad",
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            "--enable-logging=stderr", "--v=0",
            "--user-data-dir=" + scratch + "/profile",
            "--virtual-time-budget=2000",
            "--dump-dom", url,
        ]
        let environment = [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
            "HOME": scratch,
            "XDG_CONFIG_HOME": scratch + "/config",
            "XDG_CACHE_HOME": scratch + "/cache",
        ]
        let process = try await ChildProcess.start(
            executable, arguments, environment: environment, outputPath: stdoutPath, errorPath: stderrPath)
        if await process.waitForExit(timeout: timeout) == nil {
            process.signal(SIGKILL)
            _ = await process.waitForExit()
            let log = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
            Issue.record("chromium did not finish within \(timeout)\n\(log)")
        }
        let page = Page(
            status: process.terminationStatus ?? -1,
            dom: (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "",
            log: (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "")
        try await Self.remove(scratch)
        return page
    }

    /// Chromium's crash handler can outlive the browser for a moment and still write its
    /// directory, so removal is retried briefly.
    private static func remove(_ scratch: String) async throws {
        for _ in 0..<50 {
            if (try? FileManager.default.removeItem(atPath: scratch)) != nil
                || !FileManager.default.fileExists(atPath: scratch)
            {
                return
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}

/// Parallel test cases share the machine: a few browsers at a time finish sooner, and each well
/// within its timeout, than a dozen started at once.
actor ChromiumSlots {
    static let shared = ChromiumSlots(limit: 3)

    private var available: Int
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(limit: Int) {
        available = limit
    }

    func acquire() async {
        if available > 0 {
            available -= 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    func release() {
        if waiting.isEmpty {
            available += 1
        } else {
            waiting.removeFirst().resume()
        }
    }
}
