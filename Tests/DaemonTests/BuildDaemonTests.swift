import Foundation
import Protocol
import Testing
import VectortTesting

extension DaemonSuite {
    /// Builds through the daemon: an imported Vite app becomes a static site, read back through
    /// GetBuild, GetCode with `built` and the CLI; builds off or esbuild missing.
    @Suite("Builds through the daemon")
    struct BuildDaemonTests {
        static let files: [String: JSONValue] = [
            "package.json": #"{"name":"soap","private":true,"dependencies":{"react":"^18.2.0","react-dom":"^18.2.0"},"devDependencies":{"vite":"^5.0.0"}}"#,
            "index.html": #"<!doctype html><html><head><title>Soap</title></head><body><div id="root"></div><script type="module" src="/src/main.jsx"></script></body></html>"#,
            "src/main.jsx": "import { createRoot } from 'react-dom/client'\nimport App from './App.jsx'\nimport './app.css'\ncreateRoot(document.getElementById('root')).render(<App />)\n",
            "src/App.jsx": "export default function App() { return <h1>Soap Shop</h1> }\n",
            "src/app.css": "h1 { color: teal }\n",
        ]

        static func importApp(_ client: AsyncVectortClient, files: [String: JSONValue] = files) async throws -> String {
            let user = try await client.call(MethodName.usersCreate, ["email": .string("b\(UUID().uuidString.prefix(6))@example.com")])
            let project = try await client.call(MethodName.projectsCreate, ["user": try #require(user["id"]), "title": "Soap"])
            let id = try #require(project["id"]?.stringValue)
            _ = try await client.call(MethodName.projectsImportFiles, ["project": .string(id), "files": .object(files)])
            return id
        }

        @Test func anImportedViteAppIsBuiltAndItsSiteReadBack() async throws {
            let daemon = try await DaemonProcess()
            let client = try await daemon.connect()
            let project = try await Self.importApp(client)
            let build = try await client.call(MethodName.projectsGetBuild, ["project": .string(project)])
            #expect(build["status"] == "ok", "\(build)")
            let info = try await client.call(MethodName.getInfo)
            #expect(info["builds"]?["enabled"] == true)
            #expect(info["builds"]?["esbuild"]?.stringValue?.hasSuffix("esbuild") == true)
            let paths = build["files"]?.arrayValue?.compactMap { $0["path"]?.stringValue } ?? []
            #expect(paths.contains("index.html"))
            #expect(paths.contains { $0.hasPrefix("main-") && $0.hasSuffix(".css") })
            let site = try await client.call(
                MethodName.projectsGetCode, ["project": .string(project), "built": true, "path": "index.html"])
            let page = site["files"]?.arrayValue?.first?["contents"]?.stringValue ?? ""
            #expect(page.contains(#"<script type="module" crossorigin src="./main-"#))

            // The CLI writes the site out, and a rebuild of a built version changes nothing.
            let output = try TemporaryDirectory(prefix: "vtsite")
            let environment = ["PATH": "/usr/bin:/bin", "VECTORTD_SOCKET": daemon.socketPath]
            let written = try await runCommand(
                Binaries.vectortctl, ["code", project, "--built", "-o", output.file("site")], environment: environment)
            #expect(written.status == 0, "\(written.stderr)")
            #expect(FileManager.default.fileExists(atPath: output.file("site/index.html")))
            let shown = try await runCommand(Binaries.vectortctl, ["build", project], environment: environment)
            #expect(shown.status == 0)
            #expect(shown.stdout.contains("ok in"))
        }

        @Test func aVersionThatDoesNotBuildIsStoredWithItsErrors() async throws {
            let daemon = try await DaemonProcess()
            let client = try await daemon.connect()
            var files = Self.files
            files["src/App.jsx"] = "export default function App() {\n  return <h1>{</h1>\n}\n"
            let project = try await Self.importApp(client, files: files)
            let build = try await client.call(MethodName.projectsGetBuild, ["project": .string(project)])
            #expect(build["status"] == "failed")
            let error = build["errors"]?.arrayValue?.first
            #expect(error?["path"] == "src/App.jsx")
            #expect(error?["line"] == 2)
            await #expect {
                _ = try await client.call(MethodName.projectsGetCode, ["project": .string(project), "built": true])
            } throws: { ($0 as? VectortClientError)?.remoteError?.name == .conflict }
            let environment = ["PATH": "/usr/bin:/bin", "VECTORTD_SOCKET": daemon.socketPath]
            let shown = try await runCommand(Binaries.vectortctl, ["build", project], environment: environment)
            #expect(shown.status == 1)
            #expect(shown.stdout.contains("src/App.jsx:2:"))
        }

        @Test func withBuildsOffVersionsAreSkippedAndBuildLaterOnDemand() async throws {
            let directory = try TemporaryDirectory(prefix: "vtboff")
            var options = DaemonProcess.Options()
            options.config = "build:\n  enabled: false\n  esbuild_path: /nonexistent/esbuild\n"
            var project = ""
            do {
                let daemon = try await DaemonProcess(options, in: directory)
                let client = try await daemon.connect()
                project = try await Self.importApp(client)
                let build = try await client.call(MethodName.projectsGetBuild, ["project": .string(project)])
                #expect(build["status"] == "skipped")
                let info = try await client.call(MethodName.getInfo)
                #expect(info["builds"]?["enabled"] == false)
                daemon.signal(SIGTERM)
                _ = await daemon.waitForExit()
            }
            // Builds on again: Projects.Build builds the skipped version and stores the result.
            let daemon = try await DaemonProcess(in: directory)
            let client = try await daemon.connect()
            let built = try await client.call(MethodName.projectsBuild, ["project": .string(project)])
            #expect(built["status"] == "ok")
            let again = try await client.call(MethodName.projectsGetBuild, ["project": .string(project)])
            #expect(again["status"] == "ok")
        }

        @Test func esbuildMissingStopsTheStartWithOneLine() async throws {
            var options = DaemonProcess.Options()
            options.config = "build:\n  esbuild_path: /nonexistent/esbuild\n"
            let daemon = try await DaemonProcess(options)
            #expect(await daemon.waitForExit(timeout: .seconds(20)) == 1)
            #expect(daemon.output.contains("esbuild not found"), "\(daemon.output)")
            let check = try await runCommand(
                Binaries.vectortd, ["--check-config", "--config", try TemporaryDirectory(prefix: "vtc").write("c.yaml", options.config!)],
                environment: ["PATH": "/usr/bin:/bin"])
            #expect(check.status == 1)
            #expect(check.stderr.split(separator: "\n").count == 1, "one clear line: \(check.stderr)")
        }

        @Test func aGeneratedThirtyFileReactAppIsBuiltBeforeItIsStored() async throws {
            let key = "sk-test-\(UUID().uuidString.prefix(12))"
            try await withFakeLLMServer(.openai, apiKey: key) { fake in
                let app = SampleApps.vite(files: 30)
                let answer = "Here is the shop.\n" + app.map { "<file path=\"\($0.path)\">\n\($0.contents)</file>\n" }.joined()
                fake.setDefaultScript(.answer(answer, chunkSize: 512))
                var options = DaemonProcess.Options()
                options.config = """
                    generation:
                      chain: [openai]
                    providers:
                      openai:
                        base_url: "\(fake.baseURL)"

                    """
                options.credentials = ["openai-api-key": key]
                let daemon = try await DaemonProcess(options)
                let client = try await daemon.connect()
                let user = try await client.call(MethodName.usersCreate, ["email": "react@example.com"])
                let project = try await client.call(MethodName.projectsCreate, ["user": try #require(user["id"]), "title": "Soap"])
                let result = try await client.call(
                    MethodName.projectsGenerate,
                    ["user": try #require(user["id"]), "project": try #require(project["id"]), "prompt": "a soap shop in React"],
                    timeout: 60)
                #expect(result["files"]?.arrayValue?.count == 30)
                #expect(result["build"]?["status"] == "ok", "\(result)")
                #expect(result["build"]?["files"]?.arrayValue?.contains { $0["path"] == "index.html" } == true)
                #expect(result["credits_charged"] == 2)
            }
        }
    }
}
