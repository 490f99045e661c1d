import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Protocol
import Testing
import VectortTesting

private let chromiumInstalled = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].contains { FileManager.default.isExecutableFile(atPath: $0) }

extension DaemonSuite {
    @Suite("previews of generated apps on their own origin")
    struct WebPreviewDaemonTests {
        /// GET without following redirects.
        static func get(_ url: String) async throws -> (status: Int, headers: HTTPHeaders, body: String) {
            var request = HTTPClientRequest(url: url)
            request.method = .GET
            let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))
            do {
                let response = try await client.execute(request, timeout: .seconds(30))
                let body = String(buffer: try await response.body.collect(upTo: 16 << 20))
                try await client.shutdown()
                return (Int(response.status.code), response.headers, body)
            } catch {
                try? await client.shutdown()
                throw error
            }
        }

        @Test func aGeneratedAppIsServedOnThePreviewOriginAndRendersInChromium() async throws {
            let api = try await WebAPI.start()
            let (_, token) = try await api.signUp("pia-\(UUID().uuidString.prefix(6))@example.com")
            let project = try #require(try await api.call(.POST, "/api/projects", ["title": "Yoga"], token: token).json["id"]?.stringValue)
            let generated = try await api.call(
                .POST, "/api/projects/\(project)/generate", ["prompt": "a website for my yoga studio"], token: token)
            #expect(generated.status == 200, "\(generated.json)")
            let shown = try await api.call(.GET, "/api/projects/\(project)", token: token)
            let preview = try #require(shown.json["preview_url"]?.stringValue)
            let info = try await api.client.call(MethodName.getInfo)
            #expect(preview.hasPrefix("http://" + (info["listeners"]?["preview"]?.stringValue ?? "?") + "/p/"))
            #expect(!preview.contains(project), "the URL is a capability, not the project id")
            let listed = try await api.call(.GET, "/api/projects", token: token)
            #expect(listed.json["projects"]?.arrayValue?.first?["preview_url"]?.stringValue == preview)

            let page = try await Self.get(preview)
            #expect(page.status == 200)
            #expect(page.headers.first(name: "Content-Type") == "text/html; charset=utf-8")
            let csp = try #require(page.headers.first(name: "Content-Security-Policy"))
            #expect(csp.hasPrefix("default-src 'self'; script-src 'self'"), "\(csp)")
            #expect(page.headers.first(name: "Referrer-Policy") == "no-referrer")
            #expect(page.headers["Set-Cookie"].isEmpty, "the preview origin sets no cookie")
            let script = try #require(
                page.body.range(of: #"src="[^"]+\.js""#, options: .regularExpression).map { String(page.body[$0]) }, "\(page.body)")
            var scriptPath = String(script.dropFirst(#"src=""#.count).dropLast())
            while scriptPath.hasPrefix(".") || scriptPath.hasPrefix("/") { scriptPath.removeFirst() }
            let asset = try await Self.get(preview + scriptPath)
            #expect(asset.status == 200 && asset.headers.first(name: "Content-Type") == "text/javascript; charset=utf-8")

            let trimmed = String(preview.dropLast())
            let redirect = try await Self.get(trimmed)
            #expect(redirect.status == 301 && redirect.headers.first(name: "Location")?.hasSuffix("/") == true)
            #expect(try await Self.get(preview + "about/team").body == page.body, "client-side routes get the page")
            #expect(try await Self.get(preview + "v/1/").status == 200)
            #expect(try await Self.get(preview + "v/9/").status == 404)
            #expect(try await Self.get(preview + "missing.png").status == 404)

            try #require(chromiumInstalled, "the Debian package chromium is missing (make test installs it)")
            do {
                let directory = try TemporaryDirectory(prefix: "vtprev")
                let run = try await runCommand(
                    ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }!,
                    [
                        "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                        "--disable-extensions", "--disable-background-networking", "--disable-component-update",
                        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", "--enable-logging=stderr", "--v=0",
                        "--user-data-dir=" + directory.file("profile"), "--virtual-time-budget=3000", "--dump-dom", preview,
                    ],
                    environment: ["PATH": "/usr/bin:/bin", "HOME": directory.path, "XDG_CONFIG_HOME": directory.file("config"),
                                  "XDG_CACHE_HOME": directory.file("cache")])
                #expect(run.status == 0, "\(run.stderr)")
                let console = run.stderr.split(separator: "\n").filter { $0.contains(":CONSOLE") }
                #expect(console.isEmpty, "console output:\n\(console.joined(separator: "\n"))")
                #expect(run.stdout.contains("<h1"), "React rendered the app: \(run.stdout.prefix(400))")
                #expect(!run.stderr.contains("Content Security Policy"), "the CSP blocked something: \(run.stderr)")
            }

            // Rotating the token ends the old URL.
            let rotated = try await api.call(.POST, "/api/projects/\(project)/preview/rotate", token: token)
            let fresh = try #require(rotated.json["preview_url"]?.stringValue)
            #expect(fresh != preview)
            #expect(try await Self.get(preview).status == 404)
            #expect(try await Self.get(fresh).status == 200)
        }

        @Test func aVersionThatDidNotBuildShowsItsErrors() async throws {
            let api = try await WebAPI.start()
            let (_, token) = try await api.signUp("bo-\(UUID().uuidString.prefix(6))@example.com")
            let project = try #require(try await api.call(.POST, "/api/projects", ["title": "Broken"], token: token).json["id"]?.stringValue)
            _ = try await api.client.call(
                MethodName.projectsImportFiles,
                [
                    "project": .string(project),
                    "files": [
                        "index.html": #"<!doctype html><html><body><div id="root"></div><script type="module" src="/src/main.jsx"></script></body></html>"#,
                        "src/main.jsx": "export default function App() { return <h1>{</h1> }\n",
                    ],
                ])
            let preview = try #require(try await api.call(.GET, "/api/projects/\(project)", token: token).json["preview_url"]?.stringValue)
            let page = try await Self.get(preview)
            #expect(page.status == 200)
            #expect(page.body.contains("This version did not build"), "\(page.body)")
            #expect(page.body.contains("src/main.jsx"))
            #expect(!page.body.contains("<h1>{</h1>"), "the source is escaped, never rendered")
        }
    }
}
