import Build
import Foundation
import Protocol
import Testing
import VectortTesting

@testable import Engine

private let esbuildInstalled = BuildSettings().resolvedEsbuild() != nil
    && FileManager.default.fileExists(atPath: "/usr/share/nodejs/react")

/// Generation with the build in the pipeline: what does not build is repaired once, and never
/// stored or charged.
@Suite("Generation pipeline with builds", .serialized, .enabled(if: esbuildInstalled))
struct BuildPipelineTests {
    static let app: [ProjectFile] = [
        ProjectFile(path: "package.json", contents: #"{"name":"soap","private":true,"scripts":{"dev":"vite","build":"vite build"},"dependencies":{"react":"^18.2.0","react-dom":"^18.2.0"},"devDependencies":{"vite":"^5.0.0","@vitejs/plugin-react":"^4.0.0"}}"#),
        ProjectFile(path: "index.html", contents: """
            <!DOCTYPE html>
            <html lang="en">
            <head><meta charset="utf-8"><title>Soap Shop</title></head>
            <body><div id="root"></div><script type="module" src="/src/main.jsx"></script></body>
            </html>

            """),
        ProjectFile(path: "src/main.jsx", contents: """
            import React from 'react'
            import { createRoot } from 'react-dom/client'
            import App from './App.jsx'

            createRoot(document.getElementById('root')).render(<App />)

            """),
        ProjectFile(path: "src/App.jsx", contents: "export default function App() {\n  return <h1>Soap Shop</h1>\n}\n"),
    ]

    static var broken: [ProjectFile] {
        var files = app
        files[3] = ProjectFile(path: "src/App.jsx", contents: "export default function App() {\n  return <h1>{</h1>\n}\n")
        return files
    }

    func builder() throws -> SiteBuilder {
        var settings = BuildSettings()
        settings.scratchDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("vtpb-\(UUID().uuidString.prefix(8))").path
        return try SiteBuilder(settings: settings)
    }

    @Test(arguments: Backend.allCases) func anAnswerThatDoesNotBuildIsRepairedOnceThenStoredWithItsBuildAndChargedOnce(_ backend: Backend) async throws {
        let primary = ScriptedProvider(
            "primary", [.answer(SampleApp.answer(Self.broken)), .answer(SampleApp.answer([Self.app[3]]))])
        try await withPipeline([primary], builder: try builder(), on: backend) { h in
            let (user, project) = try await h.project()
            let result = try await h.generate(project)
            #expect(primary.calls == 2, "the answer and the repair")
            #expect(result.creditsCharged == 2)
            #expect(try await h.balance(user) == 8)
            let build = try #require(result.build)
            #expect(build.status == .ok)
            #expect(build.files.contains { $0.path == "index.html" })
            #expect(try await h.engine.versions.build(project: project, owner: user).status == .ok)
            let site = try await h.engine.versions.builtCode(project: project, owner: user, path: "index.html")
            #expect(site.files.first?.contents.contains("./main-") == true)
        }
    }

    @Test(arguments: Backend.allCases) func anAnswerThatStillDoesNotBuildIsNotStoredNorCharged(_ backend: Backend) async throws {
        let primary = ScriptedProvider(
            "primary", [.answer(SampleApp.answer(Self.broken)), .answer(SampleApp.answer([Self.broken[3]]))])
        try await withPipeline([primary], builder: try builder(), on: backend) { h in
            let (user, project) = try await h.project()
            let error = await expectEngineError(.generationFailed) { try await h.generate(project) }
            #expect(error?.details["reason"] == .string("invalid_output"))
            guard case .array(let issues)? = error?.details["issues"] else {
                Issue.record("no issues in \(String(describing: error))")
                return
            }
            let buildIssue = issues.first { $0["rule"] == .string("build") }
            #expect(buildIssue?["path"] == .string("src/App.jsx"))
            #expect(buildIssue?["line"] == .int(2))
            #expect(buildIssue?["column"] != nil)
            #expect(try await h.balance(user) == 10)
            #expect(try await h.engine.versions.list(project: project, owner: user).versions.isEmpty)
            let records = try await h.pipeline.store.list(project: project, owner: user)
            #expect(records.generations.first?.status == .failed)
        }
    }
}
