import Build
import Foundation
import Protocol
import Testing
import VectortTesting

private let esbuildInstalled = BuildSettings().resolvedEsbuild() != nil
    && FileManager.default.fileExists(atPath: "/usr/share/nodejs/react")

/// A generated React app is worth something only if it runs: a 30-file Vite app is built and
/// its site, served over HTTP from loopback (module scripts do not load from `file://`),
/// renders in headless Chromium with React, without a console error.
@Suite("Built React apps render in headless Chromium", .enabled(if: esbuildInstalled))
struct BuiltAppRenderTests {
    @Test func aThirtyFileReactAppBuildsAndRendersItsTitleAndComponents() async throws {
        let chromium = try Chromium.locate()
        var settings = BuildSettings()
        let directory = try TemporaryDirectory(prefix: "vt-built")
        settings.scratchDirectory = directory.file("scratch")
        let files = SampleApps.vite(files: 30, title: "Lavender Soap Co")
        #expect(files.count == 30)
        let site = try await SiteBuilder(settings: settings).build(files)
        #expect(site.status == .ok, "\(site.errors)")

        let served = site.files.map { file in
            file.path == "index.html" ? ProjectFile(path: file.path, contents: RenderCheck.inject(into: file.contents)) : file
        }
        let server = try await SiteServer.start(served)
        let page = try await chromium.dumpDOM(url: server.baseURL + "index.html", scratch: directory.file(".chromium"))
        try await server.shutdown()

        #expect(page.status == 0, "chromium exited with \(page.status)\n\(page.log)")
        #expect(page.consoleLines.isEmpty, "console output:\n\(page.consoleLines.joined(separator: "\n"))")
        #expect(page.probeErrors == nil, "errors seen by the probe: \(page.probeErrors ?? "")")
        #expect(page.dom.contains("<h1>Lavender Soap Co</h1>"), "React rendered the title")
        #expect(page.dom.components(separatedBy: #"class="card""#).count - 1 == 24, "every component rendered")
        #expect(server.requests.contains { $0.hasPrefix("main-") && $0.hasSuffix(".js") })
        #expect(server.requests.contains { $0.hasPrefix("main-") && $0.hasSuffix(".css") })
    }
}
